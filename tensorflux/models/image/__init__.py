"""TensorFlow tutorial model helpers for images."""
