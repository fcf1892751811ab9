"""Special functions and inverse trigonometry: lgamma, digamma, erf, erfc, asin, acos, atan,
tan (one input); igamma, igammac, zeta, polygamma (two, broadcasting); betainc (three).

Kernels evaluate scipy.special in float64 (float32 for bfloat16 would lose nothing more) and
cast back, so half types get TensorFlow's results to their precision. Gradients are TF's:
with respect to the argument only for the two- and three-input functions (TensorFlow has no
gradient in the order/shape parameters: None there).
"""
import numpy as np
from scipy import special

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import math_ops
from tensorflux.ops.complex_ops import conj

__all__ = ["lgamma", "digamma", "erf", "erfc", "asin", "acos", "atan", "tan", "igamma",
           "igammac", "zeta", "polygamma", "betainc"]

_HALF_FLOAT_DOUBLE = frozenset({dtypes.float16, dtypes.float32, dtypes.float64})
_FLOAT_DOUBLE = frozenset({dtypes.float32, dtypes.float64})
_SQRT_PI = float(np.sqrt(np.pi))


def _kernel(scipy_fn):
    """A kernel computing `scipy_fn` in float64 and returning the op's declared type."""
    def kernel(ctx, *args):
        wide = [np.asarray(a, np.float64) for a in args]
        try:
            with np.errstate(all="ignore"):  # TF gives inf/nan silently
                out = scipy_fn(*wide)
        except ValueError:
            common.check_broadcastable(ctx, *args[-2:])
            raise
        return np.asarray(out).astype(ctx.attrs["T"].as_numpy_dtype)
    return kernel


def _unary(name, scipy_fn):
    op_def = registry.register_op(name, inputs=["x: T"], outputs=["y: T"],
                                  attrs={"T": _HALF_FLOAT_DOUBLE})
    op_def.shape(common.unchanged_shape)
    op_def.kernel("CPU")(_kernel(scipy_fn))
    return op_def


def _binary(name, scipy_fn):
    op_def = registry.register_op(name, inputs=[f"{a}: T" for a in _BINARY_ARGS[name]],
                                  outputs=["z: T"], attrs={"T": _FLOAT_DOUBLE})
    op_def.shape(common.broadcast_binary_shape)
    op_def.kernel("CPU")(_kernel(scipy_fn))
    return op_def


_BINARY_ARGS = {"Igamma": ("a", "x"), "Igammac": ("a", "x"), "Zeta": ("x", "q"),
                "Polygamma": ("a", "x")}

# ---- one input ------------------------------------------------------------------------------
Lgamma = _unary("Lgamma", special.gammaln)
Lgamma.gradient(lambda op, grad: [grad * digamma(op.inputs[0])])

Digamma = _unary("Digamma", special.digamma)
Digamma.gradient(lambda op, grad: [grad * polygamma(array_ops.ones_like(op.inputs[0]),
                                                    op.inputs[0])])


def _gaussian(x):
    """2/sqrt(pi) exp(-x^2): the derivative of erf."""
    return (2.0 / _SQRT_PI) * math_ops.exp(-math_ops.square(x))


Erf = _unary("Erf", special.erf)
Erf.gradient(lambda op, grad: [grad * _gaussian(op.inputs[0])])

Erfc = _unary("Erfc", special.erfc)
Erfc.gradient(lambda op, grad: [-grad * _gaussian(op.inputs[0])])

# ---- inverse trigonometry and tan: also integer and complex, as TF 1.x's OpDefs --------------
_TRIG_TYPES = _HALF_FLOAT_DOUBLE | common.COMPLEX | {dtypes.int32, dtypes.int64}


def _trig_kernel(numpy_fn):
    """Real types in float64 (cast back: integers truncate, as a C++ kernel on ints would);
    complex types with NumPy's principal branches (TF's std:: functions use the same)."""
    def kernel(ctx, x):
        x = np.asarray(x)
        wide = x if x.dtype.kind == "c" else x.astype(np.float64)
        with np.errstate(all="ignore"):
            return np.asarray(numpy_fn(wide)).astype(ctx.attrs["T"].as_numpy_dtype)
    return kernel


def _trig(name, numpy_fn, derivative):
    """`derivative(x, y)` is f'(x); the gradient multiplies by its conjugate (TF's complex
    convention; a no-op for real types)."""
    op_def = registry.register_op(name, inputs=["x: T"], outputs=["y: T"],
                                  attrs={"T": _TRIG_TYPES})
    op_def.shape(common.unchanged_shape)
    op_def.kernel("CPU")(_trig_kernel(numpy_fn))
    op_def.gradient(lambda op, grad: [
        grad * conj(derivative(op.inputs[0], op.outputs[0]))])
    return op_def


def _one_minus_square(x):
    return array_ops.ones_like(x) - math_ops.square(x)


Asin = _trig("Asin", np.arcsin, lambda x, y: math_ops.rsqrt(_one_minus_square(x)))
Acos = _trig("Acos", np.arccos, lambda x, y: -math_ops.rsqrt(_one_minus_square(x)))
Atan = _trig("Atan", np.arctan,
             lambda x, y: math_ops.reciprocal(array_ops.ones_like(x) + math_ops.square(x)))
Tan = _trig("Tan", np.tan, lambda x, y: array_ops.ones_like(y) + math_ops.square(y))


# ---- two inputs: the gradient in the second (the argument) only -------------------------------
def _argument_grad(partial):
    """A gradient rule [None, grad * partial(a, x, op)] summed back to x's shape."""
    def rule(op, grad):
        a, x = op.inputs
        return math_ops.unbroadcast(op, None, grad * partial(a, x, op))
    return rule


Igamma = _binary("Igamma", special.gammainc)
# d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), in logs for range.
Igamma.gradient(_argument_grad(lambda a, x, op: math_ops.exp(
    -x + (a - 1) * math_ops.log(x) - lgamma(a))))

Igammac = _binary("Igammac", special.gammaincc)
Igammac.gradient(_argument_grad(lambda a, x, op: -math_ops.exp(
    -x + (a - 1) * math_ops.log(x) - lgamma(a))))

Zeta = _binary("Zeta", special.zeta)
# d/dq zeta(x, q) = -x zeta(x + 1, q)
Zeta.gradient(_argument_grad(lambda x, q, op: -x * zeta(x + 1, q)))

def _polygamma(a, x):
    """scipy's polygamma where the order is a whole number >= 0, NaN elsewhere (as TF)."""
    a, x = np.broadcast_arrays(a, x)
    whole = (a == np.round(a)) & (a >= 0)
    out = np.full(a.shape, np.nan)
    if np.any(whole):
        out[whole] = special.polygamma(a[whole], x[whole])
    return out


Polygamma = _binary("Polygamma", _polygamma)
Polygamma.gradient(_argument_grad(lambda a, x, op: polygamma(a + 1, x)))


# ---- betainc: three inputs of one shape (scalars broadcast) -----------------------------------
Betainc = registry.register_op("Betainc", inputs=["a: T", "b: T", "x: T"], outputs=["z: T"],
                               attrs={"T": _FLOAT_DOUBLE})


@Betainc.shape
def _betainc_shape(op):
    shapes = [t.get_shape() for t in op.inputs]
    if all(s.ndims == 0 for s in shapes):
        return tensor_shape.scalar()
    merged = tensor_shape.unknown_shape()
    for shape in shapes:
        if shape.ndims != 0:  # scalars go with any shape
            merged = merged.merge_with(shape)
    return merged


@Betainc.gradient
def _betainc_grad(op, grad):
    a, b, x = op.inputs
    log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
    # d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b)
    partial = math_ops.exp((a - 1) * math_ops.log(x) + (b - 1) * math_ops.log1p(-x) - log_beta)
    gx = grad * partial
    if x.get_shape().ndims == 0 and op.outputs[0].get_shape().ndims != 0:
        gx = math_ops.reduce_sum(gx)
    return [None, None, gx]


@Betainc.kernel("CPU")
def _betainc_kernel(ctx, a, b, x):
    shapes = [np.shape(v) for v in (a, b, x) if np.ndim(v)]
    if any(s != shapes[0] for s in shapes):
        raise errors.InvalidArgumentError(
            None, ctx.op, "Shapes of a, b, and x are inconsistent: "
                          + " vs. ".join(common.shape_text(np.shape(v)) for v in (a, b, x)))
    with np.errstate(all="ignore"):
        out = special.betainc(*[np.asarray(v, np.float64) for v in (a, b, x)])
    return np.asarray(out).astype(ctx.attrs["T"].as_numpy_dtype)


# ---- the public functions ------------------------------------------------------------------
def lgamma(x, name=None):
    """log |Gamma(x)|, element-wise."""
    return apply_op("Lgamma", x, name=name)


def digamma(x, name=None):
    """Psi, the derivative of lgamma, element-wise."""
    return apply_op("Digamma", x, name=name)


def erf(x, name=None):
    """The Gauss error function, element-wise."""
    return apply_op("Erf", x, name=name)


def erfc(x, name=None):
    """1 - erf(x), computed without cancellation, element-wise."""
    return apply_op("Erfc", x, name=name)


def asin(x, name=None):
    """Inverse sine, element-wise (NaN outside [-1, 1])."""
    return apply_op("Asin", x, name=name)


def acos(x, name=None):
    """Inverse cosine, element-wise (NaN outside [-1, 1])."""
    return apply_op("Acos", x, name=name)


def atan(x, name=None):
    """Inverse tangent, element-wise."""
    return apply_op("Atan", x, name=name)


def tan(x, name=None):
    """Tangent, element-wise."""
    return apply_op("Tan", x, name=name)


def igamma(a, x, name=None):
    """The regularized lower incomplete gamma function P(a, x)."""
    return apply_op("Igamma", a, x, name=name)


def igammac(a, x, name=None):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return apply_op("Igammac", a, x, name=name)


def zeta(x, q, name=None):
    """The Hurwitz zeta function: sum over n >= 0 of (q + n)^-x."""
    return apply_op("Zeta", x, q, name=name)


def polygamma(a, x, name=None):
    """The a-th derivative of digamma at x (a a non-negative integer, as a float)."""
    return apply_op("Polygamma", a, x, name=name)


def betainc(a, b, x, name=None):
    """The regularized incomplete beta function I_x(a, b); a, b and x of one shape or scalar."""
    return apply_op("Betainc", a, b, x, name=name)
