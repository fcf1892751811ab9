"""Array ops: placeholders, identity, shapes and reshaping, filling, range, reverse, transpose.

Ops computing small index and shape tensors register constant folders, so static shapes stay
known through `tf.shape(x)[0]`, `tf.stack([...])` and `tf.concat([...], 0)`.

The larger families live in their own modules and are re-exported at the end of this one, so
`array_ops.<name>` reaches all of them: slicing_ops (Slice, StridedSlice, `Tensor.__getitem__`),
joining_ops (Concat, Split, Pack, Tile, Pad) and indexing_ops (Gather, OneHot, Where,
DynamicPartition, DynamicStitch, Unique, boolean_mask).
"""
import builtins
import types

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.ops.constant_op import constant

# This module defines tf.range and re-exports tf.slice; the builtins stay reachable as these.
_range = builtins.range
_slice = builtins.slice

# Names defined here; the re-exported families add theirs at the end of the module.
__all__ = [
    "placeholder", "placeholder_with_default", "identity", "stop_gradient",
    "shape", "shape_n", "size", "rank", "reshape", "expand_dims", "squeeze", "newaxis",
    "fill", "zeros", "ones", "zeros_like", "ones_like", "broadcast_gradient_args",
    "range", "reverse", "reverse_v2", "transpose", "invert_permutation",
]

newaxis = None
_FOLD_LIMIT = 4096  # constant folding is for shape-sized tensors


def _fold_by_kernel(op_type):
    """Registers a constant folder that runs `op_type`'s CPU kernel on constant inputs."""
    def fold(tensor):
        op = tensor.op
        values = []
        for t in op.inputs:
            value = tensor_util.constant_value(t)
            if value is None or np.size(value) > _FOLD_LIMIT:
                return None
            values.append(value)
        ctx = types.SimpleNamespace(op=op, attrs=op._attrs, xp=np)
        try:
            result = op.op_def.kernels["CPU"].fn(ctx, *values)
        except (IndexError, errors.OpError):
            return None
        return np.asarray(result[tensor.value_index] if len(op.outputs) > 1 else result)
    tensor_util.register_constant_folder(op_type)(fold)


def _index_attr(default=dtypes.int32):
    return registry.Attr("type", default, allowed=common.INDEX)


def _ints(value):
    """An empty Python list as an int32 array: index inputs default to int32, not float32."""
    if not isinstance(value, ops.Tensor) and np.size(value) == 0:
        return np.zeros(np.shape(value), np.int32)
    return value


def _dense(grad):
    """A gradient as a dense tensor (IndexedSlices are summed into rows)."""
    if not isinstance(grad, ops.IndexedSlices):
        return grad
    from tensorflux.ops import math_ops
    return math_ops.unsorted_segment_sum(grad.values, grad.indices, grad.dense_shape[0])


# ---- Placeholder ---------------------------------------------------------------------------
Placeholder = registry.register_op("Placeholder", outputs=["output: dtype"],
                                   attrs={"dtype": "type",
                                          "shape": registry.Attr("shape", None)})
Placeholder.not_differentiable()


@Placeholder.shape
def _placeholder_shape(op):
    return op.get_attr("shape")


@Placeholder.kernel("CPU")
def _placeholder_kernel(ctx):
    shape = ctx.attrs["shape"]
    raise errors.InvalidArgumentError(
        None, ctx.op, f"You must feed a value for placeholder tensor '{ctx.op.name}' with dtype "
                      f"{common.type_text(ctx.attrs['dtype'])}" +
                      ("" if shape.ndims is None else
                       f" and shape {common.partial_shape_text(shape)}"))


def placeholder(dtype, shape=None, name=None):
    """A tensor that must be fed: `tf.placeholder(tf.float32, [None, 784])`."""
    return apply_op("Placeholder", name=name, dtype=dtypes.as_dtype(dtype),
                    shape=tensor_shape.as_shape(shape))


# ---- Identity ------------------------------------------------------------------------------
Identity = registry.register_op("Identity", inputs=["input: T"], outputs=["output: T"])
Identity.shape(common.unchanged_shape)


@Identity.gradient
def _identity_grad(op, grad):
    return [grad]


@Identity.kernel("CPU")
def _identity_kernel(ctx, x):
    return x


def identity(input, name=None):  # noqa: A002 - TF's argument name
    """Returns a tensor with the same value as `input` (reads a variable's current value)."""
    return apply_op("Identity", input, name=name)


# ---- Shape / Reshape / Fill -----------------------------------------------------------------
Shape = registry.register_op("Shape", inputs=["input: T"], outputs=["output: out_type"],
                             attrs={"out_type": registry.Attr("type", dtypes.int32,
                                                              allowed=common.INDEX)})
Shape.not_differentiable()


@Shape.shape
def _shape_shape(op):
    return tensor_shape.vector(op.inputs[0].get_shape().ndims)


@Shape.kernel("CPU")
def _shape_kernel(ctx, x):
    return np.array(np.shape(x), dtype=ctx.attrs["out_type"].as_numpy_dtype)


@tensor_util.register_constant_folder("Shape")
def _fold_shape(tensor):
    shape = tensor.op.inputs[0].get_shape()
    if not shape.is_fully_defined():
        return None
    return np.array(shape.as_list(), dtype=tensor.dtype.as_numpy_dtype)


def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002
    """The shape of `input` as a 1-D tensor of `out_type`."""
    return apply_op("Shape", input, name=name, out_type=out_type)


def _shape_of(x, out_type=dtypes.int32):
    """x's shape: a constant when statically known (keeps gradient graphs small), else Shape."""
    static = x.get_shape()
    if static.is_fully_defined():
        return constant(static.as_list(), dtype=out_type)
    return shape(x, out_type=out_type)


Reshape = registry.register_op("Reshape", inputs=["tensor: T", "shape: Tshape"],
                               outputs=["output: T"],
                               attrs={"Tshape": registry.Attr("type", dtypes.int32,
                                                              allowed=common.INDEX)})


@Reshape.shape
def _reshape_shape(op):
    in_shape = op.inputs[0].get_shape()
    new = tensor_util.constant_value_as_shape(op.inputs[1])
    if new.ndims is None:
        return new
    dims = new.as_list()
    if dims.count(None) > 1 or not in_shape.is_fully_defined():
        return new
    known = int(np.prod([d for d in dims if d is not None], dtype=np.int64))
    total = in_shape.num_elements()
    if None in dims:
        if known == 0 or total % known:
            raise ValueError(f"Dimension size must be evenly divisible by {known} but is {total}")
        dims[dims.index(None)] = total // known
    elif known != total:
        shown = "[" + ",".join(str(d) for d in dims) + "]"
        raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {shown} "
                         f"({known} elements)")
    return tensor_shape.TensorShape(dims)


@Reshape.gradient
def _reshape_grad(op, grad):
    return [reshape(_dense(grad), _shape_of(op.inputs[0])), None]


@Reshape.kernel("CPU")
def _reshape_kernel(ctx, x, new_shape):
    try:
        if isinstance(x, np.ndarray):  # the method skips np.reshape's dispatch wrapper
            return x.reshape(new_shape)
        return np.reshape(x, new_shape)
    except ValueError:
        raise errors.InvalidArgumentError(None, ctx.op, _reshape_error(x, new_shape)) from None


def _reshape_error(x, new_shape):
    """Why `x` cannot take `new_shape`, in TF's words."""
    dims = [int(d) for d in np.ravel(new_shape)]
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1:
        return f"Only one input size may be -1, not both {unknown[0]} and {unknown[1]}"
    for i, d in enumerate(dims):
        if d < -1:
            return f"Size {i} must be non-negative, not {d}"
    known = int(np.prod([d for d in dims if d != -1]))
    if unknown:
        return (f"Input to reshape is a tensor with {np.size(x)} values, but the requested "
                f"shape requires a multiple of {known}")
    return (f"Input to reshape is a tensor with {np.size(x)} values, but the requested shape "
            f"has {known}")


def reshape(tensor, shape, name=None):  # noqa: A002
    """`tensor` with a new shape (one dimension may be -1)."""
    return apply_op("Reshape", tensor, _ints(shape), name=name)


Fill = registry.register_op("Fill", inputs=["dims: index_type", "value: T"],
                            outputs=["output: T"],
                            attrs={"index_type": registry.Attr("type", dtypes.int32,
                                                               allowed=common.INDEX)})


@Fill.shape
def _fill_shape(op):
    op.inputs[1].get_shape().assert_has_rank(0)
    rank = op.inputs[0].get_shape().ndims
    if rank is not None and rank != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {rank}")
    dims = tensor_util.constant_value(op.inputs[0])
    if dims is not None and np.any(np.asarray(dims) < 0):
        raise ValueError("Fill dimensions must be >= 0")
    return tensor_util.constant_value_as_shape(op.inputs[0])


@Fill.gradient
def _fill_grad(op, grad):
    from tensorflux.ops import math_ops
    return [None, math_ops.reduce_sum(grad)]


@Fill.kernel("CPU")
def _fill_kernel(ctx, dims, value):
    if np.ndim(dims) != 1:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"dims must be a vector, got shape {common.shape_text(np.shape(dims))}")
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"value must be a scalar, got shape "
                          f"{common.shape_text(np.shape(value))}")
    for d in dims:
        if d < 0:
            raise errors.InvalidArgumentError(None, ctx.op, f"Dimension {int(d)} must be >= 0")
    limits.check_allocation(ctx.op, dims.tolist(), np.asarray(value).dtype)
    return np.full(dims, value, dtype=np.asarray(value).dtype)


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value`."""
    return apply_op("Fill", _ints(dims), value, name=name)


def _is_static_shape(dims):
    return not isinstance(dims, ops.Tensor) and not (
        isinstance(dims, (list, tuple)) and any(isinstance(d, ops.Tensor) for d in dims))


def _filled(dims, value, dtype, name, default_name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, default_name, [dims]) as scope:
        if _is_static_shape(dims):
            array = np.full(tensor_shape.as_shape(dims).as_list(), value, dtype.as_numpy_dtype)
            return constant(array, dtype=dtype, name=scope)
        return fill(dims, constant(value, dtype=dtype), name=scope)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` (a list, possibly holding scalar tensors, or a 1-D tensor) of zeros."""
    return _filled(shape, 0, dtype, name, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones."""
    return _filled(shape, 1, dtype, name, "ones")


# ---- BroadcastGradientArgs --------------------------------------------------------------------
BroadcastGradientArgs = registry.register_op(
    "BroadcastGradientArgs", inputs=["s0: T", "s1: T"], outputs=["r0: T", "r1: T"],
    attrs={"T": registry.Attr("type", dtypes.int32, allowed=common.INDEX)})
BroadcastGradientArgs.not_differentiable()


@BroadcastGradientArgs.shape
def _bga_shape(op):
    s0, s1 = (tensor_util.constant_value(t) for t in op.inputs)
    if s0 is None or s1 is None:
        return [tensor_shape.vector(None), tensor_shape.vector(None)]
    r0, r1 = reduction_axes_for_broadcast(s0.tolist(), s1.tolist())
    return [tensor_shape.vector(len(r0)), tensor_shape.vector(len(r1))]


def reduction_axes_for_broadcast(s0, s1):
    """Axes to sum a broadcast gradient over, for each of two input shapes (lists of ints)."""
    n = max(len(s0), len(s1))
    p0, p1 = [1] * (n - len(s0)) + list(s0), [1] * (n - len(s1)) + list(s1)
    r0, r1 = [], []
    for i, (a, b) in enumerate(zip(p0, p1)):
        if a != b and a != 1 and b != 1:
            raise ValueError(f"Incompatible shapes: {list(s0)} vs. {list(s1)}")
        if a == 1 and (b != 1 or i < n - len(s0)):
            r0.append(i)
        if b == 1 and (a != 1 or i < n - len(s1)):
            r1.append(i)
    return r0, r1


@BroadcastGradientArgs.kernel("CPU")
def _bga_kernel(ctx, s0, s1):
    r0, r1 = reduction_axes_for_broadcast(s0.tolist(), s1.tolist())
    np_type = ctx.attrs["T"].as_numpy_dtype
    return np.array(r0, dtype=np_type), np.array(r1, dtype=np_type)


_fold_by_kernel("BroadcastGradientArgs")


def broadcast_gradient_args(s0, s1, name=None):
    return apply_op("BroadcastGradientArgs", s0, s1, name=name)


# ---- ZerosLike / OnesLike -----------------------------------------------------------------
def _like_op(name, fill_value):
    op_def = registry.register_op(name, inputs=["x: T"], outputs=["y: T"])
    op_def.shape(common.unchanged_shape)
    op_def.not_differentiable()
    op_def.kernel("CPU")(lambda ctx, x: np.full(np.shape(x), fill_value, dtype=np.asarray(x).dtype))
    return op_def


ZerosLike = _like_op("ZerosLike", 0)
OnesLike = _like_op("OnesLike", 1)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """Zeros with the shape (and dtype, unless given) of `tensor`."""
    tensor = ops.convert_to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype.base_dtype:
        return zeros(shape(tensor), dtype=dtype, name=name)
    return apply_op("ZerosLike", tensor, name=name)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """Ones with the shape (and dtype, unless given) of `tensor`."""
    tensor = ops.convert_to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype.base_dtype:
        return ones(shape(tensor), dtype=dtype, name=name)
    return apply_op("OnesLike", tensor, name=name)


# ---- PlaceholderWithDefault / StopGradient -----------------------------------------------------
PlaceholderWithDefault = registry.register_op(
    "PlaceholderWithDefault", inputs=["input: dtype"], outputs=["output: dtype"],
    attrs={"dtype": "type", "shape": "shape"})


@PlaceholderWithDefault.shape
def _placeholder_with_default_shape(op):
    wanted = op.get_attr("shape")
    given = op.inputs[0].get_shape()
    if not given.is_compatible_with(wanted):
        raise ValueError(f"default value of shape {given} is incompatible with shape {wanted}")
    return wanted


@PlaceholderWithDefault.gradient
def _placeholder_with_default_grad(op, grad):
    return [grad]


@PlaceholderWithDefault.kernel("CPU")
def _placeholder_with_default_kernel(ctx, x):
    return x


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    """`input` unless a value is fed for the result; `shape` may be less specific than input's."""
    return apply_op("PlaceholderWithDefault", input, shape=tensor_shape.as_shape(shape),
                    name=name)


StopGradient = registry.register_op("StopGradient", inputs=["input: T"], outputs=["output: T"])
StopGradient.shape(common.unchanged_shape)
StopGradient.not_differentiable()
StopGradient.kernel("CPU")(_identity_kernel)


def stop_gradient(input, name=None):  # noqa: A002
    """`input` unchanged, but gradients do not flow through it."""
    return apply_op("StopGradient", input, name=name)


# ---- Size / Rank / ShapeN ---------------------------------------------------------------------
Size = registry.register_op("Size", inputs=["input: T"], outputs=["output: out_type"],
                            attrs={"out_type": _index_attr()})
Size.shape(common.scalar_shape)
Size.not_differentiable()


@Size.kernel("CPU")
def _size_kernel(ctx, x):
    return np.array(np.size(x), dtype=ctx.attrs["out_type"].as_numpy_dtype)


@tensor_util.register_constant_folder("Size")
def _fold_size(tensor):
    count = tensor.op.inputs[0].get_shape().num_elements()
    return None if count is None else np.array(count, dtype=tensor.dtype.as_numpy_dtype)


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    """The number of elements of `input`, a scalar of `out_type`."""
    return apply_op("Size", input, name=name, out_type=out_type)


Rank = registry.register_op("Rank", inputs=["input: T"], outputs=["output: int32"])
Rank.shape(common.scalar_shape)
Rank.not_differentiable()


@Rank.kernel("CPU")
def _rank_kernel(ctx, x):
    return np.array(np.ndim(x), dtype=np.int32)


@tensor_util.register_constant_folder("Rank")
def _fold_rank(tensor):
    ndims = tensor.op.inputs[0].get_shape().ndims
    return None if ndims is None else np.array(ndims, dtype=np.int32)


def rank(input, name=None):  # noqa: A002
    """The number of dimensions of `input`, an int32 scalar."""
    return apply_op("Rank", input, name=name)


ShapeN = registry.register_op("ShapeN", inputs=["input: N * T"],
                              outputs=["output: N * out_type"],
                              attrs={"N": "int", "out_type": _index_attr()})
ShapeN.not_differentiable()


@ShapeN.shape
def _shape_n_shape(op):
    return [tensor_shape.vector(t.get_shape().ndims) for t in op.inputs]


@ShapeN.kernel("CPU")
def _shape_n_kernel(ctx, *inputs):
    np_type = ctx.attrs["out_type"].as_numpy_dtype
    return [np.array(np.shape(x), dtype=np_type) for x in inputs]


@tensor_util.register_constant_folder("ShapeN")
def _fold_shape_n(tensor):
    static = tensor.op.inputs[tensor.value_index].get_shape()
    if not static.is_fully_defined():
        return None
    return np.array(static.as_list(), dtype=tensor.dtype.as_numpy_dtype)


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shapes of a list of tensors, one 1-D tensor each."""
    return list(apply_op("ShapeN", list(input), out_type=out_type, name=name))


# ---- ExpandDims / Squeeze -----------------------------------------------------------------------
ExpandDims = registry.register_op("ExpandDims", inputs=["input: T", "dim: Tdim"],
                                  outputs=["output: T"], attrs={"Tdim": _index_attr()})


@ExpandDims.shape
def _expand_dims_shape(op):
    in_shape = op.inputs[0].get_shape()
    dim = tensor_util.constant_value(op.inputs[1])
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape()
    if dim is None:
        return tensor_shape.unknown_shape(in_shape.ndims + 1)
    if np.size(dim) != 1:
        raise ValueError(f"dim must be a scalar, got a tensor of shape {np.shape(dim)}")
    axis = int(np.ravel(dim)[0])
    if not -in_shape.ndims - 1 <= axis <= in_shape.ndims:
        raise ValueError(f"dim {axis} not in the interval [{-in_shape.ndims - 1}, "
                         f"{in_shape.ndims}].")
    axis = axis % (in_shape.ndims + 1)
    dims = in_shape.as_list()
    return tensor_shape.TensorShape(dims[:axis] + [1] + dims[axis:])


@ExpandDims.gradient
def _expand_dims_grad(op, grad):
    return [reshape(_dense(grad), _shape_of(op.inputs[0])), None]


@ExpandDims.kernel("CPU")
def _expand_dims_kernel(ctx, x, dim):
    axis = int(np.ravel(dim)[0])
    x = np.asarray(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Tried to expand dim index {axis} for tensor with {x.ndim} "
                          f"dimensions.")
    axis = axis % (x.ndim + 1)  # a reshape is np.expand_dims without its argument checks
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    """`input` with a dimension of size 1 inserted at `axis` (0.9 spelling: `dim`)."""
    if axis is None and dim is None:
        raise ValueError("expand_dims requires `axis` (or the 0.9 name `dim`), got neither")
    if axis is not None and dim is not None and axis is not dim:
        raise ValueError(f"expand_dims got both axis={axis!r} and dim={dim!r}; pass one")
    return apply_op("ExpandDims", input, axis if axis is not None else dim, name=name)


Squeeze = registry.register_op("Squeeze", inputs=["input: T"], outputs=["output: T"],
                               attrs={"squeeze_dims": registry.Attr("list(int)", [])})


@Squeeze.shape
def _squeeze_shape(op):
    in_shape = op.inputs[0].get_shape()
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape()
    dims = in_shape.as_list()
    axes = {common.normalize_axis(a, len(dims), "squeeze dim")
            for a in op.get_attr("squeeze_dims")}
    if not axes:
        if None in dims:
            return tensor_shape.unknown_shape()
        return tensor_shape.TensorShape([d for d in dims if d != 1])
    for a in axes:
        if dims[a] not in (1, None):
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                             f"{dims[a]}")
    return tensor_shape.TensorShape([d for i, d in enumerate(dims) if i not in axes])


@Squeeze.gradient
def _squeeze_grad(op, grad):
    return [reshape(_dense(grad), _shape_of(op.inputs[0]))]


@Squeeze.kernel("CPU")
def _squeeze_kernel(ctx, x):
    axes = tuple(ctx.attrs["squeeze_dims"])
    for a in axes:
        if not -np.ndim(x) <= a < np.ndim(x):
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Tried to squeeze dim index {a} for tensor with {np.ndim(x)} "
                              f"dimensions.")
        if np.shape(x)[a] != 1:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Can not squeeze dim[{a % np.ndim(x)}], expected a dimension of "
                              f"1, got {np.shape(x)[a]}")
    return np.squeeze(x, axis=axes or None)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """`input` without the size-1 dimensions listed in `axis` (all of them when None)."""
    axes = axis if axis is not None else squeeze_dims
    if isinstance(axes, (int, np.integer)):
        axes = [axes]
    return apply_op("Squeeze", input, squeeze_dims=[int(a) for a in axes or []], name=name)


for _op_type in ("Reshape", "ExpandDims", "Squeeze", "Identity", "StopGradient"):
    _fold_by_kernel(_op_type)


# ---- Range ----------------------------------------------------------------------------------
Range = registry.register_op(
    "Range", inputs=["start: Tidx", "limit: Tidx", "delta: Tidx"], outputs=["output: Tidx"],
    attrs={"Tidx": registry.Attr("type", dtypes.int32, allowed=(
        dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64))})
Range.not_differentiable()


def _range_length(start, limit, delta):
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        raise ValueError(f"Requires start {'<=' if delta > 0 else '>='} limit when delta "
                         f"{'>' if delta > 0 else '<'} 0: {start}/{limit}")
    return int(np.ceil(abs((limit - start) / delta)))


@Range.shape
def _range_shape(op):
    values = [tensor_util.constant_value(t) for t in op.inputs]
    for t in op.inputs:
        t.get_shape().with_rank(0)
    if any(v is None for v in values):
        return tensor_shape.vector(None)
    return tensor_shape.vector(_range_length(*(v.item() for v in values)))


@Range.kernel("CPU")
def _range_kernel(ctx, start, limit, delta):
    try:
        n = _range_length(start.item(), limit.item(), delta.item())
    except ValueError as e:
        raise errors.InvalidArgumentError(None, ctx.op, str(e)) from None
    dtype = ctx.attrs["Tidx"].as_numpy_dtype
    limits.check_allocation(ctx.op, [n], dtype)
    return (start + delta * np.arange(n)).astype(dtype)


_fold_by_kernel("Range")
_RANGE_ORDER = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """[start, start + delta, ...) up to `limit`, like Python's range; `range(n)` is 0..n-1."""
    if limit is None:
        start, limit = 0, start
    with ops.name_scope(name, "Range", [start, limit, delta]) as scope:
        if dtype is None:
            inferred = [v.dtype.base_dtype if isinstance(v, ops.Tensor) else
                        tensor_util._infer_dtype(v) for v in (start, limit, delta)]
            dtype = max(inferred, key=lambda d: _RANGE_ORDER.index(d)
                        if d in _RANGE_ORDER else 0)
        dtype = dtypes.as_dtype(dtype)
        from tensorflux.ops import math_ops
        args = [math_ops.cast(v, dtype) if isinstance(v, ops.Tensor)
                else ops.convert_to_tensor(v, dtype=dtype) for v in (start, limit, delta)]
        return apply_op("Range", *args, name=scope)


# ---- Reverse / ReverseV2 -----------------------------------------------------------------------
Reverse = registry.register_op("Reverse", inputs=["tensor: T", "dims: bool"],
                               outputs=["output: T"])
Reverse.shape(common.unchanged_shape)
ReverseV2 = registry.register_op("ReverseV2", inputs=["tensor: T", "axis: Tidx"],
                                 outputs=["output: T"], attrs={"Tidx": _index_attr()})
ReverseV2.shape(common.unchanged_shape)


@Reverse.gradient
def _reverse_grad(op, grad):
    return [apply_op("Reverse", _dense(grad), op.inputs[1]), None]


@Reverse.kernel("CPU")
def _reverse_kernel(ctx, x, dims):
    if np.size(dims) != np.ndim(x):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"dims must have one bool per dimension of tensor ({np.ndim(x)}), "
                          f"got {np.size(dims)}")
    return np.asarray(np.flip(x, axis=tuple(np.flatnonzero(dims).tolist())))


@ReverseV2.gradient
def _reverse_v2_grad(op, grad):
    return [apply_op("ReverseV2", _dense(grad), op.inputs[1]), None]


@ReverseV2.kernel("CPU")
def _reverse_v2_kernel(ctx, x, axis):
    axes, ndims = [int(a) for a in np.ravel(axis)], np.ndim(x)
    for i, a in enumerate(axes):
        if not -ndims <= a < ndims:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"'axis'[{i}] = {a} is out of valid range [0, {ndims})")
    if len({a % ndims for a in axes}) != len(axes):
        raise errors.InvalidArgumentError(None, ctx.op, f"axis {axes} specifies a dimension "
                                                        f"more than once")
    return np.asarray(np.flip(x, axis=tuple(axes)))


def _is_bool_dims(dims):
    if isinstance(dims, ops.Tensor):
        return dims.dtype.base_dtype == dtypes.bool
    if isinstance(dims, np.ndarray):
        return dims.dtype == np.bool_
    flat = np.ravel(np.asarray(dims, dtype=object)) if np.size(dims) else []
    return len(flat) > 0 and all(isinstance(d, (bool, np.bool_)) for d in flat)


def reverse(tensor, axis, name=None):
    """`tensor` reversed along the axes in `axis` (1.0), or where `axis` (0.9: a bool per
    dimension) is True."""
    if _is_bool_dims(axis):
        return apply_op("Reverse", tensor, axis, name=name)
    return apply_op("ReverseV2", tensor, _ints(axis), name=name)


def reverse_v2(tensor, axis, name=None):
    """`tensor` reversed along the listed axes."""
    return apply_op("ReverseV2", tensor, _ints(axis), name=name)


# ---- Transpose / InvertPermutation ------------------------------------------------------------
Transpose = registry.register_op("Transpose", inputs=["x: T", "perm: Tperm"],
                                 outputs=["y: T"], attrs={"Tperm": _index_attr()})


@Transpose.shape
def _transpose_shape(op):
    in_shape = op.inputs[0].get_shape()
    perm = tensor_util.constant_value(op.inputs[1])
    if perm is None:
        n = op.inputs[1].get_shape().with_rank(1)[0].value
        return tensor_shape.unknown_shape(in_shape.ndims if n is None else n)
    perm = [int(p) for p in np.ravel(perm)]
    dims = in_shape.with_rank(len(perm)).as_list()
    for p in perm:
        if not 0 <= p < len(perm):
            raise ValueError(f"perm dim {p} is out of range of input rank {len(perm)}")
    if sorted(perm) != list(_range(len(perm))):  # TF finds a repeat at run time; 0.9 here
        raise ValueError(_permutation_error(perm, len(perm)))
    return tensor_shape.TensorShape([dims[p] for p in perm])


@Transpose.gradient
def _transpose_grad(op, grad):
    return [transpose(_dense(grad), invert_permutation(op.inputs[1])), None]


@Transpose.kernel("CPU")
def _transpose_kernel(ctx, x, perm):
    perm = np.ravel(perm).tolist()
    if sorted(perm) != list(_range(np.ndim(x))):
        raise errors.InvalidArgumentError(None, ctx.op, _permutation_error(perm, np.ndim(x)))
    return np.transpose(x, perm)


def _permutation_error(perm, dims):
    """Why `perm` does not permute `dims` dimensions, in TF's words."""
    if len(perm) != dims:
        return (f"transpose expects a vector of size {dims}. But input(1) is a vector of size "
                f"{len(perm)}")
    for d in perm:
        if not 0 <= d < dims:
            return f"{d} is out of range [0 .. {dims})"
    missing = min(set(_range(dims)) - set(perm))
    return f"{missing} is missing from {{{','.join(str(d) for d in perm)}}}."


_fold_by_kernel("Transpose")


def transpose(a, perm=None, name="transpose", conjugate=False):
    """`a` with its dimensions permuted by `perm` (default: reversed)."""
    with ops.name_scope(name, "transpose", [a]) as scope:
        a = ops.convert_to_tensor(a)
        if perm is None:
            ndims = a.get_shape().ndims
            if ndims is not None:
                perm = np.arange(ndims - 1, -1, -1, dtype=np.int32)
            else:
                r = rank(a)
                perm = (r - 1) - range(0, r, 1)
        return apply_op("Transpose", a, _ints(perm), name=scope)


InvertPermutation = registry.register_op("InvertPermutation", inputs=["x: T"],
                                         outputs=["y: T"], attrs={"T": _index_attr()})
InvertPermutation.shape(common.unchanged_shape)
InvertPermutation.not_differentiable()


@InvertPermutation.kernel("CPU")
def _invert_permutation_kernel(ctx, x):
    x = np.ravel(x)
    if sorted(x.tolist()) != list(_range(x.size)):
        raise errors.InvalidArgumentError(None, ctx.op, f"{x.tolist()} is not a permutation "
                                          f"of 0..{x.size - 1}")
    inverse = np.empty_like(x)
    inverse[x] = np.arange(x.size, dtype=x.dtype)
    return inverse


_fold_by_kernel("InvertPermutation")


def invert_permutation(x, name=None):
    """y with y[x[i]] = i for a permutation x of 0..n-1."""
    return apply_op("InvertPermutation", x, name=name)


# ---- re-exports: the families split out of this module (they import this one first) ---------
from tensorflux.ops import indexing_ops  # noqa: E402 re-export
from tensorflux.ops import joining_ops  # noqa: E402 re-export
from tensorflux.ops import slicing_ops  # noqa: E402 re-export
from tensorflux.ops.joining_ops import (  # noqa: E402,F401 re-export
    Concat, ConcatV2, Split, SplitV, Pack, Unpack, Tile, Pad, MirrorPad, MirrorPadGrad,
    BroadcastTo, concat, concat_v2, split, split_v, stack, unstack, pack, unpack, tile, pad,
    broadcast_to)
from tensorflux.ops.slicing_ops import (  # noqa: E402,F401 re-export
    Slice, StridedSlice, StridedSliceGrad, slice, strided_slice)
from tensorflux.ops.indexing_ops import (  # noqa: E402,F401 re-export
    Gather, GatherV2, OneHot, Where, DynamicPartition, DynamicStitch, Unique,
    gather, one_hot, where, dynamic_partition, dynamic_stitch, unique, boolean_mask)

__all__ += joining_ops.__all__ + slicing_ops.__all__ + indexing_ops.__all__
