"""tensorflow.python.training.checkpoint_state -> tensorflux.training.checkpoint_state."""
from tensorflux.training.checkpoint_state import *  # noqa: F401,F403
