"""Slicing ops: Slice, StridedSlice and StridedSliceGrad, and `Tensor.__getitem__`.

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
    _FOLD_LIMIT, _dense, _fold_by_kernel, _ints, _range, _shape_of, _slice, identity, ones_like,
    shape)
from tensorflux.ops.constant_op import constant

__all__ = ["slice", "strided_slice"]


# ---- Slice ----------------------------------------------------------------------------------
Slice = registry.register_op("Slice", inputs=["input: T", "begin: Index", "size: Index"],
                             outputs=["output: T"],
                             attrs={"Index": registry.Attr("type", allowed=common.INDEX)})


@Slice.shape
def _slice_shape(op):
    in_shape = op.inputs[0].get_shape()
    begin, sizes = (tensor_util.constant_value(t) for t in op.inputs[1:])
    if sizes is None:
        ndims = in_shape.ndims if in_shape.ndims is not None else \
            op.inputs[2].get_shape().with_rank(1)[0].value
        return tensor_shape.unknown_shape(ndims)
    sizes = [int(s) for s in np.ravel(sizes)]
    if begin is not None and np.size(begin) != len(sizes):
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of the same size, "
                         f"but got shapes {list(np.shape(begin))} and [{len(sizes)}] instead")
    dims = in_shape.with_rank(len(sizes)).as_list()
    out = []
    for i, (s, d) in enumerate(zip(sizes, dims)):
        b = None if begin is None else int(np.ravel(begin)[i])
        if s >= 0:
            if d is not None and b is not None and not 0 <= b <= b + s <= d:
                raise ValueError(f"slice [{b}, {b + s}) of dimension {i} is out of range "
                                 f"for shape {in_shape}")
            out.append(s)
        else:
            out.append(None if d is None or b is None else d - b)
    return tensor_shape.TensorShape(out)


@Slice.gradient
def _slice_grad(op, grad):
    x, begin, _ = op.inputs
    grad = _dense(grad)
    static_begin = tensor_util.constant_value(begin)
    x_shape, g_shape = x.get_shape(), grad.get_shape()
    if (static_begin is not None and x_shape.is_fully_defined()
            and g_shape.is_fully_defined()):
        after = np.array(x_shape.as_list()) - static_begin - np.array(g_shape.as_list())
        paddings = np.stack([static_begin, after], axis=1).astype(static_begin.dtype)
    else:
        # [rank, 2]: rows of (begin, shape(x) - begin - shape(grad))
        after = shape(x, out_type=begin.dtype) - begin - shape(grad, out_type=begin.dtype)
        paddings = array_ops.stack([begin, after], axis=1)
    return [array_ops.pad(grad, paddings), None, None]


def slice_index(begin, sizes, in_shape):
    """The NumPy index of Slice(begin, sizes); IndexError in TF's words if out of range."""
    index = []
    # tolist gives Python ints in one call (np.ravel + int() per item cost more per step)
    for i, (b, s, d) in enumerate(zip(np.asarray(begin).ravel().tolist(),
                                      np.asarray(sizes).ravel().tolist(), in_shape)):
        if not 0 <= b <= d:
            raise IndexError(f"Expected begin[{i}] in [0, {d}], but got {b}")
        end = d if s == -1 else b + s
        if not b <= end <= d:
            raise IndexError(f"Expected size[{i}] in [0, {d - b}], but got {s}")
        index.append(_slice(b, end))
    return tuple(index)


@Slice.kernel("CPU")
def _slice_kernel(ctx, x, begin, sizes):
    if np.ndim(begin) != 1 or np.ndim(sizes) != 1 or not np.size(begin) == np.size(sizes) \
            == np.ndim(x):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Expected begin and size arguments to be 1-D tensors of size "
                          f"{np.ndim(x)}, but got shapes {common.shape_text(np.shape(begin))} "
                          f"and {common.shape_text(np.shape(sizes))} instead.")
    try:
        return x[slice_index(begin, sizes, np.shape(x))]
    except IndexError as e:
        raise errors.InvalidArgumentError(None, ctx.op, str(e)) from None


_fold_by_kernel("Slice")


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's name
    """The part of `input_` starting at `begin` with extent `size` (-1: to the end)."""
    return apply_op("Slice", input_, _ints(begin), _ints(size), name=name)


# ---- StridedSlice / StridedSliceGrad ---------------------------------------------------------
_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
_MASK_ATTRS = {m: 0 for m in _MASKS}

StridedSlice = registry.register_op(
    "StridedSlice", inputs=["input: T", "begin: Index", "end: Index", "strides: Index"],
    outputs=["output: T"],
    attrs=dict(_MASK_ATTRS, Index=registry.Attr("type", allowed=common.INDEX)))
StridedSliceGrad = registry.register_op(
    "StridedSliceGrad",
    inputs=["shape: Index", "begin: Index", "end: Index", "strides: Index", "dy: T"],
    outputs=["output: T"],
    attrs=dict(_MASK_ATTRS, Index=registry.Attr("type", allowed=common.INDEX)))


def _index_tuple(attrs, begin, end, strides):
    """The NumPy index equivalent to a strided slice spec with its five masks."""
    index = []
    for i, (b, e, s) in enumerate(zip(np.ravel(begin), np.ravel(end), np.ravel(strides))):
        bit = 1 << i
        if attrs["ellipsis_mask"] & bit:
            index.append(Ellipsis)
        elif attrs["new_axis_mask"] & bit:
            index.append(None)
        elif attrs["shrink_axis_mask"] & bit:
            index.append(int(b))
        else:
            if s == 0:
                raise ValueError(f"strides[{i}] must be non-zero")
            index.append(_slice(None if attrs["begin_mask"] & bit else int(b),
                                None if attrs["end_mask"] & bit else int(e), int(s)))
    return tuple(index)


def _spec_entry_len(dim, b, e, s, bit, attrs):
    masked_b, masked_e = attrs["begin_mask"] & bit, attrs["end_mask"] & bit
    if dim is None or s is None or (b is None and not masked_b) or (e is None and not masked_e):
        return None
    return len(_range(dim)[_slice(None if masked_b else b, None if masked_e else e, s)])


def _strided_shape(in_shape, n, attrs, begin, end, strides):
    """Static result shape; begin/end/strides are lists of ints or None (unknown)."""
    if in_shape.ndims is None or n is None:
        return tensor_shape.unknown_shape()
    dims = in_shape.as_list()
    special = attrs["ellipsis_mask"] | attrs["new_axis_mask"]
    consuming = sum(1 for i in _range(n) if not special & (1 << i))
    if consuming > len(dims):
        raise ValueError(f"{consuming} indices given for a tensor of shape {in_shape}")
    out, d = [], 0
    for i in _range(n):
        bit = 1 << i
        if attrs["ellipsis_mask"] & bit:
            out.extend(dims[d:d + len(dims) - consuming])
            d += len(dims) - consuming
            continue
        if attrs["new_axis_mask"] & bit:
            out.append(1)
            continue
        dim, d = dims[d], d + 1
        if attrs["shrink_axis_mask"] & bit:
            b = begin[i]
            if dim is not None and b is not None and not -dim <= b < dim:
                raise ValueError(f"index {b} is out of range for dimension of size {dim}")
            continue
        out.append(_spec_entry_len(dim, begin[i], end[i], strides[i], bit, attrs))
    return tensor_shape.TensorShape(out + dims[d:])


def _partial_values(vector, n):
    """The entries of a 1-D index tensor that are known statically (None for the others)."""
    value = tensor_util.constant_value(vector)
    if value is not None:
        return [int(v) for v in np.ravel(value)]
    if vector.op.type == "Pack":
        return [None if v is None else int(v)
                for v in map(tensor_util.constant_value, vector.op.inputs)]
    return [None] * n


@StridedSlice.shape
def _strided_slice_shape(op):
    n = op.inputs[1].get_shape().with_rank(1)[0].value
    if n is None:
        return tensor_shape.unknown_shape()
    begin, end, strides = (_partial_values(t, n) for t in op.inputs[1:])
    if not len(begin) == len(end) == len(strides) == n:
        raise ValueError(f"Expected begin, end, and strides to be 1D equal size tensors, but got "
                         f"shapes {[t.get_shape().as_list() for t in op.inputs[1:]]} instead")
    return _strided_shape(op.inputs[0].get_shape(), n, op._attrs, begin, end, strides)


@StridedSlice.gradient
def _strided_slice_grad(op, grad):
    x, begin, end, strides = op.inputs
    masks = {m: op.get_attr(m) for m in _MASKS}
    dx = apply_op("StridedSliceGrad", _shape_of(x, out_type=begin.dtype), begin, end, strides,
                  _dense(grad), **masks)
    return [dx, None, None, None]


@StridedSlice.kernel("CPU")
def _strided_slice_kernel(ctx, x, begin, end, strides):
    try:
        index = _index_tuple(ctx.attrs, begin, end, strides)
        result = x[index]
    except (IndexError, ValueError) as e:
        raise errors.InvalidArgumentError(None, ctx.op, _strided_index_error(e, x, ctx.attrs,
                                                                             begin)) from None
    return result if isinstance(result, np.ndarray) else np.array(result, dtype=x.dtype)


def _strided_index_error(exc, x, attrs, begin):
    """TF's words for why a strided slice spec does not fit `x` (else NumPy's)."""
    special = attrs["ellipsis_mask"] | attrs["new_axis_mask"]
    n = np.size(begin)
    consuming = sum(1 for i in _range(n) if not special & (1 << i))
    d = 0
    for i, b in enumerate(np.ravel(begin)):
        bit = 1 << i
        if attrs["ellipsis_mask"] & bit:
            d = max(d, x.ndim - (consuming - d))
            continue
        if attrs["new_axis_mask"] & bit:
            continue
        if d >= x.ndim:
            return f"Index out of range using input dim {d}; input has only {x.ndim} dims"
        if attrs["shrink_axis_mask"] & bit and not -x.shape[d] <= int(b) < x.shape[d]:
            return f"slice index {int(b)} of dimension {d} out of bounds."
        d += 1
    return str(exc)


@tensor_util.register_constant_folder("StridedSlice")
def _fold_strided_slice(tensor):
    """Folds slices of constants, and of partly known shapes when the picked dims are known."""
    op = tensor.op
    specs = [tensor_util.constant_value(t) for t in op.inputs[1:]]
    source = op.inputs[0]
    value = tensor_util.constant_value(source)
    if value is None and source.op.type == "Shape" and source.op.inputs[0].get_shape().ndims:
        dims = source.op.inputs[0].get_shape().as_list()
        value = np.array([-1 if d is None else d for d in dims], dtype=source.dtype.as_numpy_dtype)
    if value is None or any(s is None for s in specs) or np.size(value) > _FOLD_LIMIT:
        return None
    result = np.asarray(value[_index_tuple(op._attrs, *specs)])
    return None if source.op.type == "Shape" and np.any(result < 0) else result


@StridedSliceGrad.shape
def _strided_slice_grad_shape(op):
    return tensor_util.constant_value_as_shape(op.inputs[0])


@StridedSliceGrad.gradient
def _strided_slice_grad_grad(op, grad):
    masks = {m: op.get_attr(m) for m in _MASKS}
    return [None] * 4 + [strided_slice(_dense(grad), *op.inputs[1:4], **masks)]


@StridedSliceGrad.kernel("CPU")
def _strided_slice_grad_kernel(ctx, in_shape, begin, end, strides, dy):
    if np.ndim(in_shape) != 1 or np.any(np.asarray(in_shape) < 0):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"shape must be a vector of non-negative sizes, got "
                          f"{np.asarray(in_shape).tolist()}")
    limits.check_allocation(ctx.op, in_shape.tolist(), ctx.attrs["T"].as_numpy_dtype)
    out = np.zeros(in_shape, dtype=ctx.attrs["T"].as_numpy_dtype)
    out[_index_tuple(ctx.attrs, begin, end, strides)] = dy
    return out


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """Python-style slicing `input_[begin:end:strides]` with TF's five bit masks."""
    if strides is None:
        strides = ones_like(ops.convert_to_tensor(begin))
    return apply_op("StridedSlice", input_, _ints(begin), _ints(end), _ints(strides),
                    begin_mask=begin_mask,
                    end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                    new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask, name=name)


_INDEX_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                "tf.int32/tf.int64 tensors are valid indices")


def _check_index(value):
    if value is None or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_INDEX_ERROR}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, ops.Tensor) and value.dtype.base_dtype in common.INDEX \
            and value.get_shape().ndims in (0, None):
        return value
    raise TypeError(f"{_INDEX_ERROR}, got {value!r:.80}")


def _parse_slice_spec(slice_spec):
    """(begin, end, strides, masks) lists for a __getitem__ key."""
    if not isinstance(slice_spec, tuple):
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    masks = dict(_MASK_ATTRS)
    for i, s in enumerate(slice_spec):
        bit = 1 << i
        if isinstance(s, _slice):
            step = 1 if s.step is None else _check_index(s.step)
            if isinstance(step, int) and step == 0:
                raise ValueError("slice step cannot be zero")
            begin.append(0 if s.start is None else _check_index(s.start))
            end.append(0 if s.stop is None else _check_index(s.stop))
            strides.append(step)
            masks["begin_mask"] |= bit if s.start is None else 0
            masks["end_mask"] |= bit if s.stop is None else 0
            continue
        if s is Ellipsis or s is None:
            masks["ellipsis_mask" if s is Ellipsis else "new_axis_mask"] |= bit
            begin.append(0), end.append(0), strides.append(1)
            continue
        index = _check_index(s)
        masks["shrink_axis_mask"] |= bit
        begin.append(index), end.append(index + 1), strides.append(1)
    return begin, end, strides, masks


def _index_dtype(*lists):
    """int64 if any index is an int64 tensor or too big for int32, else int32."""
    flat = [v for values in lists for v in values]
    if any(isinstance(v, ops.Tensor) and v.dtype.base_dtype == dtypes.int64 for v in flat) or \
            any(isinstance(v, int) and not -2**31 <= v < 2**31 for v in flat):
        return dtypes.int64
    return dtypes.int32


def _pack_indices(values, dtype):
    """A list of ints and scalar tensors as one 1-D index tensor of `dtype`."""
    if not any(isinstance(v, ops.Tensor) for v in values):
        return constant(values, dtype=dtype)
    from tensorflux.ops import math_ops
    return array_ops.stack([math_ops.cast(v, dtype) if isinstance(v, ops.Tensor)
                  else constant(v, dtype=dtype) for v in values])


def _slice_helper(tensor, slice_spec, var=None):
    """Tensor.__getitem__: ints, slices with steps, negative indices, `...`, tf.newaxis and
    scalar tensor indices, all in one StridedSlice."""
    with ops.name_scope(None, "strided_slice", [tensor]) as name:
        begin, end, strides, masks = _parse_slice_spec(slice_spec)
        if not begin:
            return identity(tensor, name=name)
        dtype = _index_dtype(begin, end, strides)
        return strided_slice(tensor, _pack_indices(begin, dtype), _pack_indices(end, dtype),
                             _pack_indices(strides, dtype), name=name, **masks)


ops.Tensor._override_operator("__getitem__", _slice_helper)
