"""Fast Fourier transforms over the innermost 1, 2 or 3 dimensions: FFT, IFFT, FFT2D, IFFT2D,
FFT3D, IFFT3D (TF 1.0's ops; TF 0.9's `batch_fft*` names are the same transforms).

TF 0.9's `fft`/`fft2d`/`fft3d` took exactly a vector/matrix/cube and `batch_fft*` any batch of
them; TF 1.0 folded both into these ops, which accept any rank >= 1, 2, 3. The type attr is
`Tcomplex` (complex64 by default, so TF 1.0 GraphDefs without it import; complex128 too).

Gradients under TF's complex convention (gradient = adjoint of the linear map applied to the
upstream gradient): the DFT matrix F is symmetric and F^H = n IFFT, so FFT's gradient is
n IFFT(grad) and IFFT's is FFT(grad) / n, n being the number of transformed points.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import constant_op

__all__ = ["fft", "ifft", "fft2d", "ifft2d", "fft3d", "ifft3d", "batch_fft", "batch_ifft",
           "batch_fft2d", "batch_ifft2d", "batch_fft3d", "batch_ifft3d"]


def _shape_fn(rank):
    def shape(op):
        return op.inputs[0].get_shape().with_rank_at_least(rank)
    return shape


def _points(op, rank):
    """The number of points each transform covers, as a complex scalar tensor."""
    from tensorflux.ops import math_ops
    x = op.inputs[0]
    dims = x.get_shape()[-rank:]
    if dims.is_fully_defined():
        n = float(np.prod(dims.as_list()))
        return constant_op.constant(n, dtype=x.dtype.base_dtype)
    n = math_ops.reduce_prod(array_ops.shape(x)[-rank:])
    return math_ops.cast(n, x.dtype.base_dtype)


def _kernel(numpy_fn, rank):
    axes = tuple(range(-rank, 0))

    def kernel(ctx, x):
        if x.ndim < rank:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Input must have rank of at least {rank} but got: {x.ndim}")
        return numpy_fn(x, axes=axes).astype(x.dtype, copy=False)
    return kernel


def _register(name, rank, numpy_fn, inverse_name, scale_up):
    op_def = registry.register_op(
        name, inputs=["input: Tcomplex"], outputs=["output: Tcomplex"],
        attrs={"Tcomplex": registry.Attr("type", dtypes.complex64, allowed=common.COMPLEX)})
    op_def.shape(_shape_fn(rank))
    op_def.kernel("CPU")(_kernel(numpy_fn, rank))

    @op_def.gradient
    def _grad(op, grad):
        inverse = apply_op(inverse_name, grad)
        n = _points(op, rank)
        return [inverse * n if scale_up else inverse / n]
    return op_def


FFT = _register("FFT", 1, np.fft.fftn, "IFFT", scale_up=True)
IFFT = _register("IFFT", 1, np.fft.ifftn, "FFT", scale_up=False)
FFT2D = _register("FFT2D", 2, np.fft.fftn, "IFFT2D", scale_up=True)
IFFT2D = _register("IFFT2D", 2, np.fft.ifftn, "FFT2D", scale_up=False)
FFT3D = _register("FFT3D", 3, np.fft.fftn, "IFFT3D", scale_up=True)
IFFT3D = _register("IFFT3D", 3, np.fft.ifftn, "FFT3D", scale_up=False)


def fft(input, name=None):  # noqa: A002 - TF's name
    """The 1-D discrete Fourier transform over the innermost dimension."""
    return apply_op("FFT", input, name=name)


def ifft(input, name=None):  # noqa: A002
    """The inverse 1-D discrete Fourier transform over the innermost dimension."""
    return apply_op("IFFT", input, name=name)


def fft2d(input, name=None):  # noqa: A002
    """The 2-D discrete Fourier transform over the 2 innermost dimensions."""
    return apply_op("FFT2D", input, name=name)


def ifft2d(input, name=None):  # noqa: A002
    """The inverse 2-D discrete Fourier transform over the 2 innermost dimensions."""
    return apply_op("IFFT2D", input, name=name)


def fft3d(input, name=None):  # noqa: A002
    """The 3-D discrete Fourier transform over the 3 innermost dimensions."""
    return apply_op("FFT3D", input, name=name)


def ifft3d(input, name=None):  # noqa: A002
    """The inverse 3-D discrete Fourier transform over the 3 innermost dimensions."""
    return apply_op("IFFT3D", input, name=name)


# TF 0.9's names for the batched transforms (the same ops since TF 1.0).
batch_fft, batch_ifft = fft, ifft
batch_fft2d, batch_ifft2d = fft2d, ifft2d
batch_fft3d, batch_ifft3d = fft3d, ifft3d
