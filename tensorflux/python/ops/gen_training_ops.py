"""tensorflow.python.ops.gen_training_ops: the ops registered in
tensorflux/training/training_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'training/training_ops',
])
