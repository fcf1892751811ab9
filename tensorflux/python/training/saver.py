"""tensorflow.python.training.saver -> tensorflux.training.saver."""
from tensorflux.training.saver import *  # noqa: F401,F403
