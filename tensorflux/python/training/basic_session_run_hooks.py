"""tensorflow.python.training.basic_session_run_hooks (re-export)."""
from tensorflux.training.basic_session_run_hooks import *  # noqa: F401,F403
