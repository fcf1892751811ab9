"""tensorflow.python.training.monitored_session -> tensorflux.training.monitored_session."""
from tensorflux.training.monitored_session import *  # noqa: F401,F403
