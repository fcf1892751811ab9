"""tensorflow.python.training.ftrl -> tensorflux.training.ftrl."""
from tensorflux.training.ftrl import *  # noqa: F401,F403
