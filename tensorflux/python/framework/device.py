"""tensorflow.python.framework.device -> tensorflux.framework.device."""
from tensorflux.framework.device import *  # noqa: F401,F403
