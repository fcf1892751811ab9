"""tensorflow.python.training.training_util -> tensorflux.training.training_util."""
from tensorflux.training.training_util import *  # noqa: F401,F403
