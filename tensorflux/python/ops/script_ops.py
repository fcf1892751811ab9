"""tensorflow.python.ops.script_ops -> tensorflux.ops.script_ops."""
from tensorflux.ops.script_ops import *  # noqa: F401,F403
