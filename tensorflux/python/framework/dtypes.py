"""tensorflow.python.framework.dtypes -> tensorflux.framework.dtypes."""
from tensorflux.framework.dtypes import *  # noqa: F401,F403
