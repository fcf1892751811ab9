"""tensorflow.python.ops.gen_candidate_sampling_ops: the ops registered in
tensorflux/ops/candidate_sampling_ops.py."""
from tensorflux.python.ops import _gen_ops

__all__ = _gen_ops.export_ops(globals(), [
    'ops/candidate_sampling_ops',
])
