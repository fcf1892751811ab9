"""tensorflow.python.ops.variables -> tensorflux.ops.variables."""
from tensorflux.ops.variables import *  # noqa: F401,F403
