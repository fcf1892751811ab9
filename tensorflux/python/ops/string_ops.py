"""tensorflow.python.ops.string_ops -> tensorflux.ops.string_ops."""
from tensorflux.ops.string_ops import *  # noqa: F401,F403
