"""tensorflow.python.training.sync_replicas_optimizer (re-export)."""
from tensorflux.training.sync_replicas_optimizer import *  # noqa: F401,F403
