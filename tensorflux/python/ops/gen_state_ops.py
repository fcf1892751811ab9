"""tensorflow.python.ops.gen_state_ops: the ops registered in tensorflux/ops/state_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/state_ops',
])
