"""tensorflow.python.training.training_ops -> tensorflux.training.training_ops."""
from tensorflux.training.training_ops import *  # noqa: F401,F403
