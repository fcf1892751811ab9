"""TensorFlow import-path shims (tensorflow.python.*): re-exports only."""
