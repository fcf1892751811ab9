"""tensorflow.python.platform.googletest (what TF 0.9's own tests imported) -> tf.test."""
from tensorflux.platform.test import *  # noqa: F401,F403
