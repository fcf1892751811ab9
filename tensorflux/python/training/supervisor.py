"""tensorflow.python.training.supervisor -> tensorflux.training.supervisor."""
from tensorflux.training.supervisor import *  # noqa: F401,F403
