"""tensorflow.python.ops.io_ops -> tensorflux.ops.io_ops, tensorflux.ops.reader_ops."""
from tensorflux.ops.io_ops import *  # noqa: F401,F403
from tensorflux.ops.reader_ops import *  # noqa: F401,F403
