"""tensorflow.python.training.moving_averages -> tensorflux.training.moving_averages."""
from tensorflux.training.moving_averages import *  # noqa: F401,F403
