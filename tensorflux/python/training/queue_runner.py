"""tensorflow.python.training.queue_runner -> tensorflux.training.queue_runner."""
from tensorflux.training.queue_runner import *  # noqa: F401,F403
