"""tensorflow.python.ops.array_ops -> tensorflux.ops.array_ops, tensorflux.ops.joining_ops,
tensorflux.ops.slicing_ops, tensorflux.ops.indexing_ops, tensorflux.ops.constant_op."""
from tensorflux.ops.array_ops import *  # noqa: F401,F403
from tensorflux.ops.joining_ops import *  # noqa: F401,F403
from tensorflux.ops.slicing_ops import *  # noqa: F401,F403
from tensorflux.ops.indexing_ops import *  # noqa: F401,F403
from tensorflux.ops.constant_op import *  # noqa: F401,F403
