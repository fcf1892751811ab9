"""tensorflow.python.ops.init_ops -> tensorflux.ops.init_ops."""
from tensorflux.ops.init_ops import *  # noqa: F401,F403
