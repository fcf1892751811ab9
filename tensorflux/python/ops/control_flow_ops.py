"""tensorflow.python.ops.control_flow_ops -> tensorflux.ops.control_flow_ops."""
from tensorflux.ops.control_flow_ops import *  # noqa: F401,F403
