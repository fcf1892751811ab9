"""tensorflow.python.training.adadelta -> tensorflux.training.adadelta."""
from tensorflux.training.adadelta import *  # noqa: F401,F403
