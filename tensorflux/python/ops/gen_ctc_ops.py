"""tensorflow.python.ops.gen_ctc_ops: the ops registered in tensorflux/ops/ctc_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/ctc_ops',
])
