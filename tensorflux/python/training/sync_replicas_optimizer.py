"""tensorflow.python.training.sync_replicas_optimizer -> tensorflux.training.sync_replicas_optimizer."""
from tensorflux.training.sync_replicas_optimizer import *  # noqa: F401,F403
