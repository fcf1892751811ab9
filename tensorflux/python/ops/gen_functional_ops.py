"""tensorflow.python.ops.gen_functional_ops: the ops registered in tensorflux/ops/function_ops.py
(SymbolicGradient)."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/function_ops',
])
