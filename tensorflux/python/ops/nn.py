"""tensorflow.python.ops.nn -> tensorflux.nn."""
from tensorflux.nn import *  # noqa: F401,F403
