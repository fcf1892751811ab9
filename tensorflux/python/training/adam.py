"""tensorflow.python.training.adam -> tensorflux.training.adam."""
from tensorflux.training.adam import *  # noqa: F401,F403
