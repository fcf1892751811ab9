"""tensorflow.python.ops.gen_parsing_ops: the ops registered in tensorflux/ops/parsing_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/parsing_ops',
    'ops/sequence_parsing_ops',
])
