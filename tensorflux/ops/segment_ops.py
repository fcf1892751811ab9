"""Segment reductions: UnsortedSegmentSum and SegmentSum (rows of data summed by segment id)."""
import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import row_sums

__all__ = ["unsorted_segment_sum", "segment_sum"]


# ---- UnsortedSegmentSum / SegmentSum ----------------------------------------------------------
UnsortedSegmentSum = registry.register_op(
    "UnsortedSegmentSum", inputs=["data: T", "segment_ids: Tindices", "num_segments: int32"],
    outputs=["output: T"], attrs={"T": common.NUMBERS, "Tindices": common.INDEX})


@UnsortedSegmentSum.shape
def _unsorted_segment_sum_shape(op):
    data, ids = op.inputs[0].get_shape(), op.inputs[1].get_shape()
    n = tensor_util.constant_value(op.inputs[2])
    if data.ndims is None or ids.ndims is None:
        return tensor_shape.unknown_shape()
    if not data[:ids.ndims].is_compatible_with(ids):
        raise ValueError(f"segment_ids shape {ids} must be a prefix of data shape {data}")
    return tensor_shape.TensorShape([None if n is None else int(n)]).concatenate(
        data[ids.ndims:])


@UnsortedSegmentSum.gradient
def _unsorted_segment_sum_grad(op, grad):
    return [array_ops.gather(grad, op.inputs[1]), None, None]


def _segment_sum_into(ctx, data, ids, n):
    if data.shape[:ids.ndim] != ids.shape:
        raise errors.InvalidArgumentError(None, ctx.op, f"segment_ids shape {ids.shape} must "
                                                        f"be a prefix of data shape {data.shape}")
    bad = np.flatnonzero(ids >= n)
    if bad.size:  # TF's wording names the first id out of range
        at = ",".join(str(i) for i in np.unravel_index(bad[0], ids.shape))
        raise errors.InvalidArgumentError(
            None, ctx.op, f"segment_ids[{at}] = {ids.flat[bad[0]]} is out of range [0, {n})")
    limits.check_allocation(ctx.op, (n,) + data.shape[ids.ndim:], data.dtype)
    out = np.zeros((n,) + data.shape[ids.ndim:], dtype=data.dtype)
    keep = ids >= 0  # TF drops negative ids
    if keep.all():
        row_sums.add_rows(out, ids, data)
    else:
        row_sums.add_rows(out, ids[keep], data[keep])
    return out


@UnsortedSegmentSum.kernel("CPU")
def _unsorted_segment_sum_kernel(ctx, data, ids, n):
    n = common.scalar_int(ctx, n, "num_segments")
    if n < 0:
        raise errors.InvalidArgumentError(None, ctx.op, f"num_segments must be >= 0, got {n}")
    return _segment_sum_into(ctx, data, ids, n)


SegmentSum = registry.register_op("SegmentSum", inputs=["data: T", "segment_ids: Tindices"],
                                  outputs=["output: T"],
                                  attrs={"T": common.REALS, "Tindices": common.INDEX})


@SegmentSum.shape
def _segment_sum_shape(op):
    data = op.inputs[0].get_shape()
    op.inputs[1].get_shape().with_rank(1)
    ids = tensor_util.constant_value(op.inputs[1])
    n = None if ids is None else (int(np.max(ids)) + 1 if np.size(ids) else 0)
    if data.ndims is None:
        return tensor_shape.unknown_shape()
    return tensor_shape.TensorShape([n]).concatenate(data.with_rank_at_least(1)[1:])


SegmentSum.gradient(lambda op, grad: [array_ops.gather(grad, op.inputs[1]), None])


@SegmentSum.kernel("CPU")
def _segment_sum_kernel(ctx, data, ids):
    def fail(message):
        raise errors.InvalidArgumentError(None, ctx.op, message)
    if ids.ndim != 1:
        fail("segment_ids should be a vector.")
    if ids.size and ids[0] < 0:
        fail("segment ids must be >= 0")
    if np.any(np.diff(ids) < 0):
        fail("segment ids are not increasing")
    return _segment_sum_into(ctx, data, ids, int(ids[-1]) + 1 if ids.size else 0)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums rows of `data` into `num_segments` segments by (unsorted) `segment_ids`."""
    return apply_op("UnsortedSegmentSum", data, segment_ids, num_segments, name=name)


def segment_sum(data, segment_ids, name=None):
    """Sums rows of `data` sharing a (sorted) segment id."""
    return apply_op("SegmentSum", data, segment_ids, name=name)
