"""Math ops: element-wise arithmetic with broadcasting, comparisons, Select, AddN, Cast.

Binary element-wise ops are declared through `_binary_op`; their gradients go through the one
`unbroadcast` helper, which sums a broadcast gradient back to each input's shape. Reductions live
in reduction_ops, matrix products in linalg_ops and segment sums in segment_ops; their Python
functions are re-exported here, so `math_ops.reduce_sum`, `math_ops.matmul`, ... keep working.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops.complex_ops import conj
# Re-exports (defined in their own op-family modules; none of them imports math_ops at load time).
from tensorflux.ops.linalg_ops import (  # noqa: F401
    matmul, batch_matmul, matrix_inverse, matrix_determinant)
from tensorflux.ops.reduction_ops import (  # noqa: F401
    reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod, reduce_all, reduce_any,
    count_nonzero, argmax, argmin, broadcast_to_shape)
from tensorflux.ops.segment_ops import unsorted_segment_sum, segment_sum  # noqa: F401

__all__ = [
    "add", "subtract", "multiply", "divide", "div", "truediv", "realdiv", "floordiv",
    "floor_div", "mod", "floormod", "pow", "maximum", "minimum", "squared_difference",
    "negative", "square", "abs", "complex_abs", "sign", "sqrt", "rsqrt", "reciprocal", "inv",
    "exp", "log", "log1p", "tanh", "sigmoid", "sin", "cos", "floor", "ceil", "round",
    "is_finite", "is_nan", "is_inf", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_not", "logical_xor", "select",
    "sub", "mul", "neg", "scalar_mul",
    "add_n", "accumulate_n", "cast", "to_float", "to_double", "to_int32", "to_int64",
    "cumsum", "cumprod",
]

_NUMERIC = common.FLOATS | common.COMPLEX | {dtypes.int32, dtypes.int64}
_SIGNED_REALS = common.FLOATS | {dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64}
_FLOATS_COMPLEX = common.FLOATS | common.COMPLEX


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
    if grad.get_shape().ndims is None or grad.get_shape().as_list() != shape:
        grad = array_ops.reshape(grad, shape)
    return grad


def _quiet(fn):
    """`fn` with NumPy's floating-point warnings off (TF gives inf/nan silently)."""
    def quiet(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return quiet


def _as_type(result, dtype):
    if type(result) is not np.ndarray:
        result = np.asarray(result)
    # `dtype` is a NumPy scalar type: comparing types is an identity test, where comparing
    # a dtype with a type would build a dtype first (a per-kernel-call cost)
    return result if result.dtype.type is dtype else result.astype(dtype)


def _binary_op(name, allowed, numpy_fn, out_type=None):
    """Registers a broadcasting binary op x, y -> z with kernel `numpy_fn` (dtype preserved)."""
    outputs = [f"z: {out_type}"] if out_type else ["z: T"]
    op_def = registry.register_op(name, inputs=["x: T", "y: T"], outputs=outputs,
                                  attrs={"T": allowed})
    op_def.shape(common.broadcast_binary_shape)
    if numpy_fn is None:
        return op_def
    op_def.kernel("CPU")(_broadcasting_kernel(numpy_fn, as_declared=not out_type))
    return op_def


def _broadcasting_kernel(numpy_fn, as_declared=True):
    """The kernel of a broadcasting binary op: NumPy's broadcast error becomes TF's."""
    def kernel(ctx, x, y):
        try:
            z = numpy_fn(x, y)
        except ValueError:
            common.check_broadcastable(ctx, x, y)
            raise
        return _as_type(z, ctx.attrs["T"].as_numpy_dtype) if as_declared else np.asarray(z)
    return kernel


def _broadcasting(kernel):
    """Decorates a hand-written binary kernel like `_broadcasting_kernel`."""
    def checked(ctx, x, y):
        try:
            return kernel(ctx, x, y)
        except ValueError:
            common.check_broadcastable(ctx, x, y)
            raise
    return checked


def _unary_op(name, allowed, numpy_fn, out_type=None):
    outputs = [f"y: {out_type}"] if out_type else ["y: T"]
    op_def = registry.register_op(name, inputs=["x: T"], outputs=outputs, attrs={"T": allowed})
    op_def.shape(common.unchanged_shape)
    if out_type:
        op_def.kernel("CPU")(lambda ctx, x: np.asarray(numpy_fn(x)))
    else:
        op_def.kernel("CPU")(lambda ctx, x: _as_type(numpy_fn(x), ctx.attrs["T"].as_numpy_dtype))
    return op_def


# ---- Add / Sub / Mul / RealDiv / Div / FloorDiv / FloorMod ----------------------------------
Add = _binary_op("Add", common.NUMBERS | {dtypes.string}, np.add)


@Add.gradient
def _add_grad(op, grad):
    return unbroadcast(op, grad, grad)


# TensorFlow 1.13+ writes `+` as AddV2 (Add without string support); GraphDefs from newer
# TensorFlow use it, so it is an op of its own with Add's rules.
AddV2 = _binary_op("AddV2", common.NUMBERS, np.add)
AddV2.gradient(_add_grad)


Sub = _binary_op("Sub", common.NUMBERS, np.subtract)


@Sub.gradient
def _sub_grad(op, grad):
    return unbroadcast(op, grad, negative(grad))


Mul = _binary_op("Mul", common.NUMBERS, np.multiply)


@Mul.gradient
def _mul_grad(op, grad):
    x, y = op.inputs
    return unbroadcast(op, grad * conj(y), conj(x) * grad)


RealDiv = _binary_op("RealDiv", common.NUMBERS, _quiet(np.true_divide))


@RealDiv.gradient
def _realdiv_grad(op, grad):
    x, y = op.inputs
    return unbroadcast(op, grad / conj(y), grad * conj(negative(x) / square(y)))


def _int_divisor_check(ctx, x, y):
    """TF's error for an integer division by zero; none when nothing is divided (an empty x or
    y: the output is empty), as TF's kernels divide element by element."""
    if y.dtype.kind in "iu" and x.size and not np.all(y):
        raise errors.InvalidArgumentError(None, ctx.op, "Integer division by zero: divisor "
                                                        f"of {ctx.op.name} must be non-zero")


Div = _binary_op("Div", common.NUMBERS, None)


@Div.kernel("CPU")
@_broadcasting
def _div_kernel(ctx, x, y):
    _int_divisor_check(ctx, x, y)
    fn = np.floor_divide if x.dtype.kind in "iu" else np.true_divide
    return _as_type(_quiet(fn)(x, y), ctx.attrs["T"].as_numpy_dtype)


@Div.gradient
def _div_grad(op, grad):
    if not (op.inputs[0].dtype.is_floating or op.inputs[0].dtype.is_complex):
        return [None, None]
    return _realdiv_grad(op, grad)


FloorDiv = _binary_op("FloorDiv", common.REALS, None)
FloorDiv.not_differentiable()


@FloorDiv.kernel("CPU")
@_broadcasting
def _floordiv_kernel(ctx, x, y):
    _int_divisor_check(ctx, x, y)
    return _as_type(_quiet(np.floor_divide)(x, y), ctx.attrs["T"].as_numpy_dtype)


FloorMod = _binary_op("FloorMod", common.REALS, None)


@FloorMod.kernel("CPU")
@_broadcasting
def _floormod_kernel(ctx, x, y):
    _int_divisor_check(ctx, x, y)
    return _as_type(_quiet(np.mod)(x, y), ctx.attrs["T"].as_numpy_dtype)


@FloorMod.gradient
def _floormod_grad(op, grad):
    x, y = op.inputs
    return unbroadcast(op, grad, grad * negative(floordiv(x, y)))


# ---- Pow / Maximum / Minimum / SquaredDifference --------------------------------------------
Pow = _binary_op("Pow", _NUMERIC, _quiet(np.power))


@Pow.gradient
def _pow_grad(op, grad):
    x, y = op.inputs
    z = op.outputs[0]
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return [None, None]
    gx = grad * conj(y * pow(x, y - 1))
    if x.dtype.is_complex:  # every complex number but 0 has a logarithm
        safe_log = log(select(not_equal(x, 0), x, array_ops.ones_like(x)))
    else:
        safe_log = select(greater(x, 0), log(select(greater(x, 0), x, array_ops.ones_like(x))),
                          array_ops.zeros_like(x))
    return unbroadcast(op, gx, grad * conj(z * safe_log))


Maximum = _binary_op("Maximum", common.REALS, np.maximum)
Minimum = _binary_op("Minimum", common.REALS, np.minimum)


def _select_grad_pair(op, grad, x_wins):
    # x_wins has the broadcast shape of x and y, which is grad's shape.
    zeros = array_ops.zeros_like(grad)
    return unbroadcast(op, select(x_wins, grad, zeros), select(x_wins, zeros, grad))


@Maximum.gradient
def _maximum_grad(op, grad):
    x, y = op.inputs
    return _select_grad_pair(op, grad, greater_equal(x, y))


@Minimum.gradient
def _minimum_grad(op, grad):
    x, y = op.inputs
    return _select_grad_pair(op, grad, less_equal(x, y))


def _squared_difference(x, y):
    d = np.subtract(x, y)
    return d * np.conj(d) if d.dtype.kind == "c" else np.square(d)  # TF: conj(x - y)(x - y)


SquaredDifference = _binary_op("SquaredDifference", _NUMERIC, _squared_difference)


@SquaredDifference.gradient
def _squared_difference_grad(op, grad):
    x, y = op.inputs
    # |x - y|^2 is real: only the upstream gradient's real part reaches x (2 Re(grad) (x - y)).
    twice = grad + conj(grad) if grad.dtype.is_complex else 2 * grad
    with ops.control_dependencies([grad.op]):
        gx = twice * (x - y)
    return unbroadcast(op, gx, negative(gx))


# ---- comparisons and logic (bool outputs, not differentiable) -------------------------------
def _comparison(name, allowed, numpy_fn):
    op_def = _binary_op(name, allowed, numpy_fn, out_type="bool")
    op_def.not_differentiable()
    return op_def


Equal = _comparison("Equal", common.ALL, np.equal)
NotEqual = _comparison("NotEqual", common.ALL, np.not_equal)
Less = _comparison("Less", common.REALS, np.less)
LessEqual = _comparison("LessEqual", common.REALS, np.less_equal)
Greater = _comparison("Greater", common.REALS, np.greater)
GreaterEqual = _comparison("GreaterEqual", common.REALS, np.greater_equal)


def _logical_binary(name, numpy_fn):
    op_def = registry.register_op(name, inputs=["x: bool", "y: bool"], outputs=["z: bool"])
    op_def.shape(common.broadcast_binary_shape)
    op_def.not_differentiable()
    op_def.kernel("CPU")(_broadcasting_kernel(numpy_fn, as_declared=False))
    return op_def


LogicalAnd = _logical_binary("LogicalAnd", np.logical_and)
LogicalOr = _logical_binary("LogicalOr", np.logical_or)
LogicalNot = registry.register_op("LogicalNot", inputs=["x: bool"], outputs=["y: bool"])
LogicalNot.shape(common.unchanged_shape)
LogicalNot.not_differentiable()
LogicalNot.kernel("CPU")(lambda ctx, x: np.asarray(np.logical_not(x)))


# ---- Select ---------------------------------------------------------------------------------
Select = registry.register_op("Select", inputs=["condition: bool", "t: T", "e: T"],
                              outputs=["output: T"])


@Select.shape
def _select_shape(op):
    cond, t, e = (i.get_shape() for i in op.inputs)
    try:
        out = t.merge_with(e)
    except ValueError:
        raise ValueError(f"'t' and 'e' must have the same shape, got {t} and {e}") from None
    if cond.ndims == 1 and out.ndims is not None and out.ndims > 1:
        ok = cond[0].is_compatible_with(out[0])
    else:
        ok = cond.ndims in (None, 0) or cond.is_compatible_with(out)
    if not ok:
        raise ValueError(f"'condition' must be a scalar, a vector of size {out[:1]} or have the "
                         f"shape {out} of 't' and 'e', got {cond}")
    return out


@Select.gradient
def _select_grad(op, grad):
    zeros = array_ops.zeros_like(grad)
    cond = op.inputs[0]
    return [None, select(cond, grad, zeros), select(cond, zeros, grad)]


@Select.kernel("CPU")
def _select_kernel(ctx, cond, t, e):
    if cond.ndim == 1 and t.ndim > 1:
        if cond.shape[0] != t.shape[0]:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"condition vector of size {cond.shape[0]} must match the first "
                              f"dimension of 't' with shape {t.shape}")
        cond = cond.reshape((-1,) + (1,) * (t.ndim - 1))
    elif cond.ndim and cond.shape != t.shape or t.shape != e.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"'condition' {cond.shape}, 't' {t.shape} and 'e' {e.shape} must have "
                          "the same shape (or condition a scalar or vector)")
    return np.asarray(np.where(cond, t, e))


# ---- unary ops ------------------------------------------------------------------------------
Neg = _unary_op("Neg", common.SIGNED, np.negative)


@Neg.gradient
def _neg_grad(op, grad):
    return [negative(grad)]


Square = _unary_op("Square", common.SIGNED, np.square)


@Square.gradient
def _square_grad(op, grad):
    x = op.inputs[0]
    with ops.control_dependencies([grad.op]):
        return [grad * conj(2.0 * x if x.dtype.is_floating else 2 * x)]


Abs = _unary_op("Abs", _SIGNED_REALS, np.abs)
Abs.gradient(lambda op, grad: [grad * sign(op.inputs[0])])
ComplexAbs = registry.register_op("ComplexAbs", inputs=["x: T"], outputs=["y: Tout"],
                                  attrs={"T": registry.Attr("type", dtypes.complex64,
                                                            allowed=common.COMPLEX),
                                         "Tout": registry.Attr("type", dtypes.float32,
                                                               allowed={dtypes.float32,
                                                                        dtypes.float64})})
ComplexAbs.shape(common.unchanged_shape)
ComplexAbs.kernel("CPU")(lambda ctx, x: _as_type(np.abs(x), ctx.attrs["Tout"].as_numpy_dtype))


@ComplexAbs.gradient
def _complex_abs_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    dtype = x.dtype.base_dtype
    nonzero = cast(not_equal(y, 0), y.dtype.base_dtype)
    return [cast(grad * nonzero / (y + 1 - nonzero), dtype) * x]


Sign = _unary_op("Sign", common.SIGNED, np.sign)
Sign.gradient(lambda op, grad: [array_ops.zeros_like(op.inputs[0])])
Sqrt = _unary_op("Sqrt", _FLOATS_COMPLEX, _quiet(np.sqrt))
Sqrt.gradient(lambda op, grad: [grad * (0.5 / conj(op.outputs[0]))])
Rsqrt = _unary_op("Rsqrt", _FLOATS_COMPLEX, _quiet(lambda x: 1 / np.sqrt(x)))
Rsqrt.gradient(lambda op, grad: [grad * conj(-0.5 * op.outputs[0] * square(op.outputs[0]))])


def _reciprocal_grad(op, grad):
    return [negative(grad) * conj(square(op.outputs[0]))]


Reciprocal = _unary_op("Reciprocal", _NUMERIC, _quiet(np.reciprocal))
Reciprocal.gradient(_reciprocal_grad)
Inv = _unary_op("Inv", _NUMERIC, _quiet(np.reciprocal))  # TF 0.9's name for Reciprocal
Inv.gradient(_reciprocal_grad)
Exp = _unary_op("Exp", _FLOATS_COMPLEX, _quiet(np.exp))
Exp.gradient(lambda op, grad: [grad * conj(op.outputs[0])])
Log = _unary_op("Log", _FLOATS_COMPLEX, _quiet(np.log))
Log.gradient(lambda op, grad: [grad * conj(reciprocal(op.inputs[0]))])
Log1p = _unary_op("Log1p", _FLOATS_COMPLEX, _quiet(np.log1p))
Log1p.gradient(lambda op, grad: [grad * conj(reciprocal(1 + op.inputs[0]))])
Tanh = _unary_op("Tanh", _FLOATS_COMPLEX, np.tanh)
Tanh.gradient(lambda op, grad: [grad * conj(1 - square(op.outputs[0]))])


def one_plus_exp_neg(x):
    """1 + exp(-x) in a new buffer of x's dtype (float32 or float64): sigmoid's denominator
    (Sigmoid, SoftplusGrad). NumPy's float32 exp takes ~2.4 ns an element on this project's
    machine, its tanh ~6 ns; where exp(-x) overflows to inf, 1/inf gives the right limit 0."""
    b = np.negative(x, out=np.empty_like(x))
    with np.errstate(over="ignore"):
        np.exp(b, out=b)
    b += 1
    return b


def _sigmoid(x):
    """1 / (1 + exp(-x)) for float32/float64, in one buffer (no cancellation either, unlike
    0.5 * (tanh + 1) for x < 0). Other dtypes: 0.5 * (tanh(0.5 x) + 1), which never
    overflows."""
    if x.dtype not in (np.float32, np.float64):
        return 0.5 * (np.tanh(0.5 * x) + 1)
    b = one_plus_exp_neg(x)
    return np.reciprocal(b, out=b)


Sigmoid = _unary_op("Sigmoid", _FLOATS_COMPLEX, _sigmoid)
Sigmoid.gradient(lambda op, grad: [grad * conj(op.outputs[0] * (1 - op.outputs[0]))])
Sin = _unary_op("Sin", _FLOATS_COMPLEX, np.sin)
Sin.gradient(lambda op, grad: [grad * conj(cos(op.inputs[0]))])
Cos = _unary_op("Cos", _FLOATS_COMPLEX, np.cos)
Cos.gradient(lambda op, grad: [negative(grad) * conj(sin(op.inputs[0]))])
Floor = _unary_op("Floor", common.FLOATS, np.floor).not_differentiable()
Ceil = _unary_op("Ceil", common.FLOATS, np.ceil).not_differentiable()
Round = _unary_op("Round", _NUMERIC - common.COMPLEX, np.round).not_differentiable()  # half-even
IsFinite = _unary_op("IsFinite", common.FLOATS, np.isfinite, out_type="bool").not_differentiable()
IsNan = _unary_op("IsNan", common.FLOATS, np.isnan, out_type="bool").not_differentiable()
IsInf = _unary_op("IsInf", common.FLOATS, np.isinf, out_type="bool").not_differentiable()


# ---- Python API: element-wise -----------------------------------------------------------------
def add(x, y, name=None):
    return apply_op("Add", x, y, name=name)


def subtract(x, y, name=None):
    return apply_op("Sub", x, y, name=name)


def multiply(x, y, name=None):
    return apply_op("Mul", x, y, name=name)


def realdiv(x, y, name=None):
    return apply_op("RealDiv", x, y, name=name)


def div(x, y, name=None):
    """TF 1.x `tf.div`: floor division for integers, true division for floats."""
    return apply_op("Div", x, y, name=name)


_TRUEDIV_TYPES = {dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32,
                  dtypes.int16: dtypes.float32, dtypes.uint16: dtypes.float32,
                  dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64}


def truediv(x, y, name=None):
    """x / y with integers cast to floats first (int8/16 -> float32, int32/64 -> float64)."""
    with ops.name_scope(name, "truediv", [x, y]) as scope:
        x, y = _convert_pair(x, y)
        if x.dtype.base_dtype != y.dtype.base_dtype:
            raise TypeError(f"x and y must have the same dtype, got {x.dtype.base_dtype.name} "
                            f"!= {y.dtype.base_dtype.name}")
        to = _TRUEDIV_TYPES.get(x.dtype.base_dtype)
        if to is not None:
            x, y = cast(x, to), cast(y, to)
        return realdiv(x, y, name=scope)


def _convert_pair(x, y):
    """Converts two operands, giving a Python value the dtype of the other (tensor) operand."""
    if isinstance(x, ops.Tensor) == isinstance(y, ops.Tensor):
        return ops.convert_to_tensor(x, name="x"), ops.convert_to_tensor(y, name="y")
    if isinstance(y, ops.Tensor):
        return ops.convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x"), y
    return x, ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")


def divide(x, y, name=None):
    """x / y in Python 3 semantics (truediv)."""
    return truediv(x, y, name=name)


def floordiv(x, y, name=None):
    return apply_op("FloorDiv", x, y, name=name)


def floormod(x, y, name=None):
    """x % y with Python's sign convention (the result has the sign of y)."""
    return apply_op("FloorMod", x, y, name=name)


def pow(x, y, name=None):  # noqa: A001 - TF's name
    return apply_op("Pow", x, y, name=name)


def maximum(x, y, name=None):
    return apply_op("Maximum", x, y, name=name)


def minimum(x, y, name=None):
    return apply_op("Minimum", x, y, name=name)


def squared_difference(x, y, name=None):
    return apply_op("SquaredDifference", x, y, name=name)


def negative(x, name=None):
    return apply_op("Neg", x, name=name)


def square(x, name=None):
    return apply_op("Square", x, name=name)


def abs(x, name=None):  # noqa: A001 - TF's name
    """|x|; complex inputs give their real magnitude (ComplexAbs)."""
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.is_complex:
        tout = dtypes.float64 if x.dtype.base_dtype == dtypes.complex128 else dtypes.float32
        return apply_op("ComplexAbs", x, Tout=tout, name=name)
    return apply_op("Abs", x, name=name)


def _unary_api(op_type, doc):
    def fn(x, name=None):
        return apply_op(op_type, x, name=name)
    fn.__name__, fn.__doc__ = op_type.lower(), doc
    return fn


sign = _unary_api("Sign", "-1, 0 or 1 by the sign of x.")
sqrt = _unary_api("Sqrt", "Square root of x.")
rsqrt = _unary_api("Rsqrt", "1 / sqrt(x).")
reciprocal = _unary_api("Reciprocal", "1 / x.")
exp = _unary_api("Exp", "e ** x.")
log = _unary_api("Log", "Natural logarithm of x.")
log1p = _unary_api("Log1p", "log(1 + x), accurate for small x.")
tanh = _unary_api("Tanh", "Hyperbolic tangent of x.")
sigmoid = _unary_api("Sigmoid", "1 / (1 + exp(-x)).")
sin = _unary_api("Sin", "Sine of x.")
cos = _unary_api("Cos", "Cosine of x.")
floor = _unary_api("Floor", "Largest integer not greater than x.")
ceil = _unary_api("Ceil", "Smallest integer not less than x.")
round = _unary_api("Round", "x rounded to the nearest integer, halves to even.")  # noqa: A001
is_finite = _unary_api("IsFinite", "True where x is neither inf nor nan.")
is_nan = _unary_api("IsNan", "True where x is nan.")
is_inf = _unary_api("IsInf", "True where x is +inf or -inf.")
logical_not = _unary_api("LogicalNot", "Element-wise NOT of a bool tensor.")
inv, complex_abs, sub, mul, neg, mod, floor_div = (reciprocal, abs, subtract, multiply,
                                                    negative, floormod, floordiv)


def _binary_api(op_type, doc):
    def fn(x, y, name=None):
        return apply_op(op_type, x, y, name=name)
    fn.__name__, fn.__doc__ = op_type.lower(), doc
    return fn


equal = _binary_api("Equal", "x == y element-wise (bool).")
not_equal = _binary_api("NotEqual", "x != y element-wise (bool).")
less = _binary_api("Less", "x < y element-wise (bool).")
less_equal = _binary_api("LessEqual", "x <= y element-wise (bool).")
greater = _binary_api("Greater", "x > y element-wise (bool).")
greater_equal = _binary_api("GreaterEqual", "x >= y element-wise (bool).")
logical_and = _binary_api("LogicalAnd", "x AND y element-wise (bool).")
logical_or = _binary_api("LogicalOr", "x OR y element-wise (bool).")


def logical_xor(x, y, name="LogicalXor"):
    """x XOR y element-wise (bool)."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def select(condition, t, e, name=None):
    """Elements of `t` where `condition`, else of `e`; a vector condition selects rows."""
    return apply_op("Select", condition, t, e, name=name)


def scalar_mul(scalar, x):
    """scalar * x for a 0-d `scalar`; keeps IndexedSlices sparse."""
    scalar = ops.convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
    if scalar.get_shape().ndims not in (0, None):
        raise ValueError(f"Only scalar multiply works, got a scalar of shape "
                         f"{scalar.get_shape()}")
    if isinstance(x, ops.IndexedSlices):
        return ops.IndexedSlices(scalar * x.values, x.indices, x.dense_shape)
    return scalar * x


# ---- operator overloads ---------------------------------------------------------------------
def _binary_overload(fn, scope, reverse=False):
    """`a + b` as TF 1.x builds it: an op named after the operator ("add", "mul", "truediv";
    the op's type stays Add, Mul, ...), the other operand converted to `a`'s dtype first, a
    Python number becoming a constant named "y" (or "x" when reversed) inside that scope."""
    if reverse:
        def method(self, other):
            with ops.name_scope(None, scope, [self, other]) as name:
                other = ops.convert_to_tensor(other, dtype=self.dtype.base_dtype, name="x")
                return fn(other, self, name=name)
    else:
        def method(self, other):
            with ops.name_scope(None, scope, [self, other]) as name:
                if not isinstance(other, ops.IndexedSlices):
                    other = ops.convert_to_tensor(other, dtype=self.dtype.base_dtype, name="y")
                return fn(self, other, name=name)
    return method


def _logical_overload(fn):
    def method(x, y, name=None):
        if x.dtype.base_dtype != dtypes.bool:
            raise TypeError(f"Operators &, |, ^ need bool tensors, got {x.dtype.base_dtype.name}"
                            f" ({x.name})")
        return fn(x, y, name=name)
    return method


for _name, _fn in (("add", add), ("sub", subtract), ("mul", multiply), ("truediv", truediv),
                   ("floordiv", floordiv), ("mod", floormod), ("pow", pow), ("matmul", matmul),
                   ("and", _logical_overload(logical_and)), ("or", _logical_overload(logical_or)),
                   ("xor", _logical_overload(logical_xor))):
    ops.Tensor._override_operator(f"__{_name}__", _binary_overload(_fn, _name))
    ops.Tensor._override_operator(f"__r{_name}__", _binary_overload(_fn, _name, reverse=True))
for _name, _fn in (("lt", less), ("le", less_equal), ("gt", greater), ("ge", greater_equal)):
    ops.Tensor._override_operator(f"__{_name}__", _fn)  # TF names these by type: "Less"
ops.Tensor._override_operator("__neg__", lambda self: negative(self))
ops.Tensor._override_operator("__abs__", lambda self: abs(self))
ops.Tensor._override_operator("__invert__", lambda self: logical_not(self))


# ---- AddN ---------------------------------------------------------------------------------
AddN = registry.register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"],
                            attrs={"N": "int", "T": common.NUMBERS})
AddN.shape(common.merged_input_shapes)


@AddN.gradient
def _addn_grad(op, grad):
    return [grad] * len(op.inputs)


@AddN.kernel("CPU")
def _addn_kernel(ctx, *inputs):
    shape = np.shape(inputs[0])
    for k, x in enumerate(inputs[1:], 1):
        if np.shape(x) != shape:  # the adds would broadcast silently (or raise NumPy's error)
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Inputs to operation AddN must have the same size and shape.  "
                              f"Input 0: {common.shape_text(shape)} != input {k}: "
                              f"{common.shape_text(np.shape(x))}")
    if len(inputs) == 1:
        return np.array(inputs[0], copy=True)
    total = np.add(inputs[0], inputs[1])  # the first add allocates: no copy of input 0 first
    for x in inputs[2:]:
        total += x
    return np.asarray(total)


def add_n(inputs, name=None):
    """Element-wise sum of a list of tensors of one shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a non-empty list of at least one Tensor with the same "
                         "dtype and shape")
    if len(inputs) == 1:
        return array_ops.identity(inputs[0], name=name) if name else inputs[0]
    return apply_op("AddN", list(inputs), name=name)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """Element-wise sum of a list of tensors (computed as add_n)."""
    if tensor_dtype is not None:
        inputs = [ops.convert_to_tensor(t, dtype=tensor_dtype) for t in inputs]
    result = add_n(inputs, name=name)
    if shape is not None:
        result.set_shape(shape)
    return result


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
    src, dst = ctx.attrs["SrcT"], ctx.attrs["DstT"]
    if (src == dtypes.string) != (dst == dtypes.string):  # TF has no such cast kernel
        raise errors.UnimplementedError(
            None, ctx.op, f"Cast {common.type_text(src)} to {common.type_text(dst)} is not "
                          f"supported")
    return np.asarray(x).astype(dst.as_numpy_dtype)


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


# ---- Cumsum / Cumprod ---------------------------------------------------------------------------
def _scan_op(name, numpy_fn, identity):
    """A cumulative op along `axis`; `exclusive` shifts in the identity, `reverse` runs back."""
    op_def = registry.register_op(
        name, inputs=["x: T", "axis: Tidx"], outputs=["out: T"],
        attrs={"exclusive": False, "reverse": False, "T": common.NUMBERS,
               "Tidx": registry.Attr("type", dtypes.int32, allowed=common.INDEX)})
    op_def.shape(common.unchanged_shape)

    def kernel(ctx, x, axis):
        x = np.asarray(x)
        if x.ndim == 0:
            raise errors.InvalidArgumentError(None, ctx.op, "ScanOp: input must be at least 1D, "
                                                            "got shape []")
        axis = common.check_dimension(ctx, axis, x.ndim, "ScanOp: Expected scan axis")
        if ctx.attrs["reverse"]:
            x = np.flip(x, axis)
        out = numpy_fn(x, axis=axis, dtype=x.dtype)
        if ctx.attrs["exclusive"]:
            head = np.full_like(np.take(out, [0], axis=axis), identity)
            out = np.concatenate([head, np.take(out, np.arange(x.shape[axis] - 1), axis=axis)],
                                 axis=axis)
        return np.flip(out, axis) if ctx.attrs["reverse"] else out
    op_def.kernel("CPU")(kernel)
    return op_def


Cumsum = _scan_op("Cumsum", np.cumsum, 0)
Cumprod = _scan_op("Cumprod", np.cumprod, 1)


@Cumsum.gradient
def _cumsum_grad(op, grad):
    return [cumsum(grad, op.inputs[1], exclusive=op.get_attr("exclusive"),
                   reverse=not op.get_attr("reverse")), None]


@Cumprod.gradient
def _cumprod_grad(op, grad):
    # TensorFlow's rule (exact for non-zero inputs).
    x, axis = op.inputs
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    prod = conj(cumprod(x, axis, exclusive=exclusive, reverse=reverse))
    return [cumsum(prod * grad, axis, exclusive=exclusive, reverse=not reverse) / conj(x), None]


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sums along `axis`: [a, b, c] -> [a, a + b, a + b + c]."""
    return apply_op("Cumsum", x, axis, exclusive=exclusive, reverse=reverse, name=name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running products along `axis`: [a, b, c] -> [a, a * b, a * b * c]."""
    return apply_op("Cumprod", x, axis, exclusive=exclusive, reverse=reverse, name=name)
