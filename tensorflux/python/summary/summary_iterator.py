"""tensorflow.python.summary.summary_iterator -> tensorflux.summary.summary_iterator."""
from tensorflux.summary.summary_iterator import *  # noqa: F401,F403
