"""tensorflow.python.training.input -> tensorflux.training.input."""
from tensorflux.training.input import *  # noqa: F401,F403
