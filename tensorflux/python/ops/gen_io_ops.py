"""tensorflow.python.ops.gen_io_ops: the ops registered in tensorflux/ops/io_ops.py,
tensorflux/ops/io_v1_ops.py, tensorflux/ops/reader_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/io_ops',
    'ops/io_v1_ops',
    'ops/reader_ops',
    'ops/identity_reader_ops',
])
