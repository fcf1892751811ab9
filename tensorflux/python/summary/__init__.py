"""tensorflow.python.summary -> tf.summary (tensorflux/summary)."""
from tensorflux.summary import *  # noqa: F401,F403
