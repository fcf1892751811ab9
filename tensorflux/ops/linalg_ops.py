"""Matrix ops: MatMul, BatchMatMul, MatrixInverse, MatrixDeterminant.

`matmul` sends anything but two rank-2 operands to BatchMatMul. Both products share their
gradient rules through `_product_grads`. math_ops is imported inside the gradients that need it
(math_ops imports this module at load time, for the `@` operator).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import blas_threads
from tensorflux.ops import common
from tensorflux.ops.complex_ops import conj

__all__ = ["matmul", "batch_matmul", "matrix_inverse", "matrix_determinant"]

_FLOATS_COMPLEX = common.FLOATS | common.COMPLEX


# ---- MatMul / BatchMatMul -----------------------------------------------------------------
_MATMUL_TYPES = common.FLOATS | common.COMPLEX | {dtypes.int32, dtypes.int64}
MatMul = registry.register_op("MatMul", inputs=["a: T", "b: T"], outputs=["product: T"],
                              attrs={"transpose_a": False, "transpose_b": False,
                                     "T": _MATMUL_TYPES})


@MatMul.shape
def _matmul_shape(op):
    a = op.inputs[0].get_shape().with_rank(2)
    b = op.inputs[1].get_shape().with_rank(2)
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    m, k1 = (a[1], a[0]) if ta else (a[0], a[1])
    k2, n = (b[1], b[0]) if tb else (b[0], b[1])
    if not k1.is_compatible_with(k2):
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2} (inner dimensions "
                         f"of a {a} and b {b}, transpose_a={ta}, transpose_b={tb})")
    return tensor_shape.TensorShape([m, n])


def _product_grads(mm, a, b, grad, ta, tb):
    """Gradients of mm(a, b, ta, tb) for a matrix product `mm(x, y, adj_x, adj_y)`."""
    if not ta and not tb:
        return [mm(grad, b, False, True), mm(a, grad, True, False)]
    if not ta and tb:
        return [mm(grad, b, False, False), mm(grad, a, True, False)]
    if ta and not tb:
        return [mm(b, grad, False, True), mm(a, grad, False, False)]
    return [mm(b, grad, True, True), mm(grad, a, True, True)]


@MatMul.gradient
def _matmul_grad(op, grad):
    # MatMul's flags only transpose: complex gradients need the conjugated operands (G b^H).
    a, b = (conj(t) for t in op.inputs)
    return _product_grads(lambda x, y, tx, ty: matmul(x, y, transpose_a=tx, transpose_b=ty),
                          a, b, grad, op.get_attr("transpose_a"), op.get_attr("transpose_b"))


@MatMul.kernel("CPU")
def _matmul_kernel(ctx, a, b):
    for k, x in enumerate((a, b)):
        if x.ndim != 2:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"In[{k}] is not a matrix. Instead it has shape "
                              f"{common.shape_text(x.shape)}")
    x = a.T if ctx.attrs["transpose_a"] else a
    y = b.T if ctx.attrs["transpose_b"] else b
    if x.shape[1] != y.shape[0]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Matrix size-incompatible: In[0]: {common.shape_text(a.shape)}, "
                          f"In[1]: {common.shape_text(b.shape)}")
    # bfloat16 products come back float32
    return blas_threads.matmul(x, y, ctx.intra_op_threads).astype(a.dtype, copy=False)


BatchMatMul = registry.register_op("BatchMatMul", inputs=["x: T", "y: T"],
                                   outputs=["output: T"],
                                   attrs={"adj_x": False, "adj_y": False, "T": _MATMUL_TYPES})


@BatchMatMul.shape
def _batch_matmul_shape(op):
    x, y = (t.get_shape() for t in op.inputs)
    if x.ndims is None or y.ndims is None:
        return tensor_shape.unknown_shape()
    if x.ndims < 2 or x.ndims != y.ndims:
        raise ValueError(f"x and y must have one rank >= 2, got shapes {x} and {y}")
    try:
        batch = x[:-2].merge_with(y[:-2])
    except ValueError:
        raise ValueError(f"batch dimensions must match, got shapes {x} and {y}") from None
    ax, ay = op.get_attr("adj_x"), op.get_attr("adj_y")
    m, k1 = (x[-1], x[-2]) if ax else (x[-2], x[-1])
    k2, n = (y[-1], y[-2]) if ay else (y[-2], y[-1])
    if not k1.is_compatible_with(k2):
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2} (inner dimensions "
                         f"of x {x} and y {y}, adj_x={ax}, adj_y={ay})")
    return batch.concatenate([m, n])


@BatchMatMul.gradient
def _batch_matmul_grad(op, grad):
    x, y = op.inputs
    return _product_grads(lambda a, b, ta, tb: batch_matmul(a, b, adj_x=ta, adj_y=tb),
                          x, y, grad, op.get_attr("adj_x"), op.get_attr("adj_y"))


def _adjoint(a):
    a = np.swapaxes(a, -1, -2)
    return np.conj(a) if a.dtype.kind == "c" else a


@BatchMatMul.kernel("CPU")
def _batch_matmul_kernel(ctx, x, y):
    adj_x, adj_y = ctx.attrs["adj_x"], ctx.attrs["adj_y"]
    _check_batch_matmul_shapes(ctx, x.shape, y.shape, adj_x, adj_y)
    x = _adjoint(x) if adj_x else x
    y = _adjoint(y) if adj_y else y
    return np.matmul(x, y).astype(x.dtype, copy=False)


def _check_batch_matmul_shapes(ctx, sx, sy, adj_x, adj_y):
    """TF's BatchMatMul checks: equal ranks >= 2, equal batch dims, matching inner dims."""
    text = common.shape_text
    if len(sx) != len(sy):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"In[0] and In[1] has different ndims: {text(sx)} vs. {text(sy)}")
    if len(sx) < 2:
        raise errors.InvalidArgumentError(None, ctx.op, f"In[0] ndims must be >= 2: {len(sx)}")
    for d, (a, b) in enumerate(zip(sx[:-2], sy[:-2])):
        if a != b:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"In[0].dim({d}) and In[1].dim({d}) must be the same: "
                              f"{text(sx)} vs {text(sy)}")  # TF 1.x's BatchMatMul wording
    k_x = sx[-2] if adj_x else sx[-1]
    k_y = sy[-1] if adj_y else sy[-2]
    if k_x != k_y:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"In[0] mismatch In[1] shape: {k_x} vs. {k_y}: {text(sx)} {text(sy)} "
                          f"{int(adj_x)} {int(adj_y)}")


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix product of `a` and `b` (rank 2; other or unknown ranks go to BatchMatMul).

    `adjoint_*` conjugates and transposes; `transpose_*` only transposes (they differ for
    complex matrices). MatMul's attrs transpose and BatchMatMul's adjoint, so for complex
    operands the other kind is made with an explicit Transpose (or a rank-2 BatchMatMul).

    Raises:
      ValueError: if both transpose_a and adjoint_a (or both _b) are set.
    """
    for t, adj, which in ((transpose_a, adjoint_a, "a"), (transpose_b, adjoint_b, "b")):
        if t and adj:
            raise ValueError(f"Only one of transpose_{which} and adjoint_{which} can be True.")
    a = ops.convert_to_tensor(a, name="a")
    b = ops.convert_to_tensor(b, dtype=a.dtype.base_dtype, name="b")
    _check_matrices(a, b, name)
    is_complex = a.dtype.base_dtype.is_complex
    rank_2 = (a.get_shape().ndims, b.get_shape().ndims) == (2, 2)
    if rank_2 and not (is_complex and (adjoint_a or adjoint_b)):
        return apply_op("MatMul", a, b, transpose_a=transpose_a or adjoint_a,
                        transpose_b=transpose_b or adjoint_b, name=name)
    if is_complex:  # BatchMatMul's adj_* conjugates: a plain transpose is a Transpose op
        a = _swap_last_two(a) if transpose_a else a
        b = _swap_last_two(b) if transpose_b else b
        return batch_matmul(a, b, adj_x=adjoint_a, adj_y=adjoint_b, name=name)
    return batch_matmul(a, b, adj_x=transpose_a or adjoint_a, adj_y=transpose_b or adjoint_b,
                        name=name)


def _check_matrices(a, b, name):
    """TF's MatMul refuses operands of rank < 2 (a vector product is not a matrix product)."""
    ranks = [t.get_shape().ndims for t in (a, b)]
    for rank in ranks:
        if rank is not None and rank < 2:
            shapes = ", ".join(_shape_text(t.get_shape()) for t in (a, b))
            op_name = name or "MatMul"
            raise ValueError(f"Shape must be rank 2 but is rank {rank} for '{op_name}' "
                             f"(op: 'MatMul') with input shapes: {shapes}.")


def _shape_text(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _swap_last_two(x):
    """`x` with its two innermost dimensions transposed (no conjugation)."""
    ndims = x.get_shape().ndims
    if ndims is not None:
        perm = list(range(ndims - 2)) + [ndims - 1, ndims - 2]
    else:
        r = array_ops.rank(x)
        perm = array_ops.concat([array_ops.range(r - 2), array_ops.stack([r - 1, r - 2])], 0)
    return array_ops.transpose(x, perm)


def batch_matmul(x, y, adj_x=False, adj_y=False, name=None):
    """Matrix products over the leading (batch) dimensions of x and y (TF 0.9's name)."""
    return apply_op("BatchMatMul", x, y, adj_x=adj_x, adj_y=adj_y, name=name)


# ---- MatrixInverse / MatrixDeterminant ----------------------------------------------------
def _square_matrices_shape(op, drop_matrix):
    shape = op.inputs[0].get_shape()
    if shape.ndims is None:
        return shape
    if shape.ndims < 2 or not shape[-1].is_compatible_with(shape[-2]):
        raise ValueError(f"input must be a (batch of) square matrices [..., M, M], got {shape}")
    return shape[:-2] if drop_matrix else shape


def _check_square(ctx, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input must be a (batch of) square matrices [..., M, M], "
                          f"got shape {a.shape}")


MatrixInverse = registry.register_op("MatrixInverse", inputs=["input: T"],
                                     outputs=["output: T"],
                                     attrs={"adjoint": False, "T": _FLOATS_COMPLEX})
MatrixInverse.shape(lambda op: _square_matrices_shape(op, False))


@MatrixInverse.gradient
def _matrix_inverse_grad(op, grad):
    from tensorflux.ops import math_ops
    inv_a = op.outputs[0]
    if op.get_attr("adjoint"):
        return [math_ops.negative(batch_matmul(inv_a, batch_matmul(grad, inv_a, adj_x=True)))]
    return [math_ops.negative(
        batch_matmul(inv_a, batch_matmul(grad, inv_a, adj_y=True), adj_x=True))]


@MatrixInverse.kernel("CPU")
def _matrix_inverse_kernel(ctx, a):
    _check_square(ctx, a)
    try:
        result = np.linalg.inv(_linalg_type(_adjoint(a) if ctx.attrs["adjoint"] else a))
    except np.linalg.LinAlgError:
        raise errors.InvalidArgumentError(None, ctx.op, "Input is not invertible.") from None
    return result.astype(a.dtype, copy=False)


MatrixDeterminant = registry.register_op("MatrixDeterminant", inputs=["input: T"],
                                         outputs=["output: T"],
                                         attrs={"T": _FLOATS_COMPLEX})
MatrixDeterminant.shape(lambda op: _square_matrices_shape(op, True))


@MatrixDeterminant.gradient
def _matrix_determinant_grad(op, grad):
    # d det(A) / dA = det(A) * inverse(A)^H, scaled per matrix by the incoming gradient.
    a, det = op.inputs[0], op.outputs[0]
    scale = grad * conj(det)
    if scale.get_shape().is_fully_defined():
        new_shape = scale.get_shape().as_list() + [1, 1]
    else:
        new_shape = array_ops.concat([array_ops.shape(scale), [1, 1]], 0)
    return [array_ops.reshape(scale, new_shape) * matrix_inverse(a, adjoint=True)]


@MatrixDeterminant.kernel("CPU")
def _matrix_determinant_kernel(ctx, a):
    _check_square(ctx, a)
    return np.asarray(np.linalg.det(_linalg_type(a))).astype(a.dtype)


def _linalg_type(a):
    """NumPy's LAPACK routines take no half types: float16 and bfloat16 go through float32."""
    return a.astype(np.float32) if a.dtype.kind in "fV" and a.dtype.itemsize == 2 else a


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002
    """Inverse of each square matrix in `input` ([..., M, M]); of its adjoint if `adjoint`."""
    return apply_op("MatrixInverse", input, adjoint=adjoint, name=name)


def matrix_determinant(input, name=None):  # noqa: A002
    """Determinant of each square matrix in `input` ([..., M, M])."""
    return apply_op("MatrixDeterminant", input, name=name)
