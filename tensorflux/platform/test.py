"""tf.test (being written)."""
