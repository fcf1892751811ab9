"""tensorflow.python.client.device_lib -> tensorflux.client.device_lib."""
from tensorflux.client.device_lib import *  # noqa: F401,F403
