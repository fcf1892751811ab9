"""tensorflow.python.platform.app -> tensorflux.platform.app."""
from tensorflux.platform.app import *  # noqa: F401,F403
