"""tensorflow.python.ops.gen_image_ops: the ops registered in tensorflux/ops/image_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/image_ops',
])
