"""Indexing ops: Gather/GatherV2, OneHot, Where, DynamicPartition/DynamicStitch, Unique, and
the composite boolean_mask.

Imported by array_ops, which re-exports every name here; ops from the sibling families are
reached through array_ops at call time.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops.array_ops import (
    _dense, _fold_by_kernel, _index_attr, _range, _shape_of, reshape, shape, size, squeeze,
    transpose)

__all__ = ["gather", "one_hot", "where", "dynamic_partition", "dynamic_stitch", "unique",
           "boolean_mask"]


# ---- Gather ---------------------------------------------------------------------------------
Gather = registry.register_op("Gather", inputs=["params: Tparams", "indices: Tindices"],
                              outputs=["output: Tparams"],
                              attrs={"validate_indices": True, "Tparams": "type",
                                     "Tindices": registry.Attr("type", allowed=common.INDEX)})


@Gather.shape
def _gather_shape(op):
    params = op.inputs[0].get_shape().with_rank_at_least(1)
    return op.inputs[1].get_shape().concatenate(params[1:])


@Gather.gradient
def _gather_grad(op, grad):
    params, indices = op.inputs
    static_params, static_indices = params.get_shape(), indices.get_shape()
    if static_params.is_fully_defined() and static_indices.is_fully_defined():
        count = static_indices.num_elements()
        values_shape = [count] + static_params.as_list()[1:]
        flat_indices = reshape(indices, [count])
    else:
        # [size(indices), params.shape[1:]...]
        params_shape = shape(params)
        values_shape = array_ops.concat([reshape(size(indices), [1]), params_shape[1:]], 0)
        flat_indices = reshape(indices, reshape(size(indices), [1]))
    values = reshape(_dense(grad), values_shape)
    return [ops.IndexedSlices(values, flat_indices, _shape_of(params)), None]


@Gather.kernel("CPU")
def _gather_kernel(ctx, params, indices):
    if np.ndim(params) < 1:
        raise errors.InvalidArgumentError(None, ctx.op, "params must be at least 1 dimensional")
    _check_indices(ctx, indices, np.shape(params)[0])
    if type(params) is np.ndarray:  # the method skips np.take's dispatch
        return params.take(indices, axis=0)
    return np.take(params, indices, axis=0)


def _check_indices(ctx, indices, limit):
    """TF's error naming the first index outside [0, limit)."""
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        where = np.argwhere((indices < 0) | (indices >= limit))[0]
        raise errors.InvalidArgumentError(
            None, ctx.op, f"indices[{','.join(str(int(i)) for i in where)}] = "
                          f"{indices[tuple(where)]} is not in [0, {limit})")


_fold_by_kernel("Gather")


GatherV2 = registry.register_op(
    "GatherV2", inputs=["params: Tparams", "indices: Tindices", "axis: Taxis"],
    outputs=["output: Tparams"],
    attrs={"Tparams": "type", "Tindices": registry.Attr("type", allowed=common.INDEX),
           "Taxis": registry.Attr("type", allowed=common.INDEX)})


@GatherV2.shape
def _gather_v2_shape(op):
    params, indices = op.inputs[0].get_shape(), op.inputs[1].get_shape()
    axis = tensor_util.constant_value(op.inputs[2])
    if params.ndims is None or indices.ndims is None or axis is None:
        return tensor_shape.unknown_shape()
    axis = common.normalize_axis(int(axis), params.ndims, "gather axis")
    return params[:axis].concatenate(indices).concatenate(params[axis + 1:])


@GatherV2.gradient
def _gather_v2_grad(op, grad):
    params, indices, axis_t = op.inputs
    axis = tensor_util.constant_value(axis_t)
    r, q = params.get_shape().ndims, indices.get_shape().ndims
    if axis is None or r is None or q is None:
        raise NotImplementedError("the gradient of GatherV2 needs static ranks and axis")
    axis = common.normalize_axis(int(axis), r)
    from tensorflux.ops import math_ops
    # grad: params[:axis] + indices + params[axis+1:] -> indices + params[:axis] + params[axis+1:]
    to_front = list(_range(axis, axis + q)) + list(_range(axis)) + list(_range(axis + q, r + q - 1))
    moved = transpose(_dense(grad), to_front)
    rows = reshape(moved, array_ops.concat([[-1], shape(moved)[q:]], 0))
    summed = math_ops.unsorted_segment_sum(rows, reshape(indices, [-1]), shape(params)[axis])
    from_front = list(_range(1, axis + 1)) + [0] + list(_range(axis + 1, r))
    return [transpose(summed, from_front), None, None]


@GatherV2.kernel("CPU")
def _gather_v2_kernel(ctx, params, indices, axis):
    axis = common.check_dimension(ctx, axis, np.ndim(params))
    _check_indices(ctx, indices, np.shape(params)[axis])
    return np.take(params, indices, axis=axis)


def gather(params, indices, validate_indices=None, name=None, axis=0):
    """Slices of `params` along `axis` (default 0) picked by `indices`: output shape
    params.shape[:axis] + indices.shape + params.shape[axis + 1:]."""
    if isinstance(axis, (int, np.integer)) and axis == 0:
        return apply_op("Gather", params, indices, name=name)
    return apply_op("GatherV2", params, indices, axis, name=name)


# ---- OneHot -----------------------------------------------------------------------------------
OneHot = registry.register_op(
    "OneHot", inputs=["indices: TI", "depth: int32", "on_value: T", "off_value: T"],
    outputs=["output: T"],
    attrs={"axis": -1, "TI": registry.Attr("type", dtypes.int64,
                                           allowed=(dtypes.uint8, dtypes.int32, dtypes.int64))})
OneHot.not_differentiable()


@OneHot.shape
def _one_hot_shape(op):
    in_shape = op.inputs[0].get_shape()
    depth = tensor_util.constant_value(op.inputs[1])
    depth = None if depth is None else int(depth)
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape()
    dims = in_shape.as_list()
    axis = op.get_attr("axis")
    if not -1 <= axis <= len(dims):
        raise ValueError(f"axis must be -1 or in [0, {len(dims)}], got {axis}")
    axis = len(dims) if axis == -1 else axis
    return tensor_shape.TensorShape(dims[:axis] + [depth] + dims[axis:])


@OneHot.kernel("CPU")
def _one_hot_kernel(ctx, indices, depth, on_value, off_value):
    depth = common.scalar_int(ctx, depth, "depth")
    if depth < 0:
        raise errors.InvalidArgumentError(None, ctx.op,
                                          f"depth must be non-negative, got: {depth}")
    axis = ctx.attrs["axis"] if ctx.attrs["axis"] != -1 else np.ndim(indices)
    out_shape = list(np.shape(indices))
    out_shape.insert(axis, depth)
    limits.check_allocation(ctx.op, out_shape, ctx.attrs["T"].as_numpy_dtype)
    if 0 in out_shape:  # nothing to compare: skip the [depth] positions a huge depth would need
        return np.zeros(out_shape, ctx.attrs["T"].as_numpy_dtype)
    positions = np.arange(depth).reshape([depth] + [1] * (np.ndim(indices) - axis))
    hot = np.expand_dims(indices, axis) == positions
    return np.where(hot, on_value, off_value).astype(ctx.attrs["T"].as_numpy_dtype)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors of length `depth` along `axis` (default last): on_value where the
    position equals the index, off_value elsewhere (default 1 and 0, float32)."""
    with ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value]) as scope:
        on = None if on_value is None else ops.convert_to_tensor(on_value, name="on_value")
        off = None if off_value is None else ops.convert_to_tensor(off_value, name="off_value")
        dtype = _one_hot_dtype(on, off, dtype)
        on = ops.convert_to_tensor(1, dtype=dtype) if on is None else on
        off = ops.convert_to_tensor(0, dtype=dtype) if off is None else off
        return apply_op("OneHot", indices, depth, on, off, axis=-1 if axis is None else axis,
                        name=scope)


def _one_hot_dtype(on, off, dtype):
    """The output type: `dtype`, else on_value's, else off_value's, else float32; TF's
    TypeError when the given ones disagree."""
    given = [(w, t.dtype.base_dtype) for w, t in (("on_value", on), ("off_value", off))
             if t is not None]
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        for which, value_dtype in given:
            if value_dtype != dtype:
                raise TypeError(f"dtype {value_dtype} of {which} does not match dtype "
                                f"parameter {dtype}")
    if len(given) == 2 and given[0][1] != given[1][1]:
        raise TypeError(f"dtype {given[0][1]} of on_value does not match dtype {given[1][1]} "
                        "of off_value")
    if dtype is not None:
        return dtype
    return given[0][1] if given else dtypes.float32


# ---- Where ----------------------------------------------------------------------------------
Where = registry.register_op("Where", inputs=["input: bool"], outputs=["index: int64"])
Where.not_differentiable()


@Where.shape
def _where_shape(op):  # the count stays unknown even for a constant input, as TF infers it
    return tensor_shape.TensorShape([None, op.inputs[0].get_shape().ndims])


@Where.kernel("CPU")
def _where_kernel(ctx, x):
    return np.argwhere(x).astype(np.int64)


def where(condition, x=None, y=None, name=None):
    """With one argument: the coordinates of true elements of `condition`, int64 [N, rank].
    With three: elements of `x` where `condition` is true, else of `y` (tf.select)."""
    if x is None and y is None:
        return apply_op("Where", condition, name=name)
    if x is None or y is None:
        raise ValueError("where needs both x and y, or neither; got only "
                         f"{'x' if y is None else 'y'}")
    from tensorflux.ops import math_ops
    return math_ops.select(condition, x, y, name=name)


# ---- DynamicPartition / DynamicStitch ----------------------------------------------------------
DynamicPartition = registry.register_op(
    "DynamicPartition", inputs=["data: T", "partitions: int32"],
    outputs=["outputs: num_partitions * T"], attrs={"num_partitions": "int"})


@DynamicPartition.shape
def _dynamic_partition_shape(op):
    data, parts = (t.get_shape() for t in op.inputs)
    num = op.get_attr("num_partitions")
    if data.ndims is None or parts.ndims is None:
        return [tensor_shape.unknown_shape()] * num
    if not data[:parts.ndims].is_compatible_with(parts):
        raise ValueError(f"partitions shape {parts} must be a prefix of data shape {data}")
    # the row counts stay unknown even for constant partitions, as TF infers them
    return [tensor_shape.TensorShape([None]).concatenate(data[parts.ndims:])] * num


@DynamicPartition.gradient
def _dynamic_partition_grad(op, *grads):
    data, parts = op.inputs
    # the position of every data row, partitioned as the data was, then stitched back
    positions = reshape(array_ops.range(size(parts)), shape(parts))
    partitioned = dynamic_partition(positions, parts, op.get_attr("num_partitions"))
    stitched = dynamic_stitch(partitioned, [_dense(g) for g in grads])
    return [reshape(stitched, _shape_of(data)), None]


@DynamicPartition.kernel("CPU")
def _dynamic_partition_kernel(ctx, data, parts):
    num = ctx.attrs["num_partitions"]
    if np.shape(data)[:np.ndim(parts)] != np.shape(parts):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"data.shape must start with partitions.shape, got data.shape = "
                          f"{common.shape_text(np.shape(data))}, partitions.shape = "
                          f"{common.shape_text(np.shape(parts))}")
    bad = np.flatnonzero((parts < 0) | (parts >= num))
    if bad.size:  # TF names the first bad index in row-major order
        raise errors.InvalidArgumentError(
            None, ctx.op, f"partitions{common.shape_text(np.unravel_index(bad[0], parts.shape))} = "
                          f"{parts.flat[bad[0]]} is not in [0, {num})")
    return [data[parts == i] for i in _range(num)]


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits `data` into `num_partitions` tensors by the partition index of each row."""
    return list(apply_op("DynamicPartition", data, partitions, num_partitions=num_partitions,
                         name=name))


DynamicStitch = registry.register_op("DynamicStitch",
                                     inputs=["indices: N * int32", "data: N * T"],
                                     outputs=["merged: T"], attrs={"N": "int"})


@DynamicStitch.shape
def _dynamic_stitch_shape(op):
    n = op.get_attr("N")
    indices, data = op.inputs[:n], op.inputs[n:]
    rest = tensor_shape.unknown_shape()
    for i, d in zip(indices, data):
        i_shape, d_shape = i.get_shape(), d.get_shape()
        if i_shape.ndims is not None and d_shape.ndims is not None:
            if not d_shape[:i_shape.ndims].is_compatible_with(i_shape):
                raise ValueError(f"data shape {d_shape} must start with indices shape {i_shape}")
            rest = rest.merge_with(d_shape[i_shape.ndims:])
    values = [tensor_util.constant_value(i) for i in indices]
    first = None
    if all(v is not None for v in values):
        first = 1 + max((int(v.max()) for v in values if v.size), default=-1)
    return tensor_shape.TensorShape([first]).concatenate(rest)


@DynamicStitch.gradient
def _dynamic_stitch_grad(op, grad):
    n = op.get_attr("N")
    grad = _dense(grad)
    return [None] * n + [gather(grad, i) for i in op.inputs[:n]]


@DynamicStitch.kernel("CPU")
def _dynamic_stitch_kernel(ctx, *args):
    n = ctx.attrs["N"]
    indices, data = args[:n], args[n:]
    rest = np.shape(data[0])[np.ndim(indices[0]):]
    first = 1 + max((int(i.max()) for i in indices if i.size), default=-1)
    limits.check_allocation(ctx.op, (first,) + rest, ctx.attrs["T"].as_numpy_dtype)
    merged = np.zeros((first,) + rest, dtype=ctx.attrs["T"].as_numpy_dtype)
    for i, d in zip(indices, data):
        if np.shape(d) != np.shape(i) + rest:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"data shape {list(np.shape(d))} must be indices shape "
                              f"{list(np.shape(i))} + {list(rest)}")
        if i.size and i.min() < 0:
            raise errors.InvalidArgumentError(None, ctx.op, f"indices must be >= 0, got {i.min()}")
        merged[i.reshape(-1)] = d.reshape((-1,) + rest)
    return merged


_fold_by_kernel("DynamicStitch")


def dynamic_stitch(indices, data, name=None):
    """Interleaves `data` tensors into one: merged[indices[m][i]] = data[m][i]."""
    return apply_op("DynamicStitch", list(indices), list(data), name=name)


# ---- Unique -----------------------------------------------------------------------------------
Unique = registry.register_op("Unique", inputs=["x: T"], outputs=["y: T", "idx: out_idx"],
                              attrs={"out_idx": _index_attr()})
Unique.not_differentiable()


@Unique.shape
def _unique_shape(op):
    in_shape = op.inputs[0].get_shape().with_rank(1)
    known = tensor_util.constant_value(op.inputs[0])
    return [tensor_shape.vector(None if known is None else np.unique(known).size), in_shape]


@Unique.kernel("CPU")
def _unique_kernel(ctx, x):
    if np.ndim(x) != 1:
        raise errors.InvalidArgumentError(None, ctx.op, f"x must be a vector, got shape "
                                          f"{list(np.shape(x))}")
    _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # TF keeps the order of first occurrence
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)
    idx = rank_of[inverse.reshape(-1)].astype(ctx.attrs["out_idx"].as_numpy_dtype)
    return x[np.sort(first)], idx


def unique(x, out_idx=dtypes.int32, name=None):
    """(y, idx): the distinct elements of vector `x` in order of first appearance, and for each
    element of x its position in y."""
    return apply_op("Unique", x, out_idx=out_idx, name=name)


# ---- boolean_mask (composite) ---------------------------------------------------------------
def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The elements (or rows) of `tensor` where `mask` (shape: a prefix of tensor's) is True."""
    with ops.name_scope(name, "boolean_mask", [tensor, mask]):
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        mask = ops.convert_to_tensor(mask, name="mask")
        m = mask.get_shape().ndims
        if m is None or m == 0:
            raise ValueError(f"mask must have a known rank of at least 1, got {mask.get_shape()}")
        if axis not in (None, 0):
            raise NotImplementedError("boolean_mask supports axis=0 only")
        tensor.get_shape()[:m].assert_is_compatible_with(mask.get_shape())
        rest = tensor.get_shape()[m:]
        if rest.is_fully_defined():
            flat_shape = [-1] + rest.as_list()
        else:
            flat_shape = array_ops.concat([[-1], shape(tensor)[m:]], 0)
        flat = reshape(tensor, flat_shape)
        picked = squeeze(where(reshape(mask, [-1])), [1])
        return gather(flat, picked)
