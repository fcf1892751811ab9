"""tensorflow.python.platform.flags -> tensorflux.platform.flags."""
from tensorflux.platform.flags import *  # noqa: F401,F403
