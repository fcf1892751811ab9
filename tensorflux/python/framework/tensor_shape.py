"""tensorflow.python.framework.tensor_shape -> tensorflux.framework.tensor_shape."""
from tensorflux.framework.tensor_shape import *  # noqa: F401,F403
