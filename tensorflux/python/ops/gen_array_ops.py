"""tensorflow.python.ops.gen_array_ops: the ops registered in tensorflux/ops/array_ops.py,
tensorflux/ops/joining_ops.py, tensorflux/ops/slicing_ops.py, tensorflux/ops/indexing_ops.py,
tensorflux/ops/constant_op.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/array_ops',
    'ops/joining_ops',
    'ops/slicing_ops',
    'ops/indexing_ops',
    'ops/constant_op',
    'ops/matrix_diag_ops',
])
