"""tensorflow.python.ops.gen_random_ops: the ops registered in tensorflux/ops/random_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/random_ops',
])
