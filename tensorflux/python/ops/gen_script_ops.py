"""tensorflow.python.ops.gen_script_ops: the ops registered in tensorflux/ops/script_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/script_ops',
])
