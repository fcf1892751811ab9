"""TensorFlow tutorial model helpers for RNNs (PTB reader, translate data utilities)."""
