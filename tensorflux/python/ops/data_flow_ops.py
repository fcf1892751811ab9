"""tensorflow.python.ops.data_flow_ops -> tensorflux.ops.data_flow_ops."""
from tensorflux.ops.data_flow_ops import *  # noqa: F401,F403
