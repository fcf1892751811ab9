"""tf.contrib.ctc (TF 0.9-0.12) -> tensorflux.ops.ctc_ops."""
from tensorflux.ops.ctc_ops import *  # noqa: F401,F403
