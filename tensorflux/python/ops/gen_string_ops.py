"""tensorflow.python.ops.gen_string_ops: the ops registered in tensorflux/ops/string_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/string_ops',
])
