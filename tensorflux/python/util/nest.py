"""tensorflow.python.util.nest -> tensorflux.rnn.nest."""
from tensorflux.rnn.nest import *  # noqa: F401,F403
