"""tensorflow.python.ops.math_ops -> tensorflux.ops.math_ops, tensorflux.ops.reduction_ops,
tensorflux.ops.linalg_ops, tensorflux.ops.segment_ops, tensorflux.ops.special_math_ops,
tensorflux.ops.complex_ops."""
from tensorflux.ops.math_ops import *  # noqa: F401,F403
from tensorflux.ops.reduction_ops import *  # noqa: F401,F403
from tensorflux.ops.linalg_ops import *  # noqa: F401,F403
from tensorflux.ops.segment_ops import *  # noqa: F401,F403
from tensorflux.ops.special_math_ops import *  # noqa: F401,F403
from tensorflux.ops.complex_ops import *  # noqa: F401,F403
