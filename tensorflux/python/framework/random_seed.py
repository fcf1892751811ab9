"""tensorflow.python.framework.random_seed -> tensorflux.framework.random_seed."""
from tensorflux.framework.random_seed import *  # noqa: F401,F403
