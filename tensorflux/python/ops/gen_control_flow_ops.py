"""tensorflow.python.ops.gen_control_flow_ops: the ops registered in
tensorflux/ops/control_flow_primitives.py, tensorflux/ops/control_flow_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/control_flow_primitives',
    'ops/control_flow_ops',
])
