"""tensorflow.python.ops.clip_ops -> tensorflux.ops.clip_ops."""
from tensorflux.ops.clip_ops import *  # noqa: F401,F403
