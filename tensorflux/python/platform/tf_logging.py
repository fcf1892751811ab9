"""tensorflow.python.platform.tf_logging -> tensorflux.platform.tf_logging."""
from tensorflux.platform.tf_logging import *  # noqa: F401,F403
