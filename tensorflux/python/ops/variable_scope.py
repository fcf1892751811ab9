"""tensorflow.python.ops.variable_scope -> tensorflux.ops.variable_scope."""
from tensorflux.ops.variable_scope import *  # noqa: F401,F403
