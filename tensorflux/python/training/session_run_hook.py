"""tensorflow.python.training.session_run_hook -> tensorflux.training.session_run_hook."""
from tensorflux.training.session_run_hook import *  # noqa: F401,F403
