"""tensorflow.python.ops.state_ops -> tensorflux.ops.state_ops."""
from tensorflux.ops.state_ops import *  # noqa: F401,F403
