"""Command-line tools: `python -m tensorflux.tools.inspect_checkpoint`."""
