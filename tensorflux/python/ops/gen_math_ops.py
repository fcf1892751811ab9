"""tensorflow.python.ops.gen_math_ops: the ops registered in tensorflux/ops/math_ops.py,
tensorflux/ops/reduction_ops.py, tensorflux/ops/linalg_ops.py, tensorflux/ops/segment_ops.py,
tensorflux/ops/special_math_ops.py, tensorflux/ops/complex_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/math_ops',
    'ops/reduction_ops',
    'ops/linalg_ops',
    'ops/segment_ops',
    'ops/special_math_ops',
    'ops/complex_ops',
    'ops/spectral_ops',
    'ops/numeric_ops',
])
