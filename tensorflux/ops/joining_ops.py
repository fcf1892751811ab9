"""Joining and splitting ops: Concat/ConcatV2, Split/SplitV, Pack/Unpack, Tile, Pad/MirrorPad,
and the auto-packing of lists that hold tensors (`tf.reshape(x, [n, 2])` with a tensor `n`).

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
    _dense, _fold_by_kernel, _index_attr, _ints, _range, _shape_of, identity, rank, reshape,
    shape, size, transpose)

__all__ = ["concat", "concat_v2", "split", "stack", "unstack", "pack", "unpack", "tile", "pad"]


# ---- Concat / ConcatV2 ----------------------------------------------------------------------
Concat = registry.register_op("Concat", inputs=["concat_dim: int32", "values: N * T"],
                              outputs=["output: T"], attrs={"N": "int"})
ConcatV2 = registry.register_op("ConcatV2", inputs=["values: N * T", "axis: Tidx"],
                                outputs=["output: T"],
                                attrs={"N": "int", "Tidx": _index_attr()})


def _concat_shape(values, axis_tensor):
    shapes = [v.get_shape() for v in values]
    ranks = {s.ndims for s in shapes if s.ndims is not None}
    if len(ranks) > 1:
        raise ValueError(f"all values must have the same rank, got shapes "
                         f"{', '.join(str(s) for s in shapes)}")
    if not ranks:
        return tensor_shape.unknown_shape()
    ndims = ranks.pop()
    if ndims == 0:
        raise ValueError("Can't concatenate scalars (use tf.stack instead)")
    axis = tensor_util.constant_value(axis_tensor)
    if axis is None:
        return tensor_shape.unknown_shape(ndims)
    axis = common.normalize_axis(int(axis), ndims, "concat axis")
    rest = tensor_shape.unknown_shape(ndims - 1)
    total = 0
    for s in shapes:
        dims = s.as_list() if s.ndims is not None else [None] * ndims
        try:
            rest = rest.merge_with(dims[:axis] + dims[axis + 1:])
        except ValueError:
            raise ValueError(f"dimensions other than axis {axis} must match, got shapes "
                             f"{', '.join(str(t) for t in shapes)}") from None
        total = None if total is None or dims[axis] is None else total + dims[axis]
    out = rest.as_list()
    return tensor_shape.TensorShape(out[:axis] + [total] + out[axis:])


def _concat_grad(grad, values, axis_tensor):
    """Splits the gradient of a concatenation back into pieces shaped like `values`."""
    axis = tensor_util.constant_value(axis_tensor)
    ndims = values[0].get_shape().ndims
    if axis is not None and ndims is not None:
        axis = common.normalize_axis(int(axis), ndims, "concat axis")
        sizes = [v.get_shape()[axis].value for v in values]
        if None in sizes:
            sizes = stack([_shape_of(v)[axis] for v in values])
    else:
        axis = axis_tensor
        sizes = stack([array_ops.gather(shape(v), axis_tensor) for v in values])
    return split_v(_dense(grad), sizes, axis, num=len(values))


@Concat.shape
def _concat_v1_shape(op):
    return _concat_shape(op.inputs[1:], op.inputs[0])


@Concat.gradient
def _concat_v1_grad(op, grad):
    return [None] + list(_concat_grad(grad, op.inputs[1:], op.inputs[0]))


@Concat.kernel("CPU")
def _concat_v1_kernel(ctx, axis, *values):
    return _concatenate(ctx, values, axis)


@ConcatV2.shape
def _concat_v2_shape(op):
    return _concat_shape(op.inputs[:-1], op.inputs[-1])


@ConcatV2.gradient
def _concat_v2_grad(op, grad):
    return list(_concat_grad(grad, op.inputs[:-1], op.inputs[-1])) + [None]


@ConcatV2.kernel("CPU")
def _concat_v2_kernel(ctx, *args):
    return _concatenate(ctx, args[:-1], args[-1])


def _concatenate(ctx, values, axis):
    axis = common.scalar_int(ctx, axis, "axis")
    try:
        return np.concatenate(values, axis=int(axis))
    except (ValueError, IndexError):
        _check_concat(ctx, values, int(axis))
        raise


def _check_concat(ctx, values, axis):
    """TF's ConcatOp errors: axis out of range, ranks or other dimensions not matching."""
    shapes = [np.shape(v) for v in values]
    rank = len(shapes[0])
    if rank == 0:  # check_dimension lets axis 0 of rank 0 pass; TF's ConcatOp does not
        raise errors.InvalidArgumentError(
            None, ctx.op, f"ConcatOp : Expected concatenating dimensions in the range [0, 0), "
                          f"but got {axis}")
    common.check_dimension(ctx, axis, rank,
                           "ConcatOp : Expected concatenating dimensions")
    axis %= max(rank, 1)
    text = common.shape_text
    for k, s in enumerate(shapes[1:], 1):
        if len(s) != rank:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                              f"{text(shapes[0])} vs. shape[{k}] = {text(s)}")
        if any(a != b for d, (a, b) in enumerate(zip(shapes[0], s)) if d != axis):
            raise errors.InvalidArgumentError(
                None, ctx.op, f"ConcatOp : Dimensions of inputs should match: shape[0] = "
                              f"{text(shapes[0])} vs. shape[{k}] = {text(s)}")


_fold_by_kernel("Concat")
_fold_by_kernel("ConcatV2")


def _is_scalar_index(value):
    """An int or a scalar integer tensor: what 0.9 puts first in concat and split."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return (isinstance(value, ops.Tensor) and value.dtype.base_dtype.is_integer
            and value.get_shape().ndims in (0, None))


def concat(values, axis, name="concat"):
    """Joins tensors along an axis: `concat(values, axis)` (1.0) or `concat(concat_dim, values)`.

    The generation is told by the first argument: an int or a scalar integer tensor means 0.9.
    """
    if _is_scalar_index(values) and not _is_scalar_index(axis):
        values, axis, op_type = axis, values, "Concat"
    else:
        op_type = "ConcatV2"
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"concat expects a list of tensors and an axis, got {values!r:.80} "
                        f"and {axis!r:.80}")
    if len(values) == 1:
        with ops.name_scope(name) as scope:
            return identity(values[0], name=scope)
    if op_type == "Concat":
        return apply_op("Concat", axis, list(values), name=name)
    return apply_op("ConcatV2", list(values), axis, name=name)


def concat_v2(values, axis, name="concat_v2"):
    """TensorFlow 0.12's name for the 1.0 argument order of `concat`."""
    return apply_op("ConcatV2", list(values), axis, name=name)


# ---- Split / SplitV ---------------------------------------------------------------------------
Split = registry.register_op("Split", inputs=["split_dim: int32", "value: T"],
                             outputs=["output: num_split * T"], attrs={"num_split": "int"})
SplitV = registry.register_op("SplitV", inputs=["value: T", "size_splits: Tlen",
                                                "split_dim: int32"],
                              outputs=["output: num_split * T"],
                              attrs={"num_split": "int", "Tlen": _index_attr(dtypes.int64)})


def _split_axis(op, axis_tensor):
    """(dims of the value, normalized split axis) or (None, None) when unknown."""
    in_shape = op.inputs[1 if op.type == "Split" else 0].get_shape()
    axis = tensor_util.constant_value(axis_tensor)
    if in_shape.ndims == 0:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op.name}' "
                         f"({op.type}): a scalar cannot be split")
    if in_shape.ndims is None or axis is None:
        return None, None
    return in_shape.as_list(), common.normalize_axis(int(axis), in_shape.ndims, "split_dim")


def _with_dim(dims, axis, value):
    return tensor_shape.TensorShape(dims[:axis] + [value] + dims[axis + 1:])


@Split.shape
def _split_shape(op):
    num = op.get_attr("num_split")
    dims, axis = _split_axis(op, op.inputs[0])
    if dims is None:
        rank = op.inputs[1].get_shape().ndims
        return [tensor_shape.unknown_shape(rank)] * num
    if dims[axis] is not None and dims[axis] % num:
        raise ValueError(f"cannot split dimension {axis} of size {dims[axis]} into {num} "
                         "equal pieces")
    piece = None if dims[axis] is None else dims[axis] // num
    return [_with_dim(dims, axis, piece)] * num


@Split.gradient
def _split_grad(op, *grads):
    return [None, concat_v2(list(grads), op.inputs[0])]


@Split.kernel("CPU")
def _split_kernel(ctx, axis, value):
    num = ctx.attrs["num_split"]
    axis = common.scalar_int(ctx, axis, "split_dim")
    rank = np.ndim(value)
    if not -rank <= axis < rank:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"-input rank(-{rank}) <= split_dim < input rank ({rank}), but got "
                          f"{axis}")
    if np.shape(value)[axis] % num:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Number of ways to split should evenly divide the split dimension, "
                          f"but got split_dim {axis} (size = {np.shape(value)[axis]}) and "
                          f"num_split {num}")
    return _pieces(value, [np.shape(value)[axis] // num] * num, axis)


def _split_sizes(sizes, total):
    """`sizes` with one -1 resolved from `total` (None when unknown)."""
    sizes = [int(s) for s in sizes]
    if sizes.count(-1) > 1:
        raise ValueError(f"size_splits may hold at most one -1, got {sizes}")
    if -1 in sizes:
        if total is None:
            return [None if s == -1 else s for s in sizes]
        sizes[sizes.index(-1)] = total - (sum(sizes) + 1)
    if total is not None and (sum(sizes) != total or min(sizes) < 0):
        raise ValueError(f"size_splits {sizes} must sum to the size of the split dimension, "
                         f"{total}")
    return sizes


@SplitV.shape
def _split_v_shape(op):
    num = op.get_attr("num_split")
    dims, axis = _split_axis(op, op.inputs[2])
    sizes = tensor_util.constant_value(op.inputs[1])
    if dims is None:
        return [tensor_shape.unknown_shape(op.inputs[0].get_shape().ndims)] * num
    if sizes is None:
        return [_with_dim(dims, axis, None)] * num
    if np.size(sizes) != num:
        raise ValueError(f"size_splits has {np.size(sizes)} entries, num_split is {num}")
    return [_with_dim(dims, axis, s) for s in _split_sizes(np.ravel(sizes), dims[axis])]


@SplitV.gradient
def _split_v_grad(op, *grads):
    return [concat_v2(list(grads), op.inputs[2]), None, None]


@SplitV.kernel("CPU")
def _split_v_kernel(ctx, value, sizes, axis):
    axis = common.scalar_int(ctx, axis, "split_dim")
    try:
        sizes = _split_sizes(np.ravel(sizes), np.shape(value)[axis])
    except ValueError as e:
        raise errors.InvalidArgumentError(None, ctx.op, str(e)) from None
    return _pieces(value, sizes, axis)


def _pieces(value, sizes, axis):
    """np.split(value, np.cumsum(sizes)[:-1], axis) as plain slices (views): np.split's
    generic path costs tens of microseconds per call, which every concat gradient pays."""
    index = [slice(None)] * np.ndim(value)
    pieces, start = [], 0
    for length in sizes:
        index[axis] = slice(start, start + length)
        pieces.append(value[tuple(index)])
        start += length
    return pieces


_fold_by_kernel("Split")
_fold_by_kernel("SplitV")


def split_v(value, size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis` into pieces of the given sizes (one may be -1)."""
    if num is None:
        static = tensor_util.constant_value(ops.convert_to_tensor(size_splits))
        if static is None:
            raise ValueError(f"Cannot infer the number of pieces from size_splits "
                             f"{size_splits!r:.80}; pass num")
        num = int(np.size(static))
    return list(apply_op("SplitV", value, size_splits, axis, num_split=num, name=name))


def split(value=None, num_or_size_splits=None, axis=0, num=None, name="split",
          split_dim=None, num_split=None):
    """Splits a tensor: `split(value, num_or_size_splits, axis=0)` (1.0) or
    `split(split_dim, num_split, value)` (0.9; told apart by an int or scalar first argument,
    followed by the tensor to split where 1.0 has an int axis: an integer tensor of unknown
    rank with an int axis is a 1.0 value).

    Returns:
      A list of tensors.
    """
    old_order = _is_scalar_index(value) and (
        isinstance(value, (int, np.integer)) or not isinstance(axis, (int, np.integer)))
    if split_dim is not None or old_order:
        dim = split_dim if split_dim is not None else value
        count = num_split if num_split is not None else num_or_size_splits
        tensor = value if split_dim is not None else axis
        return list(apply_op("Split", dim, tensor, num_split=int(count), name=name))
    if _is_scalar_index(num_or_size_splits) and not isinstance(num_or_size_splits, ops.Tensor):
        return list(apply_op("Split", axis, value, num_split=int(num_or_size_splits),
                             name=name))
    return split_v(value, num_or_size_splits, axis, num=num, name=name)


# ---- Pack / Unpack --------------------------------------------------------------------------
Pack = registry.register_op("Pack", inputs=["values: N * T"], outputs=["output: T"],
                            attrs={"N": "int", "axis": 0})


@Pack.shape
def _pack_shape(op):
    merged = common.merged_input_shapes(op)
    if merged.ndims is None:
        return tensor_shape.unknown_shape()
    axis = common.normalize_axis(op.get_attr("axis"), merged.ndims + 1, "pack axis")
    dims = merged.as_list()
    return tensor_shape.TensorShape(dims[:axis] + [len(op.inputs)] + dims[axis:])


@Pack.gradient
def _pack_grad(op, grad):
    return unstack(_dense(grad), num=op.get_attr("N"), axis=op.get_attr("axis"))


@Pack.kernel("CPU")
def _pack_kernel(ctx, *values):
    for k, v in enumerate(values[1:], 1):
        if np.shape(v) != np.shape(values[0]):
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Shapes of all inputs must match: values[0].shape = "
                              f"{common.shape_text(np.shape(values[0]))} != values[{k}].shape = "
                              f"{common.shape_text(np.shape(v))}")
    axis, ndims = ctx.attrs["axis"], np.ndim(values[0]) + 1
    if not -ndims <= axis < ndims:
        raise errors.InvalidArgumentError(None, ctx.op, f"axis = {axis} not in "
                                                        f"[{-ndims}, {ndims})")
    return np.stack(values, axis=axis)


_fold_by_kernel("Pack")

Unpack = registry.register_op("Unpack", inputs=["value: T"], outputs=["output: num * T"],
                              attrs={"num": "int", "axis": 0})


@Unpack.shape
def _unpack_shape(op):
    in_shape = op.inputs[0].get_shape()
    num = op.get_attr("num")
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()] * num
    dims = in_shape.as_list()
    if not dims:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op.name}' "
                         f"(Unpack): a scalar cannot be unstacked")
    axis = common.normalize_axis(op.get_attr("axis"), len(dims), "unpack axis")
    if dims[axis] not in (None, num):
        raise ValueError(f"dimension {axis} of shape {in_shape} must be num={num}")
    return [tensor_shape.TensorShape(dims[:axis] + dims[axis + 1:])] * num


@Unpack.gradient
def _unpack_grad(op, *grads):
    return [stack([_dense(g) for g in grads], axis=op.get_attr("axis"))]


@Unpack.kernel("CPU")
def _unpack_kernel(ctx, value):
    moved = np.moveaxis(value, ctx.attrs["axis"], 0)
    if moved.shape[0] != ctx.attrs["num"]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Input shape axis {ctx.attrs['axis']} must equal {ctx.attrs['num']}, "
                          f"got shape {list(np.shape(value))}")
    return [moved[i, ...] for i in _range(ctx.attrs["num"])]


_fold_by_kernel("Unpack")


def stack(values, axis=0, name="stack"):
    """Stacks a list of rank-R tensors into one rank-(R+1) tensor along `axis`."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"stack expects a non-empty list of tensors, got {values!r:.80}")
    return apply_op("Pack", list(values), axis=axis, name=name)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits `value` along `axis` into a list of `num` tensors (num inferred from the shape)."""
    value = ops.convert_to_tensor(value)
    if num is None:
        in_shape = value.get_shape()
        if in_shape.ndims is None:
            raise ValueError(f"Cannot infer num from shape {in_shape}")
        if in_shape.ndims == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for {value.name}: a "
                             f"scalar cannot be unstacked")
        num = in_shape[common.normalize_axis(axis, in_shape.ndims)].value
        if num is None:
            raise ValueError(f"Cannot infer num from shape {in_shape}")
    return list(apply_op("Unpack", value, num=num, axis=axis, name=name))


def pack(values, axis=0, name="pack"):
    """TensorFlow 0.9's name for `stack`."""
    return stack(values, axis=axis, name=name)


def unpack(value, num=None, axis=0, name="unpack"):
    """TensorFlow 0.9's name for `unstack`."""
    return unstack(value, num=num, axis=axis, name=name)


# ---- Tile / Pad / MirrorPad -------------------------------------------------------------------
Tile = registry.register_op("Tile", inputs=["input: T", "multiples: Tmultiples"],
                            outputs=["output: T"], attrs={"Tmultiples": _index_attr()})


@Tile.shape
def _tile_shape(op):
    in_shape = op.inputs[0].get_shape()
    multiples = tensor_util.constant_value(op.inputs[1])
    if multiples is None:
        n = op.inputs[1].get_shape().with_rank(1)[0].value
        return tensor_shape.unknown_shape(in_shape.ndims if n is None else n)
    multiples = [int(m) for m in np.ravel(multiples)]
    if in_shape.ndims is not None and in_shape.ndims != len(multiples):
        raise ValueError(f"Shape must be rank {in_shape.ndims} but is rank {len(multiples)}")
    dims = in_shape.with_rank(len(multiples)).as_list()
    return tensor_shape.TensorShape([None if d is None else d * m
                                     for d, m in zip(dims, multiples)])


@Tile.gradient
def _tile_grad(op, grad):
    x, multiples = op.inputs
    from tensorflux.ops import math_ops
    static_m = tensor_util.constant_value(multiples)
    if static_m is not None and x.get_shape().is_fully_defined():
        # [m0, d0, m1, d1, ...]: summing the even axes folds the copies back
        split_shape = np.stack([np.ravel(static_m), x.get_shape().as_list()], 1).ravel()
        axes = np.arange(0, split_shape.size, 2, dtype=np.int32)
    else:
        split_shape = reshape(transpose(stack([multiples, shape(x, out_type=multiples.dtype)])),
                              [-1])
        axes = array_ops.range(0, size(split_shape), 2)
    summed = math_ops.reduce_sum(reshape(_dense(grad), split_shape), axes)
    return [reshape(summed, _shape_of(x)), None]


@Tile.kernel("CPU")
def _tile_kernel(ctx, x, multiples):
    if np.size(multiples) != np.ndim(x):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Expected multiples to have {np.ndim(x)} entries (the rank of input), "
                          f"got {np.ravel(multiples).tolist()}")
    if np.any(multiples < 0):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Expected multiples argument to be non-negative, got "
                          f"{np.ravel(multiples).tolist()}")
    shape = [int(d) * int(m) for d, m in zip(np.shape(x), np.ravel(multiples))]
    limits.check_allocation(ctx.op, shape, x.dtype)
    return np.asarray(np.tile(x, tuple(int(m) for m in np.ravel(multiples))), dtype=x.dtype)


def tile(input, multiples, name=None):  # noqa: A002
    """`input` repeated `multiples[i]` times along each dimension i."""
    return apply_op("Tile", input, _ints(multiples), name=name)


def _padded_shape(op):
    in_shape = op.inputs[0].get_shape()
    paddings = tensor_util.constant_value(op.inputs[1])
    if paddings is None:
        n = op.inputs[1].get_shape().with_rank(2)[0].value
        return tensor_shape.unknown_shape(in_shape.ndims if n is None else n)
    if paddings.ndim != 2 or paddings.shape[1] != 2:
        raise ValueError(f"paddings must be a matrix of shape [rank, 2], got {paddings.shape}")
    if np.any(paddings < 0):
        raise ValueError(_negative_paddings_text(paddings))
    dims = in_shape.with_rank(paddings.shape[0]).as_list()
    return tensor_shape.TensorShape([None if d is None else d + int(p.sum())
                                     for d, p in zip(dims, paddings)])


def _negative_paddings_text(paddings):
    """TF's message, naming the first row with a negative padding."""
    row = next(r for r in np.asarray(paddings) if np.any(r < 0))
    return f"Paddings must be non-negative: {int(row[0])} {int(row[1])}"


def _pad_width(ctx, x, paddings):
    paddings = np.asarray(paddings)
    if paddings.shape != (np.ndim(x), 2):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"The first dimension of paddings must be the rank of inputs"
                          f"{common.shape_text(np.shape(paddings))} "
                          f"{common.shape_text(np.shape(x))}")
    if paddings.size and paddings.min() < 0:
        raise errors.InvalidArgumentError(None, ctx.op, _negative_paddings_text(paddings))
    return [(int(a), int(b)) for a, b in paddings.tolist()]


def _unpad(op, grad):
    """grad[paddings[:, 0] : paddings[:, 0] + shape(x)]: the part of the gradient that is x's."""
    x, paddings = op.inputs[0], op.inputs[1]
    static = tensor_util.constant_value(paddings)
    if static is not None:
        begin = static[:, 0]
    else:
        begin = reshape(array_ops.slice(paddings, [0, 0], stack([rank(x), 1])), [-1])
    return array_ops.slice(grad, begin, _shape_of(x, out_type=paddings.dtype))


Pad = registry.register_op("Pad", inputs=["input: T", "paddings: Tpaddings"],
                           outputs=["output: T"], attrs={"Tpaddings": _index_attr()})
Pad.shape(_padded_shape)


@Pad.gradient
def _pad_grad(op, grad):
    return [_unpad(op, _dense(grad)), None]


@Pad.kernel("CPU")
def _pad_kernel(ctx, x, paddings):
    width = _pad_width(ctx, x, paddings)
    return zero_pad(x, width) if width else np.array(x)


def zero_pad(x, width):
    """np.pad(x, width) with zeros, as one allocation and one copy (np.pad's generic path costs
    tens of microseconds per call, which the gradients of Slice pay once per slice)."""
    x = np.asarray(x)
    if x.dtype.kind in "OSUV":  # strings and objects: np.pad's own notion of zero
        return np.pad(x, width)
    out = np.zeros(tuple(d + a + b for d, (a, b) in zip(x.shape, width)), dtype=x.dtype)
    out[tuple(slice(a, a + d) for d, (a, _) in zip(x.shape, width))] = x
    return out


PadV2 = registry.register_op("PadV2", inputs=["input: T", "paddings: Tpaddings",
                                             "constant_values: T"],
                             outputs=["output: T"], attrs={"Tpaddings": _index_attr()})


@PadV2.shape
def _pad_v2_shape(op):
    op.inputs[2].get_shape().assert_has_rank(0)
    return _padded_shape(op)


@PadV2.gradient
def _pad_v2_grad(op, grad):
    from tensorflux.ops import math_ops
    grad = _dense(grad)
    # the fill value's gradient: everything outside the input's place
    fill = math_ops.reduce_sum(grad) - math_ops.reduce_sum(_unpad(op, grad))
    return [_unpad(op, grad), None, fill]


@PadV2.kernel("CPU")
def _pad_v2_kernel(ctx, x, paddings, value):
    width = _pad_width(ctx, x, paddings)
    return np.pad(x, width, constant_values=value) if width else np.array(x)


MirrorPad = registry.register_op("MirrorPad", inputs=["input: T", "paddings: Tpaddings"],
                                 outputs=["output: T"],
                                 attrs={"Tpaddings": _index_attr(),
                                        "mode": registry.Attr("string",
                                                              allowed=("REFLECT", "SYMMETRIC"))})
MirrorPad.shape(_padded_shape)
_NP_MIRROR = {"REFLECT": "reflect", "SYMMETRIC": "symmetric", b"REFLECT": "reflect",
              b"SYMMETRIC": "symmetric"}


@MirrorPad.gradient
def _mirror_pad_grad(op, grad):
    return [apply_op("MirrorPadGrad", _dense(grad), op.inputs[1], mode=op.get_attr("mode")),
            None]


@MirrorPad.kernel("CPU")
def _mirror_pad_kernel(ctx, x, paddings):
    width = _pad_width(ctx, x, paddings)
    limit = 0 if _NP_MIRROR[ctx.attrs["mode"]] == "reflect" else 1
    if any(max(w) > d - 1 + limit for w, d in zip(width, np.shape(x))):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"paddings {width} must be less than{' or equal to' if limit else ''} "
                          f"the dimension sizes {list(np.shape(x))} in mode {ctx.attrs['mode']}")
    return np.pad(x, width, mode=_NP_MIRROR[ctx.attrs["mode"]])


MirrorPadGrad = registry.register_op("MirrorPadGrad", inputs=["input: T", "paddings: Tpaddings"],
                                     outputs=["output: T"],
                                     attrs={"Tpaddings": _index_attr(),
                                            "mode": registry.Attr("string",
                                                                  allowed=("REFLECT",
                                                                           "SYMMETRIC"))})


@MirrorPadGrad.shape
def _mirror_pad_grad_shape(op):
    in_shape = op.inputs[0].get_shape()
    paddings = tensor_util.constant_value(op.inputs[1])
    if paddings is None or in_shape.ndims is None:
        return tensor_shape.unknown_shape(in_shape.ndims)
    return tensor_shape.TensorShape([None if d is None else d - int(p.sum())
                                     for d, p in zip(in_shape.as_list(), paddings)])


@MirrorPadGrad.gradient
def _mirror_pad_grad_grad(op, grad):
    return [apply_op("MirrorPad", grad, op.inputs[1], mode=op.get_attr("mode")), None]


@MirrorPadGrad.kernel("CPU")
def _mirror_pad_grad_kernel(ctx, grad, paddings):
    shift = 1 if _NP_MIRROR[ctx.attrs["mode"]] == "reflect" else 0
    out = np.array(grad)
    for axis, (before, after) in enumerate(_pad_width(ctx, grad, paddings)):
        moved = np.moveaxis(out, axis, 0)
        n = moved.shape[0] - before - after
        core = moved[before:before + n].copy()
        # mirrored copies of rows [shift, before + shift) and [n - after - shift, n - shift)
        core[shift:before + shift] += moved[:before][::-1]
        core[n - after - shift:n - shift] += moved[before + n:][::-1]
        out = np.moveaxis(core, 0, axis)
    return np.ascontiguousarray(out)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` padded by `paddings` ([rank, 2]: before, after) in mode CONSTANT (zeros),
    REFLECT or SYMMETRIC."""
    paddings = _ints(paddings)
    mode = mode.upper() if isinstance(mode, str) else mode
    if mode == "CONSTANT":
        if isinstance(constant_values, (int, float)) and constant_values == 0:
            return apply_op("Pad", tensor, paddings, name=name)
        return apply_op("PadV2", tensor, paddings, constant_values, name=name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply_op("MirrorPad", tensor, paddings, mode=mode, name=name)
    raise ValueError(f"pad mode must be CONSTANT, REFLECT or SYMMETRIC, got {mode!r}")


# ---- auto-packing: [tensor, 2, 2] where a tensor is expected ------------------------------------
_PLAIN = (int, float, bool, complex, str, bytes, np.generic, np.ndarray, type(None))


def _has_tensor(value):
    """Whether a (nested) list holds anything but numbers: tensors, variables (TF packs those;
    a list of numbers alone becomes one constant)."""
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return not isinstance(value, _PLAIN)


def _autopack(value, dtype=None, name=None, as_ref=False):
    """Converts a (nested) list holding tensors or variables with Pack (lists of numbers
    alone inside it become constants)."""
    if as_ref or not _has_tensor(value):
        return NotImplemented
    elements = [_autopack(v, dtype) if isinstance(v, (list, tuple)) and _has_tensor(v) else v
                for v in value]
    if dtype is None:  # the dtype of the first tensor-like element, as TF's packing takes it
        dtype = next(ops.convert_to_tensor(e).dtype.base_dtype for e in elements
                     if not isinstance(e, _PLAIN + (list, tuple)))
    elements = [ops.convert_to_tensor(e, dtype=dtype) for e in elements]
    return stack(elements, name=name or "packed")


ops.register_tensor_conversion_function((list, tuple), _autopack, 99)
