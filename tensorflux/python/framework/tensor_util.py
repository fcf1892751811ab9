"""tensorflow.python.framework.tensor_util -> tensorflux.framework.tensor_util."""
from tensorflux.framework.tensor_util import *  # noqa: F401,F403
