"""tensorflow.python.training.slot_creator -> tensorflux.training.slot_creator."""
from tensorflux.training.slot_creator import *  # noqa: F401,F403
