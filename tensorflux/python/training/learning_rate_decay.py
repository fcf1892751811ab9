"""tensorflow.python.training.learning_rate_decay -> tensorflux.training.learning_rate_decay."""
from tensorflux.training.learning_rate_decay import *  # noqa: F401,F403
