"""tensorflow.python.training.session_manager -> tensorflux.training.session_manager."""
from tensorflux.training.session_manager import *  # noqa: F401,F403
