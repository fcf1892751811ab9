"""tensorflow.python.ops.sparse_ops -> tensorflux.ops.parsing_ops."""
from tensorflux.ops.parsing_ops import *  # noqa: F401,F403
