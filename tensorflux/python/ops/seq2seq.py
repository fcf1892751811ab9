"""tensorflow.python.ops.seq2seq -> tensorflux.nn.seq2seq."""
from tensorflux.nn.seq2seq import *  # noqa: F401,F403
