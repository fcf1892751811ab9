"""tensorflow.python.ops.gen_sparse_ops: the ops registered in
tensorflux/ops/sparse_serialization_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/sparse_serialization_ops',
])
