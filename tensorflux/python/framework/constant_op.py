"""tensorflow.python.framework.constant_op -> tensorflux.ops.constant_op."""
from tensorflux.ops.constant_op import *  # noqa: F401,F403
