"""tensorflow.python.training.device_setter -> tensorflux.training.device_setter."""
from tensorflux.training.device_setter import *  # noqa: F401,F403
