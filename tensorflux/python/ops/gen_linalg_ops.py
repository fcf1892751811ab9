"""tensorflow.python.ops.gen_linalg_ops: the ops registered in tensorflux/ops/linalg_solve_ops.py
and TF 0.9's Batch* op types in tensorflux/ops/batch_linalg_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/linalg_solve_ops',
    'ops/batch_linalg_ops',
])
