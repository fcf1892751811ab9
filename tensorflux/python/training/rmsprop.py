"""tensorflow.python.training.rmsprop -> tensorflux.training.rmsprop."""
from tensorflux.training.rmsprop import *  # noqa: F401,F403
