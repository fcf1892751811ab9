"""tensorflow.python.ops.ctc_ops -> tensorflux.ops.ctc_ops."""
from tensorflux.ops.ctc_ops import *  # noqa: F401,F403
