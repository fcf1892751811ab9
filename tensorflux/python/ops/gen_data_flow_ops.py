"""tensorflow.python.ops.gen_data_flow_ops: the ops registered in tensorflux/ops/data_flow_ops.py,
tensorflux/ops/tensor_array_ops.py, tensorflux/ops/accumulator_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/data_flow_ops',
    'ops/tensor_array_ops',
    'ops/accumulator_ops',
])
