"""The translate tutorial's data utilities."""
