"""tensorflow.python.ops.partitioned_variables -> tensorflux.ops.partitioned_variables."""
from tensorflux.ops.partitioned_variables import *  # noqa: F401,F403
