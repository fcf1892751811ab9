"""tensorflow.python.ops.random_ops -> tensorflux.ops.random_ops."""
from tensorflux.ops.random_ops import *  # noqa: F401,F403
