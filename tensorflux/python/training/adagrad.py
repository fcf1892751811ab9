"""tensorflow.python.training.adagrad -> tensorflux.training.adagrad."""
from tensorflux.training.adagrad import *  # noqa: F401,F403
