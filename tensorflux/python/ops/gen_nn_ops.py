"""tensorflow.python.ops.gen_nn_ops: the ops registered in tensorflux/ops/nn_ops.py,
tensorflux/ops/conv_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/nn_ops',
    'ops/conv_ops',
    'ops/pool_argmax_ops',
])
