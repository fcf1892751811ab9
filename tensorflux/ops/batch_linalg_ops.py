"""TF 0.9's Batch* op types, so GraphDefs written by TF 0.9 import and run.

TF 0.9 had one op for a single matrix (MatrixInverse, Cholesky, FFT on a vector, ...) and a
Batch* op for batches of them; TF 1.0 made the plain ops batched and kept the Batch* names
only as deprecated aliases. Here each Batch* type is the TF 1.0 op under the old name: same
inputs, attrs, shape function, kernel and gradient (the attrs TF 1.0 added have defaults that
give TF 0.9's behaviour). SelfAdjointEig and BatchSelfAdjointEig keep TF 0.9's packed output,
[..., M+1, M] with the eigenvalues in row 0 and the eigenvectors below; TF had no gradient for
them.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import registry
from tensorflux.ops import linalg_solve_ops  # noqa: F401  (registers the TF 1.0 ops)
from tensorflux.ops import matrix_diag_ops  # noqa: F401
from tensorflux.ops import spectral_ops  # noqa: F401

_ALIASES = {
    "BatchMatrixDeterminant": "MatrixDeterminant", "BatchMatrixInverse": "MatrixInverse",
    "BatchCholesky": "Cholesky", "BatchMatrixSolve": "MatrixSolve",
    "BatchMatrixTriangularSolve": "MatrixTriangularSolve",
    "BatchMatrixSolveLs": "MatrixSolveLs", "BatchSelfAdjointEigV2": "SelfAdjointEigV2",
    "BatchMatrixDiag": "MatrixDiag", "BatchMatrixDiagPart": "MatrixDiagPart",
    "BatchMatrixSetDiag": "MatrixSetDiag", "BatchMatrixBandPart": "MatrixBandPart",
    "BatchFFT": "FFT", "BatchIFFT": "IFFT", "BatchFFT2D": "FFT2D", "BatchIFFT2D": "IFFT2D",
    "BatchFFT3D": "FFT3D", "BatchIFFT3D": "IFFT3D",
}


# Attrs TF 1.0 added to an op whose Batch* type TF still declares without them: the Batch* type
# has the attr's one TF 0.9 type fixed instead (TF 2.21's BatchFFT takes complex64 only, its
# BatchMatrixBandPart int64 bands).
_FIXED = {"Tcomplex": dtypes.complex64, "Tindex": dtypes.int64}


def _spec(arg):
    """The 'name: [N *] type' text an argument was declared with (with _FIXED's types)."""
    kind = arg.type_attr or arg.type_list_attr or arg.dtype.name
    kind = _FIXED[kind].name if kind in _FIXED else kind
    kind = f"Ref({kind})" if arg.is_ref else kind
    return f"{arg.name}: {arg.number_attr + ' * ' if arg.number_attr else ''}{kind}"


def _alias(name, target_name):
    target = registry.get_op_def(target_name)
    op_def = registry.register_op(
        name, inputs=[_spec(a) for a in target.inputs], outputs=[_spec(a) for a in target.outputs],
        attrs={k: v for k, v in target.attrs.items() if k not in _FIXED},
        stateful=target.is_stateful)
    op_def.shape(target.shape_fn)
    for device_type, kernel in target.kernels.items():
        op_def.kernel(device_type, is_async=kernel.is_async)(
            getattr(kernel.fn, "__wrapped__", kernel.fn))
    if target.differentiable:
        op_def.gradient(target.grad_fn)
    else:
        op_def.not_differentiable()
    return op_def


for _name, _target in _ALIASES.items():
    _alias(_name, _target)


# ---- TF 0.9's packed eigen decomposition ------------------------------------------------------
def _packed_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(2)
    if shape.ndims is None:
        return shape
    m = shape[-1].merge_with(shape[-2])
    return shape[:-2].concatenate([m + 1, m])


def _packed_kernel(ctx, a):
    linalg_solve_ops._check_square(ctx, a)
    e, v = np.linalg.eigh(a, UPLO="L")
    return np.concatenate([e[..., None, :], v], axis=-2).astype(a.dtype, copy=False)


for _name in ("SelfAdjointEig", "BatchSelfAdjointEig"):
    _op = registry.register_op(_name, inputs=["input: T"], outputs=["output: T"],
                               attrs={"T": frozenset({dtypes.float32, dtypes.float64})})
    _op.shape(_packed_shape)
    _op.kernel("CPU")(_packed_kernel)
    _op.not_differentiable()

