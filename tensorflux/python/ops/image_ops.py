"""tensorflow.python.ops.image_ops -> tensorflux.ops.image_ops."""
from tensorflux.ops.image_ops import *  # noqa: F401,F403
