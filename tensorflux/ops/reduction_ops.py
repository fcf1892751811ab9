"""Reductions (Sum, Mean, Prod, Max, Min, All, Any) and ArgMax / ArgMin.

Reductions share `_reduction_op` and `_reduce`; their gradients reshape to `_reduced_shape` and
broadcast back with `broadcast_to_shape`. Element-wise helpers come from math_ops, imported inside
the functions that use them (math_ops imports this module at load time).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import blas_threads
from tensorflux.ops import common

__all__ = [
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all",
    "reduce_any", "count_nonzero", "argmax", "argmin",
]


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
    for a in np.ravel(axes):
        if not -n <= int(a) < max(n, 1):
            raise ValueError(f"Invalid reduction dimension {int(a)} for input with {n} "
                             f"dimensions.")
    axes = {common.normalize_axis(int(a), n, "reduction axis") for a in np.ravel(axes)}
    dims = in_shape.as_list() if n else []
    if keep:
        return tensor_shape.TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return tensor_shape.TensorShape([d for i, d in enumerate(dims) if i not in axes])


def _reduction_op(name, allowed, numpy_fn, in_type="T"):
    attrs = {"keep_dims": False,
             "Tidx": registry.Attr("type", dtypes.int32, allowed=common.INDEX)}
    if in_type == "T":
        attrs["T"] = allowed
    op_def = registry.register_op(name, inputs=[f"input: {in_type}", "reduction_indices: Tidx"],
                                  outputs=[f"output: {in_type}"], attrs=attrs)
    op_def.shape(_reduction_shape)

    def kernel(ctx, x, axes):
        # tolist gives Python ints in one call (a generator of int() costs more per step)
        axis = tuple(np.asarray(axes).ravel().tolist())
        try:
            result = numpy_fn(x, axis=axis, keepdims=ctx.attrs["keep_dims"])
        except (ValueError, IndexError):  # NumPy's AxisError is both
            _check_reduction_axes(ctx, axis, np.ndim(x))
            raise
        out = ctx.attrs["T"].as_numpy_dtype if in_type == "T" else np.bool_
        if type(result) is np.ndarray and result.dtype.type is out:
            return result
        return np.asarray(result, dtype=out)
    op_def.kernel("CPU")(kernel)
    return op_def


def _check_reduction_axes(ctx, axis, ndims):
    """TF's errors for reduction axes out of range or repeated."""
    seen = set()
    for a in axis:
        if not -ndims <= a < max(ndims, 1):
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Invalid reduction dimension ({a} for input with {ndims} "
                              f"dimension(s)")
        if a % max(ndims, 1) in seen:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Invalid reduction arguments: Axes contains duplicate dimension: "
                              f"{a % ndims}")
        seen.add(a % max(ndims, 1))


def _sum(x, axis, keepdims):
    """np.sum, with a sum over every axis but the last of a float matrix-like array (a bias
    gradient: `conv + b` sums [N, H, W, C] over N, H, W) done as ones @ x: BLAS's GEMV is ~5x
    faster than NumPy's row-by-row reduction there, and no less accurate."""
    x = np.asarray(x)
    lead = tuple(range(x.ndim - 1))
    if len(axis) == len(lead) and x.ndim >= 2 and x.dtype in (np.float32, np.float64) and \
            x.flags.c_contiguous and x.size and all(-x.ndim <= a < x.ndim for a in axis) and \
            tuple(sorted(a % x.ndim for a in axis)) == lead:
        rows = x.size // x.shape[-1]  # small ones on one BLAS thread, as small MatMuls
        total = blas_threads.matmul(np.ones((1, rows), dtype=x.dtype),
                                    x.reshape(rows, x.shape[-1])).reshape(-1)
        return total.reshape((1,) * len(lead) + total.shape) if keepdims else total
    return x.sum(axis=axis, keepdims=keepdims)  # the method skips np.sum's dispatch


Sum = _reduction_op("Sum", common.NUMBERS, _sum)


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


Mean = _reduction_op("Mean", common.NUMBERS, np.mean)


@Mean.gradient
def _mean_grad(op, grad):
    from tensorflux.ops import math_ops
    sum_grad = _sum_grad(op, grad)[0]
    x, y = op.inputs[0], op.outputs[0]
    sx, sy = x.get_shape(), y.get_shape()
    if sx.is_fully_defined() and sy.is_fully_defined():
        count = max(sx.num_elements(), 1) // max(sy.num_elements(), 1)
        return [sum_grad / ops.convert_to_tensor(count, dtype=sum_grad.dtype.base_dtype), None]
    count = math_ops.floordiv(reduce_prod(array_ops.shape(x)),
                              math_ops.maximum(reduce_prod(array_ops.shape(y)), 1))
    return [sum_grad / math_ops.cast(count, sum_grad.dtype.base_dtype), None]


Prod = _reduction_op("Prod", common.NUMBERS, np.prod)


@Prod.gradient
def _prod_grad(op, grad):
    """d prod / d x_i is the product of the other elements. With p the product of a slice's
    non-zero elements and z its number of zeros: p / x_i if z == 0; p at the zero if z == 1;
    0 otherwise (never a division by zero, unlike TF 0.9's prod / x)."""
    from tensorflux.ops import math_ops
    x, axes = op.inputs
    kept = _reduced_shape(x, axes)
    is_zero = math_ops.equal(x, array_ops.zeros_like(x))
    ones = array_ops.ones_like(x)
    nonzero = math_ops.select(is_zero, ones, x)
    p = array_ops.reshape(apply_op("Prod", nonzero, axes), kept)
    zeros = array_ops.reshape(reduce_sum(math_ops.cast(is_zero, x.dtype.base_dtype), axes),
                              kept)
    zeros = broadcast_to_shape(zeros, array_ops.shape(x))
    others = math_ops.select(is_zero, math_ops.cast(math_ops.equal(zeros, 1), x.dtype.base_dtype)
                             * broadcast_to_shape(p, array_ops.shape(x)),
                             math_ops.cast(math_ops.equal(zeros, 0), x.dtype.base_dtype)
                             * (p / nonzero))
    from tensorflux.ops.complex_ops import conj
    return [conj(others) * array_ops.reshape(grad, kept), None]


def _with_identity(numpy_fn, sign):
    """np.max/np.min that reduce an empty tensor to TF's identity (the dtype's lowest value for
    Max, its highest for Min) instead of raising NumPy's 'zero-size array' error."""
    def reduce(x, axis, keepdims):
        x = np.asarray(x)
        if x.size:
            return numpy_fn(x, axis=axis, keepdims=keepdims)
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            identity = info.min if sign < 0 else info.max
        else:
            identity = sign * np.inf
        return numpy_fn(x, axis=axis, keepdims=keepdims, initial=identity)
    return reduce


Max = _reduction_op("Max", common.REALS, _with_identity(np.max, -1))
Min = _reduction_op("Min", common.REALS, _with_identity(np.min, 1))


def _min_or_max_grad(op, grad):
    """Gradient to the positions equal to the extreme value, shared equally among ties."""
    from tensorflux.ops import math_ops
    x, axes = op.inputs
    kept = _reduced_shape(x, axes)
    y = array_ops.reshape(op.outputs[0], kept)
    hits = math_ops.cast(math_ops.equal(y, x), grad.dtype.base_dtype)
    count = array_ops.reshape(reduce_sum(hits, axes), kept)
    return [hits / count * array_ops.reshape(grad, kept), None]


Max.gradient(_min_or_max_grad)
Min.gradient(_min_or_max_grad)
All = _reduction_op("All", None, np.all, in_type="bool").not_differentiable()
Any = _reduction_op("Any", None, np.any, in_type="bool").not_differentiable()


def _axes_arg(input_tensor, axis, reduction_indices, name):
    if axis is not None and reduction_indices is not None:
        raise ValueError("Can not specify both 'axis' and 'reduction_indices'.")
    axes = axis if axis is not None else reduction_indices
    if axes is None:
        rank = input_tensor.get_shape().ndims
        if rank is not None:
            return np.arange(rank, dtype=np.int32)
        return array_ops.range(0, array_ops.rank(input_tensor))
    if isinstance(axes, (list, tuple)) and not axes:
        return np.zeros([0], dtype=np.int32)
    return axes


def _keep(keep_dims, keepdims):
    if keep_dims is not None and keepdims is not None and keep_dims != keepdims:
        raise ValueError("keep_dims and keepdims disagree")
    return bool(keepdims if keepdims is not None else keep_dims)


def _reduce(op_type, input_tensor, axis, keep_dims, name, reduction_indices, keepdims):
    x = ops.convert_to_tensor(input_tensor)
    axes = _axes_arg(x, axis, reduction_indices, name)
    return apply_op(op_type, x, axes, keep_dims=_keep(keep_dims, keepdims), name=name)


def _reduce_api(op_type, doc):
    def fn(input_tensor, axis=None, keep_dims=None, name=None, reduction_indices=None,
           keepdims=None):
        return _reduce(op_type, input_tensor, axis, keep_dims, name, reduction_indices,
                       keepdims)
    fn.__name__, fn.__doc__ = f"reduce_{op_type.lower()}", doc + (
        " over `axis` (or all axes); 0.9's `reduction_indices` and `keep_dims` also work.")
    return fn


reduce_sum = _reduce_api("Sum", "Sum")
reduce_mean = _reduce_api("Mean", "Mean")
reduce_max = _reduce_api("Max", "Maximum")
reduce_min = _reduce_api("Min", "Minimum")
reduce_prod = _reduce_api("Prod", "Product")
reduce_all = _reduce_api("All", "Logical AND")
reduce_any = _reduce_api("Any", "Logical OR")


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None):
    """Number of non-zero elements over `axis` (or all axes)."""
    from tensorflux.ops import math_ops
    with ops.name_scope(name, "count_nonzero", [input_tensor]):
        x = ops.convert_to_tensor(input_tensor, name="input_tensor")
        zero = array_ops.zeros([], dtype=x.dtype.base_dtype)
        nonzero = math_ops.cast(math_ops.not_equal(x, zero), dtypes.int64)
        total = reduce_sum(nonzero, axis=axis, reduction_indices=reduction_indices,
                           keep_dims=_keep(keep_dims, keepdims))
        return math_ops.cast(total, dtype)


# ---- ArgMax / ArgMin --------------------------------------------------------------------------
def _arg_op(name, numpy_fn):
    op_def = registry.register_op(
        name, inputs=["input: T", "dimension: Tidx"], outputs=["output: output_type"],
        attrs={"T": common.REALS,
               "Tidx": registry.Attr("type", dtypes.int32, allowed=common.INDEX),
               "output_type": registry.Attr("type", dtypes.int64, allowed=common.INDEX)})
    op_def.not_differentiable()

    @op_def.shape
    def _shape(op):
        in_shape, axis = op.inputs[0].get_shape(), tensor_util.constant_value(op.inputs[1])
        if in_shape.ndims is None or axis is None:
            return tensor_shape.unknown_shape(None if in_shape.ndims is None
                                              else max(in_shape.ndims - 1, 0))
        axis = common.normalize_axis(int(axis), in_shape.ndims, "dimension")
        dims = in_shape.as_list()
        return tensor_shape.TensorShape(dims[:axis] + dims[axis + 1:])

    @op_def.kernel("CPU")
    def _kernel(ctx, x, axis):
        axis = common.check_dimension(ctx, axis, np.ndim(x))
        if x.shape[axis] == 0:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Reduction axis {axis} is empty in shape "
                              f"{common.shape_text(x.shape)}")
        return np.asarray(numpy_fn(x, axis=axis), ctx.attrs["output_type"].as_numpy_dtype)
    return op_def


ArgMax = _arg_op("ArgMax", np.argmax)
ArgMin = _arg_op("ArgMin", np.argmin)


def _arg_api(op_type):
    def fn(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
        if axis is not None and dimension is not None:
            raise ValueError("Cannot specify both 'axis' and 'dimension'")
        axis = dimension if axis is None else axis
        return apply_op(op_type, input, 0 if axis is None else axis, name=name,
                        output_type=output_type)
    fn.__name__ = op_type.lower()
    fn.__doc__ = f"Index of the {op_type[3:].lower()}imum along `axis` (0.9: `dimension`)."
    return fn


argmax = _arg_api("ArgMax")
argmin = _arg_api("ArgMin")
