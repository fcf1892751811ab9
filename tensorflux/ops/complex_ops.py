"""Complex numbers: Conj, Complex, Real, Imag, Angle, and the convention complex gradients use.

TensorFlow's gradient of a real loss L w.r.t. a complex z = x + iy is dL/dx + i dL/dy; for a
holomorphic f that is conj(f'(z)) times the upstream gradient, so gradients multiply by
conjugated derivatives: `conj(d)` (no op for real tensors). Complex, Real, Imag and Angle are
not holomorphic; their rules below follow the same definition (the real and imaginary parts of
a gradient are the partial derivatives along x and y).

math_ops imports this module at load time (for `conj`), so the gradients import it lazily.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common

__all__ = ["conj", "complex", "real", "imag", "angle"]

_REAL_PARTS = frozenset({dtypes.float32, dtypes.float64})
_PART_OF = {dtypes.complex64: dtypes.float32, dtypes.complex128: dtypes.float64}
_COMPLEX_OF = {dtypes.float32: dtypes.complex64, dtypes.float64: dtypes.complex128}


def _complex_attr():
    return registry.Attr("type", dtypes.complex64, allowed=common.COMPLEX)


def _part_attr():
    return registry.Attr("type", dtypes.float32, allowed=_REAL_PARTS)


Conj = registry.register_op("Conj", inputs=["input: T"], outputs=["output: T"],
                            attrs={"T": _complex_attr()})
Conj.shape(common.unchanged_shape)
Conj.gradient(lambda op, grad: [conj(grad)])
Conj.kernel("CPU")(lambda ctx, x: np.conj(x))


# ---- Complex(real, imag): broadcasting, like TF ------------------------------------------------
Complex = registry.register_op("Complex", inputs=["real: T", "imag: T"], outputs=["out: Tout"],
                               attrs={"T": _part_attr(), "Tout": _complex_attr()})
Complex.shape(common.broadcast_binary_shape)


@Complex.gradient
def _complex_grad(op, grad):
    from tensorflux.ops import math_ops
    return math_ops.unbroadcast(op, real(grad), imag(grad))


@Complex.kernel("CPU")
def _complex_kernel(ctx, re, im):
    common.check_broadcastable(ctx, re, im)
    out = np.asarray(re) + 1j * np.asarray(im)
    return out.astype(ctx.attrs["Tout"].as_numpy_dtype)


# ---- Real, Imag, Angle: complex in, its real part type out ---------------------------------------
def _part_op(name, numpy_fn):
    op_def = registry.register_op(name, inputs=["input: T"], outputs=["output: Tout"],
                                  attrs={"T": _complex_attr(), "Tout": _part_attr()})
    op_def.shape(common.unchanged_shape)
    op_def.kernel("CPU")(
        lambda ctx, x: np.asarray(numpy_fn(x)).astype(ctx.attrs["Tout"].as_numpy_dtype))
    return op_def


Real = _part_op("Real", np.real)
# L depends on z only through x: dL/dx + i 0.
Real.gradient(lambda op, grad: [complex(grad, array_ops.zeros_like(grad))])
Imag = _part_op("Imag", np.imag)
Imag.gradient(lambda op, grad: [complex(array_ops.zeros_like(grad), grad)])
Angle = _part_op("Angle", np.angle)


@Angle.gradient
def _angle_grad(op, grad):
    # atan2(y, x): d/dx = -y / |z|^2, d/dy = x / |z|^2, so the gradient is g (-y + ix) / |z|^2,
    # i.e. g * i z / |z|^2 = g * i / conj(z).
    z = op.inputs[0]
    return [complex(array_ops.zeros_like(grad), grad) / conj(z)]


# ---- the public functions ------------------------------------------------------------------
def conj(x, name=None):
    """The complex conjugate of `x`; real tensors are returned unchanged (as TF does)."""
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype.is_complex:
        return apply_op("Conj", x, name=name)
    return x


def complex(real, imag, name=None):  # noqa: A001 - TF's name
    """real + i imag, element-wise with broadcasting: float32 parts give complex64, float64
    parts complex128 (both parts must have one type, as in TF)."""
    real = ops.convert_to_tensor(real, name="real")
    imag = ops.convert_to_tensor(imag, dtype=real.dtype.base_dtype, name="imag")
    tout = _COMPLEX_OF.get(real.dtype.base_dtype)
    if tout is None:
        raise TypeError(f"complex: real and imag must be float32 or float64, "
                        f"got {real.dtype.base_dtype.name}")
    return apply_op("Complex", real, imag, Tout=tout, name=name)


def _part(op_type, x, name, of_real):
    x = ops.convert_to_tensor(x, name="input")
    base = x.dtype.base_dtype
    if base.is_complex:
        return apply_op(op_type, x, Tout=_PART_OF[base], name=name)
    return of_real(x)


def real(input, name=None):  # noqa: A002 - TF's name
    """The real part of each element (float32 for complex64, float64 for complex128); a real
    tensor is returned unchanged."""
    return _part("Real", input, name, lambda x: x)


def imag(input, name=None):  # noqa: A002 - TF's name
    """The imaginary part of each element; zeros for a real tensor."""
    return _part("Imag", input, name, lambda x: array_ops.zeros_like(x, name=name))


def angle(input, name=None):  # noqa: A002 - TF's name
    """The argument atan2(imag, real) of each element; for a real tensor pi where it is
    negative and 0 elsewhere (np.angle's answer)."""
    def of_real(x):
        return apply_op("Angle", complex(x, array_ops.zeros_like(x)), Tout=x.dtype, name=name)
    return _part("Angle", input, name, of_real)
