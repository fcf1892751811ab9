"""tensorflow.python.ops.summary_ops -> tensorflux.ops.summary_ops."""
from tensorflux.ops.summary_ops import *  # noqa: F401,F403
