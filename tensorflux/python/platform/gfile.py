"""tensorflow.python.platform.gfile -> tensorflux.platform.gfile."""
from tensorflux.platform.gfile import *  # noqa: F401,F403
