"""tensorflow.python.training.coordinator -> tensorflux.training.coordinator."""
from tensorflux.training.coordinator import *  # noqa: F401,F403
