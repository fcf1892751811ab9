"""tensorflow.python.training.momentum -> tensorflux.training.momentum."""
from tensorflux.training.momentum import *  # noqa: F401,F403
