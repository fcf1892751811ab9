"""Array ops: placeholders, identity, shapes and reshaping, filling, slicing, joining."""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.ops.constant_op import constant

__all__ = [
    "placeholder",
    "identity",
    "shape",
    "reshape",
    "fill",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "broadcast_gradient_args",
]

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
                      f"{ctx.attrs['dtype'].name}" + ("" if shape.ndims is None else
                                                      f" and shape {shape}"))


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
    return apply_op("Shape", input, name=name, out_type=out_type)


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
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {new}")
        dims[dims.index(None)] = total // known
    elif known != total:
        raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {new} "
                         f"({known} elements)")
    return tensor_shape.TensorShape(dims)


@Reshape.gradient
def _reshape_grad(op, grad):
    return [reshape(grad, shape(op.inputs[0])), None]


@Reshape.kernel("CPU")
def _reshape_kernel(ctx, x, new_shape):
    return np.reshape(x, new_shape)


def reshape(tensor, shape, name=None):  # noqa: A002
    """`tensor` with a new shape (one dimension may be -1)."""
    return apply_op("Reshape", tensor, shape, name=name)


Fill = registry.register_op("Fill", inputs=["dims: index_type", "value: T"],
                            outputs=["output: T"],
                            attrs={"index_type": registry.Attr("type", dtypes.int32,
                                                               allowed=common.INDEX)})


@Fill.shape
def _fill_shape(op):
    op.inputs[1].get_shape().assert_has_rank(0)
    return tensor_util.constant_value_as_shape(op.inputs[0])


@Fill.gradient
def _fill_grad(op, grad):
    from tensorflux.ops import math_ops
    return [None, math_ops.reduce_sum(grad)]


@Fill.kernel("CPU")
def _fill_kernel(ctx, dims, value):
    return np.full(dims, value, dtype=np.asarray(value).dtype)


def fill(dims, value, name=None):
    return apply_op("Fill", dims, value, name=name)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with zeros."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, "zeros", [shape]) as scope:
        if not isinstance(shape, ops.Tensor):
            return constant(np.zeros(tensor_shape.as_shape(shape).as_list(),
                                     dtype.as_numpy_dtype), dtype=dtype, name=scope)
        return fill(shape, constant(0, dtype=dtype), name=scope)


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, "ones", [shape]) as scope:
        if not isinstance(shape, ops.Tensor):
            return constant(np.ones(tensor_shape.as_shape(shape).as_list(),
                                    dtype.as_numpy_dtype), dtype=dtype, name=scope)
        return fill(shape, constant(1, dtype=dtype), name=scope)


# ---- BroadcastGradientArgs --------------------------------------------------------------------
BroadcastGradientArgs = registry.register_op(
    "BroadcastGradientArgs", inputs=["s0: T", "s1: T"], outputs=["r0: T", "r1: T"],
    attrs={"T": registry.Attr("type", dtypes.int32, allowed=common.INDEX)})
BroadcastGradientArgs.not_differentiable()


@BroadcastGradientArgs.shape
def _bga_shape(op):
    return [tensor_shape.vector(None), tensor_shape.vector(None)]


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
