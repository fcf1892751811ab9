"""Factorizations and solvers for (batches of) matrices: Cholesky, MatrixSolve,
MatrixTriangularSolve, MatrixSolveLs, SelfAdjointEigV2, with TF 0.9's `batch_*` names.

Every op works on the two innermost dimensions, the leading ones being a batch. Kernels call
NumPy's LAPACK routines. Gradients are written with other ops; for complex matrices they
follow TF's convention (the adjoint of the linearized map applied to the upstream gradient),
so every transpose in them is an adjoint. Cholesky and SelfAdjointEigV2 read only the lower
triangle of their input, as TF's kernels do, so their gradients live on that triangle
(Cholesky's is symmetrized instead, as TF's is).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import linalg_ops
from tensorflux.ops import matrix_diag_ops as diag_ops
from tensorflux.ops.complex_ops import conj

__all__ = ["cholesky", "matrix_solve", "matrix_triangular_solve", "matrix_solve_ls",
           "self_adjoint_eig", "self_adjoint_eigvals", "cholesky_solve",
           "batch_cholesky", "batch_matrix_solve", "batch_matrix_triangular_solve",
           "batch_matrix_solve_ls", "batch_self_adjoint_eig", "batch_matrix_determinant",
           "batch_matrix_inverse", "batch_cholesky_solve"]

_TYPES = frozenset({dtypes.float32, dtypes.float64}) | common.COMPLEX


def _matmul(a, b, adjoint_a=False, adjoint_b=False):
    return linalg_ops.matmul(a, b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)


def _adjoint(x):
    """x^H over the innermost two dimensions."""
    return conj(linalg_ops._swap_last_two(x))


def _eye_like(square):
    """Identity matrices of `square`'s batch shape and size."""
    ones = array_ops.ones_like(diag_ops.matrix_diag_part(square))
    return diag_ops.matrix_diag(ones)


def _lower(x):
    return diag_ops.matrix_band_part(x, -1, 0)


def _square_shape(shape, what="input"):
    shape = shape.with_rank_at_least(2)
    if shape.ndims is not None and not shape[-1].is_compatible_with(shape[-2]):
        raise ValueError(f"{what} must be a (batch of) square matrices [..., M, M], "
                         f"got {shape}")
    return shape


def _check_square(ctx, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Input matrix must be square. Got shape "
                          f"{common.shape_text(a.shape)}")


def _solve_shape(op):
    """matrix [..., M, M] and rhs [..., M, K] give [..., M, K]."""
    a = _square_shape(op.inputs[0].get_shape(), "matrix")
    b = op.inputs[1].get_shape().with_rank_at_least(2)
    if a.ndims is None or b.ndims is None:
        return b if a.ndims is None else a[:-1].concatenate(tensor_shape.unknown_shape(1))
    try:
        batch = a[:-2].merge_with(b[:-2])
        rows = a[-2].merge_with(b[-2])
    except ValueError:
        raise ValueError(f"matrix {a} and rhs {b} do not fit: rhs must be [..., M, K] for "
                         f"matrix [..., M, M]") from None
    return batch.concatenate([rows, b[-1]])


def _check_rhs(ctx, a, b):
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-2]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Input matrix and rhs are incompatible: "
                          f"{common.shape_text(a.shape)} vs. {common.shape_text(b.shape)}")


def _solve(ctx, a, b):
    try:
        return np.linalg.solve(a, b).astype(b.dtype, copy=False)
    except np.linalg.LinAlgError:
        raise errors.InvalidArgumentError(None, ctx.op,
                                          "Input matrix is not invertible.") from None


def _conj_t(a):
    return np.conj(np.swapaxes(a, -1, -2))


# ---- Cholesky -------------------------------------------------------------------------------
Cholesky = registry.register_op("Cholesky", inputs=["input: T"], outputs=["output: T"],
                                attrs={"T": _TYPES})
Cholesky.shape(lambda op: _square_shape(op.inputs[0].get_shape()))


@Cholesky.gradient
def _cholesky_grad(op, grad):
    # A = L L^H. With P = L^H G on the lower triangle, its diagonal halved, the gradient
    # w.r.t. a symmetric A is L^-H P L^-1, symmetrized (TF's convention).
    chol = op.outputs[0]
    chol_inv = matrix_triangular_solve(chol, _eye_like(chol), lower=True)
    middle = _lower(_matmul(chol, grad, adjoint_a=True))
    middle = diag_ops.matrix_set_diag(middle, 0.5 * diag_ops.matrix_diag_part(middle))
    grad_a = _matmul(_matmul(chol_inv, middle, adjoint_a=True), chol_inv)
    return [0.5 * (grad_a + _adjoint(grad_a))]


@Cholesky.kernel("CPU")
def _cholesky_kernel(ctx, a):
    _check_square(ctx, a)
    try:
        return np.linalg.cholesky(a).astype(a.dtype, copy=False)
    except np.linalg.LinAlgError:
        raise errors.InvalidArgumentError(
            None, ctx.op, "Cholesky decomposition was not successful. The input might not "
                          "be valid.") from None


# ---- MatrixSolve / MatrixTriangularSolve ------------------------------------------------------
MatrixSolve = registry.register_op("MatrixSolve", inputs=["matrix: T", "rhs: T"],
                                   outputs=["output: T"], attrs={"adjoint": False, "T": _TYPES})
MatrixSolve.shape(_solve_shape)


def _solve_grads(op, grad, solve_adjoint):
    """X = op(A) \\ B: grad_B = op(A)^-H G; grad_A = -grad_B X^H (or its adjoint)."""
    adjoint = op.get_attr("adjoint")
    grad_b = solve_adjoint(not adjoint)
    x = op.outputs[0]
    if adjoint:
        return -_matmul(x, grad_b, adjoint_b=True), grad_b
    return -_matmul(grad_b, x, adjoint_b=True), grad_b


@MatrixSolve.gradient
def _matrix_solve_grad(op, grad):
    a = op.inputs[0]
    return list(_solve_grads(op, grad, lambda adj: matrix_solve(a, grad, adjoint=adj)))


@MatrixSolve.kernel("CPU")
def _matrix_solve_kernel(ctx, a, b):
    _check_square(ctx, a)
    _check_rhs(ctx, a, b)
    return _solve(ctx, _conj_t(a) if ctx.attrs["adjoint"] else a, b)


MatrixTriangularSolve = registry.register_op(
    "MatrixTriangularSolve", inputs=["matrix: T", "rhs: T"], outputs=["output: T"],
    attrs={"lower": True, "adjoint": False, "T": _TYPES})
MatrixTriangularSolve.shape(_solve_shape)


@MatrixTriangularSolve.gradient
def _matrix_triangular_solve_grad(op, grad):
    a, lower = op.inputs[0], op.get_attr("lower")
    grad_a, grad_b = _solve_grads(op, grad, lambda adj: matrix_triangular_solve(
        a, grad, lower=lower, adjoint=adj))
    # Only the triangle the kernel reads gets a gradient.
    band = (-1, 0) if lower else (0, -1)
    return [diag_ops.matrix_band_part(grad_a, *band), grad_b]


@MatrixTriangularSolve.kernel("CPU")
def _matrix_triangular_solve_kernel(ctx, a, b):
    _check_square(ctx, a)
    _check_rhs(ctx, a, b)
    tri = np.tril(a) if ctx.attrs["lower"] else np.triu(a)
    return _solve(ctx, _conj_t(tri) if ctx.attrs["adjoint"] else tri, b)


# ---- MatrixSolveLs: regularized least squares -----------------------------------------------
MatrixSolveLs = registry.register_op(
    "MatrixSolveLs", inputs=["matrix: T", "rhs: T", "l2_regularizer: double"],
    outputs=["output: T"], attrs={"fast": True, "T": _TYPES})


@MatrixSolveLs.shape
def _matrix_solve_ls_shape(op):
    a = op.inputs[0].get_shape().with_rank_at_least(2)
    b = op.inputs[1].get_shape().with_rank_at_least(2)
    op.inputs[2].get_shape().assert_is_compatible_with(tensor_shape.scalar())
    if a.ndims is None or b.ndims is None:
        return tensor_shape.unknown_shape()
    try:
        batch = a[:-2].merge_with(b[:-2])
        a[-2].merge_with(b[-2])
    except ValueError:
        raise ValueError(f"matrix {a} and rhs {b} do not fit: rhs must be [..., M, K] for "
                         f"matrix [..., M, N]") from None
    return batch.concatenate([a[-1], b[-1]])


@MatrixSolveLs.gradient
def _matrix_solve_ls_grad(op, grad):
    a, b, l2 = op.inputs
    x = op.outputs[0]
    shape = a.get_shape()
    l2 = _cast_like(l2, a)
    if shape.ndims is not None and shape[-2].value is not None and \
            shape[-1].value is not None and shape[-2].value < shape[-1].value:
        return list(_underdetermined_ls_grads(a, b, l2, x, grad)) + [None]
    return list(_overdetermined_ls_grads(a, b, l2, x, grad)) + [None]


def _cast_like(l2, a):
    from tensorflux.ops import math_ops
    return math_ops.cast(l2, a.dtype.base_dtype)


def _overdetermined_ls_grads(a, b, l2, x, grad):
    """X = Z^-1 A^H B with Z = A^H A + l2 I: Y = Z^-1 G, grad_B = A Y,
    grad_A = (B - A X) Y^H - A Y X^H."""
    gram = _matmul(a, a, adjoint_a=True)
    y = matrix_solve(gram + l2 * _eye_like(gram), grad)
    grad_b = _matmul(a, y)
    grad_a = _matmul(b - _matmul(a, x), y, adjoint_b=True) - _matmul(grad_b, x, adjoint_b=True)
    return grad_a, grad_b


def _underdetermined_ls_grads(a, b, l2, x, grad):
    """X = A^H W with W = Z^-1 B, Z = A A^H + l2 I: with Y = Z^-1 A G, grad_B = Y and
    grad_A = W G^H - Y W^H A - W Y^H A."""
    gram = _matmul(a, a, adjoint_b=True)
    z = gram + l2 * _eye_like(gram)
    w = matrix_solve(z, b)
    y = matrix_solve(z, _matmul(a, grad))
    grad_a = (_matmul(w, grad, adjoint_b=True) - _matmul(_matmul(y, w, adjoint_b=True), a)
              - _matmul(_matmul(w, y, adjoint_b=True), a))
    return grad_a, y


@MatrixSolveLs.kernel("CPU")
def _matrix_solve_ls_kernel(ctx, a, b, l2):
    if a.ndim < 2 or b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or \
            b.shape[-2] != a.shape[-2]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Incompatible shapes: matrix {common.shape_text(a.shape)} and rhs "
                          f"{common.shape_text(b.shape)}")
    m, n = a.shape[-2:]
    if m >= n:
        eye = np.eye(n, dtype=a.dtype)
        return _solve(ctx, _conj_t(a) @ a + float(l2) * eye, _conj_t(a) @ b)
    eye = np.eye(m, dtype=a.dtype)
    return (_conj_t(a) @ _solve(ctx, a @ _conj_t(a) + float(l2) * eye, b)).astype(b.dtype)


# ---- SelfAdjointEigV2 -----------------------------------------------------------------------
SelfAdjointEigV2 = registry.register_op("SelfAdjointEigV2", inputs=["input: T"],
                                        outputs=["e: T", "v: T"],
                                        attrs={"compute_v": True, "T": _TYPES})


@SelfAdjointEigV2.shape
def _self_adjoint_eig_shape(op):
    shape = _square_shape(op.inputs[0].get_shape())
    if shape.ndims is None:
        return [shape, shape]
    v = shape if op.get_attr("compute_v") else tensor_shape.TensorShape([0])
    return [shape[:-1], v]


@SelfAdjointEigV2.gradient
def _self_adjoint_eig_grad(op, grad_e, grad_v):
    # For A = V diag(e) V^H: G = V (diag(g_e) + F o (V^H g_v)) V^H with
    # F_ij = 1 / (e_j - e_i) off the diagonal; the kernel reads A's lower triangle, so the
    # gradient is G + G^H there (its diagonal once).
    e, v = op.outputs
    if not op.get_attr("compute_v"):
        e, v = self_adjoint_eig(op.inputs[0])
    inner = diag_ops.matrix_diag(grad_e) if grad_e is not None else array_ops.zeros_like(v)
    if grad_v is not None and op.get_attr("compute_v"):
        gaps = array_ops.expand_dims(e, -2) - array_ops.expand_dims(e, -1)
        eye = _eye_like(v)
        f = (1 - eye) / (gaps + eye)  # 1 / (e_j - e_i), zero on the diagonal
        inner = inner + f * _matmul(v, grad_v, adjoint_a=True)
    g = _matmul(v, _matmul(inner, v, adjoint_b=True))
    both = _lower(g + _adjoint(g))
    return [diag_ops.matrix_set_diag(both, 0.5 * diag_ops.matrix_diag_part(both))]


@SelfAdjointEigV2.kernel("CPU")
def _self_adjoint_eig_kernel(ctx, a):
    _check_square(ctx, a)
    e, v = np.linalg.eigh(a, UPLO="L")
    if not ctx.attrs["compute_v"]:
        v = np.zeros((0,), a.dtype)
    return [e.astype(a.dtype), v.astype(a.dtype, copy=False)]


# ---- the public functions ------------------------------------------------------------------
def cholesky(input, name=None):  # noqa: A002 - TF's name
    """The lower Cholesky factors L (A = L L^H) of the innermost matrices of `input`; only
    their lower triangles are read."""
    return apply_op("Cholesky", input, name=name)


def cholesky_solve(chol, rhs, name=None):
    """Solves A X = rhs given A's Cholesky factor `chol` (two triangular solves)."""
    y = matrix_triangular_solve(chol, rhs, lower=True, adjoint=False)
    return matrix_triangular_solve(chol, y, lower=True, adjoint=True, name=name)


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix X = rhs (matrix^H X = rhs if `adjoint`), per batch entry."""
    return apply_op("MatrixSolve", matrix, rhs, adjoint=adjoint, name=name)


def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with T X = rhs, T the lower (or upper) triangle of `matrix` (T^H if `adjoint`)."""
    return apply_op("MatrixTriangularSolve", matrix, rhs, lower=lower, adjoint=adjoint,
                    name=name)


def matrix_solve_ls(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """The least-squares solutions of matrix X = rhs, regularized by l2_regularizer
    (minimum-norm solutions when matrix has fewer rows than columns)."""
    return apply_op("MatrixSolveLs", matrix, rhs, _as_double(l2_regularizer), fast=fast,
                    name=name)


def _as_double(value):
    from tensorflux.framework import ops
    return ops.convert_to_tensor(value, dtype=dtypes.float64, name="l2_regularizer")


def self_adjoint_eig(tensor, name=None):
    """(e, v): eigenvalues ([..., N], ascending) and eigenvectors (columns of [..., N, N])
    of the self-adjoint innermost matrices (only their lower triangles are read); TF 1.0."""
    e, v = apply_op("SelfAdjointEigV2", tensor, compute_v=True, name=name)
    return e, v


def self_adjoint_eigvals(tensor, name=None):
    """The eigenvalues ([..., N], ascending) of the self-adjoint innermost matrices."""
    e, _ = apply_op("SelfAdjointEigV2", tensor, compute_v=False, name=name)
    return e


def batch_self_adjoint_eig(tensor, name=None):
    """TF 0.9's packed form: [..., N+1, N], eigenvalues in row 0, eigenvectors (columns)
    below."""
    e, v = self_adjoint_eig(tensor)
    return array_ops.concat([array_ops.expand_dims(e, -2), v], -2, name=name)


# TF 0.9's names for the batched ops (one op each since TF 1.0).
batch_cholesky = cholesky
batch_cholesky_solve = cholesky_solve
batch_matrix_solve = matrix_solve
batch_matrix_triangular_solve = matrix_triangular_solve
batch_matrix_solve_ls = matrix_solve_ls
batch_matrix_determinant = linalg_ops.matrix_determinant
batch_matrix_inverse = linalg_ops.matrix_inverse
