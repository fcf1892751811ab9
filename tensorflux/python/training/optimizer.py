"""tensorflow.python.training.optimizer -> tensorflux.training.optimizer."""
from tensorflux.training.optimizer import *  # noqa: F401,F403
