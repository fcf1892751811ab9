"""Conj, and the helper gradients of complex ops use.

TensorFlow's gradient of a real loss L w.r.t. a complex z = x + iy is dL/dx + i dL/dy; for a
holomorphic f that is conj(f'(z)) times the upstream gradient, so gradients multiply by
conjugated derivatives: `conj(d)` (no op for real tensors).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common

__all__ = ["conj"]

Conj = registry.register_op("Conj", inputs=["input: T"], outputs=["output: T"],
                            attrs={"T": registry.Attr("type", dtypes.complex64,
                                                      allowed=common.COMPLEX)})
Conj.shape(common.unchanged_shape)
Conj.gradient(lambda op, grad: [conj(grad)])
Conj.kernel("CPU")(lambda ctx, x: np.conj(x))


def conj(x, name=None):
    """The complex conjugate of `x`; real tensors are returned unchanged (as TF does)."""
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.base_dtype.is_complex:
        return apply_op("Conj", x, name=name)
    return x

