"""tf.nn: neural-network ops and layers (re-exports only)."""
