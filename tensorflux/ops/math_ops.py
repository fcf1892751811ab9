"""Math ops: element-wise arithmetic with broadcasting, reductions, matrix products.

Binary element-wise ops are declared through `_binary_op`; their gradients go through the one
`unbroadcast` helper, which sums a broadcast gradient back to each input's shape.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common

__all__ = [
    "add",
    "subtract",
    "multiply",
    "realdiv",
    "negative",
    "square",
    "sub",
    "mul",
    "neg",
    "reduce_sum",
    "matmul",
    "batch_matmul",
    "add_n",
    "cast",
    "to_float",
    "to_double",
    "to_int32",
    "to_int64",
]


# ---- the broadcast-gradient helper -----------------------------------------------------------
def unbroadcast(op, gx, gy):
    """Sums gradients of a broadcasting binary op back to the shapes of its two inputs."""
    x, y = op.inputs[0], op.inputs[1]
    sx, sy = x.get_shape(), y.get_shape()
    if sx.is_fully_defined() and sy.is_fully_defined():
        if sx == sy:
            return gx, gy
        rx, ry = array_ops.reduction_axes_for_broadcast(sx.as_list(), sy.as_list())
        return (_sum_to(gx, rx, sx.as_list()), _sum_to(gy, ry, sy.as_list()))
    shape_x, shape_y = array_ops.shape(x), array_ops.shape(y)
    rx, ry = array_ops.broadcast_gradient_args(shape_x, shape_y)
    gx = None if gx is None else array_ops.reshape(reduce_sum(gx, rx), shape_x)
    gy = None if gy is None else array_ops.reshape(reduce_sum(gy, ry), shape_y)
    return gx, gy


def _sum_to(grad, axes, shape):
    if grad is None:
        return None
    if axes:
        grad = reduce_sum(grad, axes)
    if grad.get_shape().as_list() != shape:
        grad = array_ops.reshape(grad, shape)
    return grad


def _binary_op(name, allowed, numpy_fn, out_type=None):
    """Registers a broadcasting binary op x, y -> z with kernel `numpy_fn` (dtype preserved)."""
    outputs = [f"z: {out_type}"] if out_type else ["z: T"]
    op_def = registry.register_op(name, inputs=["x: T", "y: T"], outputs=outputs,
                                  attrs={"T": allowed})
    op_def.shape(common.broadcast_binary_shape)
    if out_type:
        op_def.kernel("CPU")(lambda ctx, x, y: numpy_fn(x, y))
    else:
        def kernel(ctx, x, y):
            result = numpy_fn(x, y)
            dtype = ctx.attrs["T"].as_numpy_dtype
            return result if result.dtype == dtype else result.astype(dtype)
        op_def.kernel("CPU")(kernel)
    return op_def


def _unary_op(name, allowed, numpy_fn):
    op_def = registry.register_op(name, inputs=["x: T"], outputs=["y: T"], attrs={"T": allowed})
    op_def.shape(common.unchanged_shape)

    def kernel(ctx, x):
        result = numpy_fn(x)
        dtype = ctx.attrs["T"].as_numpy_dtype
        return result if result.dtype == dtype else result.astype(dtype)
    op_def.kernel("CPU")(kernel)
    return op_def


# ---- Add / Sub / Mul / RealDiv --------------------------------------------------------------
Add = _binary_op("Add", common.NUMBERS | {dtypes.string}, np.add)


@Add.gradient
def _add_grad(op, grad):
    return unbroadcast(op, grad, grad)


Sub = _binary_op("Sub", common.NUMBERS, np.subtract)


@Sub.gradient
def _sub_grad(op, grad):
    return unbroadcast(op, grad, negative(grad))


Mul = _binary_op("Mul", common.NUMBERS, np.multiply)


@Mul.gradient
def _mul_grad(op, grad):
    x, y = op.inputs
    return unbroadcast(op, grad * y, x * grad)


RealDiv = _binary_op("RealDiv", common.NUMBERS, np.true_divide)


@RealDiv.gradient
def _realdiv_grad(op, grad):
    x, y = op.inputs
    return unbroadcast(op, grad / y, grad * (negative(x) / square(y)))


Neg = _unary_op("Neg", common.SIGNED, np.negative)


@Neg.gradient
def _neg_grad(op, grad):
    return [negative(grad)]


Square = _unary_op("Square", common.SIGNED, np.square)


@Square.gradient
def _square_grad(op, grad):
    x = op.inputs[0]
    with ops.control_dependencies([grad.op]):
        return [grad * (2.0 * x if x.dtype.is_floating else 2 * x)]


def add(x, y, name=None):
    return apply_op("Add", x, y, name=name)


def subtract(x, y, name=None):
    return apply_op("Sub", x, y, name=name)


def multiply(x, y, name=None):
    return apply_op("Mul", x, y, name=name)


def realdiv(x, y, name=None):
    return apply_op("RealDiv", x, y, name=name)


def negative(x, name=None):
    return apply_op("Neg", x, name=name)


def square(x, name=None):
    return apply_op("Square", x, name=name)


sub, mul, neg = subtract, multiply, negative


# ---- reductions ---------------------------------------------------------------------------
def _reduction_shape(op):
    in_shape = op.inputs[0].get_shape()
    axes = tensor_util.constant_value(op.inputs[1])
    keep = op.get_attr("keep_dims")
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape()
    if axes is None:
        return tensor_shape.unknown_shape(in_shape.ndims if keep else None)
    n = in_shape.ndims
    axes = {common.normalize_axis(int(a), n, "reduction axis") for a in np.ravel(axes)}
    dims = in_shape.as_list() if n else []
    if keep:
        return tensor_shape.TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return tensor_shape.TensorShape([d for i, d in enumerate(dims) if i not in axes])


def _reduction_op(name, allowed, numpy_fn):
    op_def = registry.register_op(name, inputs=["input: T", "reduction_indices: Tidx"],
                                  outputs=["output: T"],
                                  attrs={"keep_dims": False, "T": allowed,
                                         "Tidx": registry.Attr("type", dtypes.int32,
                                                               allowed=common.INDEX)})
    op_def.shape(_reduction_shape)

    def kernel(ctx, x, axes):
        axis = tuple(int(a) for a in np.ravel(axes))
        result = numpy_fn(x, axis=axis, keepdims=ctx.attrs["keep_dims"])
        return np.asarray(result, dtype=ctx.attrs["T"].as_numpy_dtype)
    op_def.kernel("CPU")(kernel)
    return op_def


Sum = _reduction_op("Sum", common.NUMBERS, np.sum)


def _reduced_shape(x, axes):
    """x's shape with the reduced axes set to 1 (to broadcast a reduction's gradient back)."""
    x_shape = array_ops.shape(x)
    static_in = tensor_util.constant_value(x_shape)
    static_axes = tensor_util.constant_value(axes)
    rank = x.get_shape().ndims
    if static_axes is not None and rank is not None:
        keep = np.ones([rank], dtype=np.int32)
        keep[[int(a) % max(rank, 1) for a in np.ravel(static_axes)]] = 0
        if static_in is not None:
            return static_in * keep + (1 - keep)
        # [d0, d1, d2] * [1, 0, 1] + [0, 1, 0] -> [d0, 1, d2]
        return x_shape * keep + (1 - keep)
    rank_t = array_ops.size(x_shape)
    axes = (axes + rank_t) % rank_t
    return array_ops.dynamic_stitch([array_ops.range(rank_t), axes],
                                    [x_shape, array_ops.fill(array_ops.shape(axes), 1)])


@Sum.gradient
def _sum_grad(op, grad):
    x = op.inputs[0]
    kept = _reduced_shape(x, op.inputs[1])
    return [broadcast_to_shape(array_ops.reshape(grad, kept), array_ops.shape(x)), None]


def broadcast_to_shape(x, shape):
    """x broadcast to `shape` (a shape tensor), as a product with ones."""
    static = tensor_util.constant_value(shape)
    if static is not None and x.get_shape().is_fully_defined() and \
            x.get_shape().as_list() == list(static):
        return x
    return x * array_ops.ones(shape, dtype=x.dtype.base_dtype)


def _axes_arg(input_tensor, axis, reduction_indices, name):
    if axis is not None and reduction_indices is not None:
        raise ValueError("Can not specify both 'axis' and 'reduction_indices'.")
    axes = axis if axis is not None else reduction_indices
    if axes is None:
        rank = input_tensor.get_shape().ndims
        if rank is not None:
            return np.arange(rank, dtype=np.int32)
        return array_ops.range(0, array_ops.rank(input_tensor))
    return axes


def _keep(keep_dims, keepdims):
    if keep_dims is not None and keepdims is not None and keep_dims != keepdims:
        raise ValueError("keep_dims and keepdims disagree")
    return bool(keepdims if keepdims is not None else keep_dims)


def _reduce(op_type, input_tensor, axis, keep_dims, name, reduction_indices, keepdims):
    x = ops.convert_to_tensor(input_tensor)
    axes = _axes_arg(x, axis, reduction_indices, name)
    return apply_op(op_type, x, axes, keep_dims=_keep(keep_dims, keepdims), name=name)


def reduce_sum(input_tensor, axis=None, keep_dims=None, name=None, reduction_indices=None,
               keepdims=None):
    """Sum over `axis` (or all axes); 0.9's `reduction_indices` and `keep_dims` also work."""
    return _reduce("Sum", input_tensor, axis, keep_dims, name, reduction_indices, keepdims)


# ---- MatMul -----------------------------------------------------------------------------
MatMul = registry.register_op("MatMul", inputs=["a: T", "b: T"], outputs=["product: T"],
                              attrs={"transpose_a": False, "transpose_b": False,
                                     "T": common.FLOATS | common.COMPLEX
                                     | {dtypes.int32, dtypes.int64}})


@MatMul.shape
def _matmul_shape(op):
    a = op.inputs[0].get_shape().with_rank(2)
    b = op.inputs[1].get_shape().with_rank(2)
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    m, k1 = (a[1], a[0]) if ta else (a[0], a[1])
    k2, n = (b[1], b[0]) if tb else (b[0], b[1])
    if not k1.is_compatible_with(k2):
        raise ValueError(f"inner dimensions must match, got a: {a} and b: {b} "
                         f"(transpose_a={ta}, transpose_b={tb})")
    return tensor_shape.TensorShape([m, n])


@MatMul.gradient
def _matmul_grad(op, grad):
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


@MatMul.kernel("CPU")
def _matmul_kernel(ctx, a, b):
    if ctx.attrs["transpose_a"]:
        a = a.T
    if ctx.attrs["transpose_b"]:
        b = b.T
    return np.matmul(a, b)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix product of `a` and `b` (rank 2; higher ranks go to BatchMatMul)."""
    a = ops.convert_to_tensor(a, name="a")
    b = ops.convert_to_tensor(b, dtype=a.dtype.base_dtype, name="b")
    ranks = (a.get_shape().ndims, b.get_shape().ndims)
    if ranks != (2, 2) and None not in ranks and _has_batch_matmul():
        return batch_matmul(a, b, adj_x=transpose_a or adjoint_a,
                            adj_y=transpose_b or adjoint_b, name=name)
    return apply_op("MatMul", a, b, transpose_a=transpose_a or adjoint_a,
                    transpose_b=transpose_b or adjoint_b, name=name)


def _has_batch_matmul():
    return "BatchMatMul" in registry.registered_ops()


def batch_matmul(x, y, adj_x=False, adj_y=False, name=None):
    return apply_op("BatchMatMul", x, y, adj_x=adj_x, adj_y=adj_y, name=name)


# ---- operator overloads ---------------------------------------------------------------------
def _binary_overload(fn, reverse=False):
    if reverse:
        def method(self, other):
            return fn(ops.convert_to_tensor(other, dtype=self.dtype.base_dtype), self)
    else:
        def method(self, other):
            return fn(self, other)
    return method


def _truediv(x, y, name=None):
    """Python 3 `/`: integers are cast to floats first (TensorFlow's truediv)."""
    x = ops.convert_to_tensor(x)
    y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype)
    return realdiv(x, y, name=name)


for _name, _fn in (("add", add), ("sub", subtract), ("mul", multiply), ("truediv", _truediv),
                   ("matmul", matmul)):
    ops.Tensor._override_operator(f"__{_name}__", _binary_overload(_fn))
    ops.Tensor._override_operator(f"__r{_name}__", _binary_overload(_fn, reverse=True))
ops.Tensor._override_operator("__neg__", lambda self: negative(self))


# ---- AddN ---------------------------------------------------------------------------------
AddN = registry.register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"],
                            attrs={"N": "int", "T": common.NUMBERS})
AddN.shape(common.merged_input_shapes)


@AddN.gradient
def _addn_grad(op, grad):
    return [grad] * len(op.inputs)


@AddN.kernel("CPU")
def _addn_kernel(ctx, *inputs):
    total = np.array(inputs[0], copy=True)
    for x in inputs[1:]:
        total += x
    return total


def add_n(inputs, name=None):
    """Element-wise sum of a list of tensors of one shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a non-empty list of at least one Tensor with the same "
                         "dtype and shape")
    if len(inputs) == 1:
        return array_ops.identity(inputs[0], name=name) if name else inputs[0]
    return apply_op("AddN", list(inputs), name=name)


# ---- Cast ---------------------------------------------------------------------------------
Cast = registry.register_op("Cast", inputs=["x: SrcT"], outputs=["y: DstT"],
                            attrs={"SrcT": "type", "DstT": "type", "Truncate": False})
Cast.shape(common.unchanged_shape)


@Cast.gradient
def _cast_grad(op, grad):
    src, dst = op.get_attr("SrcT"), op.get_attr("DstT")
    differentiable = (src.is_floating or src.is_complex) and (dst.is_floating or dst.is_complex)
    return [cast(grad, src) if differentiable else None]


@Cast.kernel("CPU")
def _cast_kernel(ctx, x):
    return np.asarray(x).astype(ctx.attrs["DstT"].as_numpy_dtype)


def cast(x, dtype, name=None):
    """`x` converted to `dtype` (a no-op when it already has it)."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    if isinstance(x, ops.IndexedSlices):
        return ops.IndexedSlices(cast(x.values, dtype, name), x.indices, x.dense_shape)
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == dtype:
        return x
    return apply_op("Cast", x, DstT=dtype, name=name)


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)
