"""tensorflow.python.ops.gen_logging_ops: the ops registered in tensorflux/ops/summary_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/summary_ops',
])
