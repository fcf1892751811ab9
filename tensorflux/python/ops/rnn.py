"""tensorflow.python.ops.rnn -> tensorflux.rnn.rnn."""
from tensorflux.rnn.rnn import *  # noqa: F401,F403
