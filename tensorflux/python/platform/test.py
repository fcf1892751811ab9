"""tensorflow.python.platform.test -> tensorflux.platform.test."""
from tensorflux.platform.test import *  # noqa: F401,F403
