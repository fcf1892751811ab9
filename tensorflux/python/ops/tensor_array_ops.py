"""tensorflow.python.ops.tensor_array_ops -> tensorflux.ops.tensor_array_ops."""
from tensorflux.ops.tensor_array_ops import *  # noqa: F401,F403
