"""tensorflow.python.training.gradient_descent -> tensorflux.training.gradient_descent."""
from tensorflux.training.gradient_descent import *  # noqa: F401,F403
