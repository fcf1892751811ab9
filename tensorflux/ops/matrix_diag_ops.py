"""Diagonals and bands of (batches of) matrices: MatrixDiag, MatrixDiagPart, MatrixSetDiag,
MatrixBandPart (TF 1.0's ops; TF 0.9 called their functions `batch_matrix_*`); the tensor
diagonals Diag and DiagPart (`tf.diag`, `tf.diag_part`), `tf.trace` and `tf.matrix_transpose`.

Each works on the two innermost dimensions; the leading ones are a batch. Matrices need not
be square: the diagonal has min(M, N) entries (TF 1.0 accepts that too for diag_part and
set_diag). Gradients are the adjoint linear maps: diag and diag_part undo each other,
set_diag's input gets the gradient with its diagonal zeroed, band_part keeps the band.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common

__all__ = ["matrix_diag", "matrix_diag_part", "matrix_set_diag", "matrix_band_part", "diag",
           "diag_part", "trace", "matrix_transpose",
           "batch_matrix_diag", "batch_matrix_diag_part", "batch_matrix_set_diag",
           "batch_matrix_band_part"]


def _check_rank(ctx, x, rank, what):
    if np.ndim(x) < rank:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{what} must be at least {'a matrix' if rank == 2 else 'a vector'}, "
                          f"got shape {common.shape_text(np.shape(x))}")


def _diagonal(x):
    """The main diagonals of the innermost matrices, as an array of their own."""
    return np.diagonal(x, axis1=-2, axis2=-1).copy()


def _min_dim(a, b):
    if a.value is None or b.value is None:
        return tensor_shape.Dimension(None)
    return tensor_shape.Dimension(min(a.value, b.value))


# ---- MatrixDiag: [..., M] -> [..., M, M] ------------------------------------------------------
MatrixDiag = registry.register_op("MatrixDiag", inputs=["diagonal: T"], outputs=["output: T"],
                                  attrs={"T": registry.Attr("type")})


@MatrixDiag.shape
def _matrix_diag_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(1)
    if shape.ndims is None:
        return shape
    return shape.concatenate([shape[-1]])


MatrixDiag.gradient(lambda op, grad: [matrix_diag_part(grad)])


@MatrixDiag.kernel("CPU")
def _matrix_diag_kernel(ctx, diagonal):
    _check_rank(ctx, diagonal, 1, "input")
    n = diagonal.shape[-1]
    out = np.zeros(diagonal.shape + (n,), dtype=diagonal.dtype)
    idx = np.arange(n)
    out[..., idx, idx] = diagonal
    return out


# ---- MatrixDiagPart: [..., M, N] -> [..., min(M, N)] ----------------------------------------
MatrixDiagPart = registry.register_op("MatrixDiagPart", inputs=["input: T"],
                                      outputs=["diagonal: T"],
                                      attrs={"T": registry.Attr("type")})


@MatrixDiagPart.shape
def _matrix_diag_part_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(2)
    if shape.ndims is None:
        return shape
    return shape[:-2].concatenate([_min_dim(shape[-2], shape[-1])])


@MatrixDiagPart.gradient
def _matrix_diag_part_grad(op, grad):
    shape = op.inputs[0].get_shape()
    if shape.ndims is not None and shape[-1].value == shape[-2].value is not None:
        return [matrix_diag(grad)]
    return [matrix_set_diag(array_ops.zeros_like(op.inputs[0]), grad)]


@MatrixDiagPart.kernel("CPU")
def _matrix_diag_part_kernel(ctx, x):
    _check_rank(ctx, x, 2, "input")
    return _diagonal(x)


# ---- MatrixSetDiag: input [..., M, N], diagonal [..., min(M, N)] --------------------------------
MatrixSetDiag = registry.register_op("MatrixSetDiag", inputs=["input: T", "diagonal: T"],
                                     outputs=["output: T"], attrs={"T": registry.Attr("type")})


@MatrixSetDiag.shape
def _matrix_set_diag_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(2)
    diag = op.inputs[1].get_shape().with_rank_at_least(1)
    if shape.ndims is None:
        return shape
    want = shape[:-2].concatenate([_min_dim(shape[-2], shape[-1])])
    if not diag.is_compatible_with(want):
        raise ValueError(f"diagonal must have shape {want} to fit input {shape}, got {diag}")
    return shape


@MatrixSetDiag.gradient
def _matrix_set_diag_grad(op, grad):
    zeros = array_ops.zeros_like(op.inputs[1])
    return [matrix_set_diag(grad, zeros), matrix_diag_part(grad)]


@MatrixSetDiag.kernel("CPU")
def _matrix_set_diag_kernel(ctx, x, diagonal):
    _check_rank(ctx, x, 2, "input")
    n = min(x.shape[-2:])
    if diagonal.shape != x.shape[:-2] + (n,):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"must have diagonal.shape == input.shape[:-2] + [{n}], got "
                          f"input {common.shape_text(x.shape)} and diagonal "
                          f"{common.shape_text(diagonal.shape)}")
    out = np.array(x, copy=True)
    idx = np.arange(n)
    out[..., idx, idx] = diagonal
    return out


# ---- MatrixBandPart: keeps num_lower subdiagonals and num_upper superdiagonals (-1: all) ----
MatrixBandPart = registry.register_op(
    "MatrixBandPart", inputs=["input: T", "num_lower: Tindex", "num_upper: Tindex"],
    outputs=["band: T"], attrs={"T": registry.Attr("type"),
                                "Tindex": registry.Attr("type", dtypes.int64,
                                                        allowed=common.INDEX)})
MatrixBandPart.shape(lambda op: op.inputs[0].get_shape().with_rank_at_least(2))
MatrixBandPart.gradient(lambda op, grad: [
    matrix_band_part(grad, op.inputs[1], op.inputs[2]), None, None])


@MatrixBandPart.kernel("CPU")
def _matrix_band_part_kernel(ctx, x, num_lower, num_upper):
    _check_rank(ctx, x, 2, "input")
    m, n = x.shape[-2:]
    lower, upper = int(num_lower), int(num_upper)
    if lower > m or upper > n:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"num_lower must be negative or less or equal to number of rows "
                          f"({m}) got: {lower}" if lower > m else
                          f"num_upper must be negative or less or equal to number of columns "
                          f"({n}) got: {upper}")
    offset = np.arange(n)[None, :] - np.arange(m)[:, None]  # column - row
    keep = ((lower < 0) | (-offset <= lower)) & ((upper < 0) | (offset <= upper))
    return np.where(keep, x, np.zeros((), x.dtype)).astype(x.dtype, copy=False)


# ---- Diag / DiagPart: a tensor of shape s <-> the diagonal of one of shape s + s ----------------
_DIAG_TYPES = common.FLOATS | common.COMPLEX | {dtypes.int32, dtypes.int64}
Diag = registry.register_op("Diag", inputs=["diagonal: T"], outputs=["output: T"],
                            attrs={"T": _DIAG_TYPES})
Diag.gradient(lambda op, grad: [diag_part(grad)])


@Diag.shape
def _diag_shape(op):
    shape = op.inputs[0].get_shape()
    if shape.ndims is None:
        return shape
    if shape.ndims == 0:
        raise ValueError("Input must be at least rank 1, got a scalar")
    return shape.concatenate(shape)


@Diag.kernel("CPU")
def _diag_kernel(ctx, x):
    if x.ndim == 0:
        raise errors.InvalidArgumentError(None, ctx.op, "Input must be at least rank 1, got 0")
    out = np.zeros((x.size, x.size), dtype=x.dtype)
    out[np.arange(x.size), np.arange(x.size)] = x.reshape(-1)
    return out.reshape(x.shape + x.shape)


DiagPart = registry.register_op("DiagPart", inputs=["input: T"], outputs=["diagonal: T"],
                                attrs={"T": _DIAG_TYPES})
DiagPart.gradient(lambda op, grad: [diag(grad)])


@DiagPart.shape
def _diag_part_shape(op):
    shape = op.inputs[0].get_shape()
    if shape.ndims is None:
        return shape
    half = shape.ndims // 2
    if shape.ndims == 0 or shape.ndims % 2 or not shape[:half].is_compatible_with(shape[half:]):
        raise ValueError(f"Input must have an even rank and shape s + s, got {shape}")
    return shape[:half].merge_with(shape[half:])


@DiagPart.kernel("CPU")
def _diag_part_kernel(ctx, x):
    half = x.ndim // 2
    if x.ndim == 0 or x.ndim % 2 or x.shape[:half] != x.shape[half:]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Invalid shape {common.shape_text(x.shape)}: dimensions [:{half}] "
                          f"and [{half}:] must be equal")
    size = int(np.prod(x.shape[:half], dtype=np.int64))
    return np.diagonal(x.reshape(size, size)).reshape(x.shape[:half]).copy()


# ---- the public functions ------------------------------------------------------------------
def diag(diagonal, name=None):
    """The tensor of shape s + s with `diagonal` (shape s) on its diagonal, zeros elsewhere."""
    return apply_op("Diag", diagonal, name=name)


def diag_part(input, name=None):  # noqa: A002 - TF's name
    """The diagonal (shape s) of a tensor of shape s + s."""
    return apply_op("DiagPart", input, name=name)


def trace(x, name=None):
    """The sum of each innermost matrix's main diagonal (TF 1.0: batched)."""
    from tensorflux.ops import reduction_ops
    return reduction_ops.reduce_sum(matrix_diag_part(x), [-1], name=name or "trace")


def matrix_transpose(a, name="matrix_transpose"):
    """`a` with its two innermost dimensions swapped."""
    from tensorflux.ops import linalg_ops
    from tensorflux.framework import ops
    with ops.name_scope(name, "matrix_transpose", [a]):
        a = ops.convert_to_tensor(a, name="a")
        if a.get_shape().ndims is not None and a.get_shape().ndims < 2:
            raise ValueError(f"Argument 'a' should be a (batch) matrix, with rank >= 2.  "
                             f"Found: {a.get_shape()}")
        return linalg_ops._swap_last_two(a)
def matrix_diag(diagonal, name=None):
    """Matrices [..., M, M] with `diagonal` ([..., M]) on their diagonals, zeros elsewhere."""
    return apply_op("MatrixDiag", diagonal, name=name)


def matrix_diag_part(input, name=None):  # noqa: A002 - TF's name
    """The main diagonals ([..., min(M, N)]) of the innermost matrices of `input`."""
    return apply_op("MatrixDiagPart", input, name=name)


def matrix_set_diag(input, diagonal, name=None):  # noqa: A002
    """`input` with the main diagonals of its innermost matrices replaced by `diagonal`."""
    return apply_op("MatrixSetDiag", input, diagonal, name=name)


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """`input` with everything outside the band (num_lower subdiagonals, num_upper
    superdiagonals; negative means all) set to zero."""
    return apply_op("MatrixBandPart", input, num_lower, num_upper, name=name)


# TF 0.9's names (its Batch* ops became these ops in TF 1.0).
batch_matrix_diag = matrix_diag
batch_matrix_diag_part = matrix_diag_part
batch_matrix_set_diag = matrix_set_diag
batch_matrix_band_part = matrix_band_part
