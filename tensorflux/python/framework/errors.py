"""tensorflow.python.framework.errors -> tensorflux.framework.errors."""
from tensorflux.framework.errors import *  # noqa: F401,F403
