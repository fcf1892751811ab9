"""Harness entries and behaviour tests for tensorflux/ops/linalg_ops.py (MatMul's are in
test_core_ops.py)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run


def well_conditioned(rng, shape, dtype):
    a = rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])
    return a.astype(tf.as_dtype(dtype).as_numpy_dtype)


SPECS = [
    OpSpec("BatchMatMul", tf.batch_matmul, np.matmul,
           [((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 2), (2, 1, 2, 2)), ((3, 2), (2, 1))]),
    OpSpec("BatchMatMul", lambda x, y: tf.batch_matmul(x, y, adj_x=True, adj_y=True),
           lambda x, y: np.conj(np.swapaxes(x, -1, -2)) @ np.conj(np.swapaxes(y, -1, -2)),
           [((2, 4, 3), (2, 5, 4))], name="BatchMatMul_adj"),
    OpSpec("BatchMatMul", lambda x, y: tf.batch_matmul(x, y, adj_x=True),
           lambda x, y: np.conj(np.swapaxes(x, -1, -2)) @ y, [((2, 4, 3), (2, 4, 5))],
           name="BatchMatMul_adj_x"),
    OpSpec("BatchMatMul", lambda x, y: tf.batch_matmul(x, y, adj_y=True),
           lambda x, y: x @ np.conj(np.swapaxes(y, -1, -2)), [((3, 4), (2, 4))],
           name="BatchMatMul_adj_y"),
    OpSpec("BatchMatMul", lambda x, y: tf.matmul(x, y, transpose_b=True),
           lambda x, y: x @ np.swapaxes(y, -1, -2), [((2, 3, 4), (2, 5, 4))],
           name="BatchMatMul_via_matmul"),
    OpSpec("MatrixInverse", tf.matrix_inverse, np.linalg.inv, [((3, 3),), ((2, 2, 2),)],
           inputs=well_conditioned, tol={tf.float32: 1e-4}),
    OpSpec("MatrixInverse", lambda a: tf.matrix_inverse(a, adjoint=True),
           lambda a: np.linalg.inv(np.swapaxes(a, -1, -2)), [((3, 3),)],
           inputs=well_conditioned, tol={tf.float32: 1e-4}, name="MatrixInverse_adjoint"),
    OpSpec("MatrixDeterminant", tf.matrix_determinant, np.linalg.det,
           [((3, 3),), ((2, 2, 2),), ((1, 1),)], inputs=well_conditioned,
           tol={tf.float32: 1e-4}),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_matmul_dispatches_to_batch_matmul():
    a, b = tf.zeros([2, 3, 4]), tf.zeros([2, 4, 5])
    c = tf.matmul(a, b)
    assert c.op.type == "BatchMatMul" and c.get_shape().as_list() == [2, 3, 5]
    with pytest.raises(ValueError, match="inner dimensions"):
        tf.batch_matmul(a, a)


def test_matrix_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        _run(tf.matrix_inverse(tf.zeros([2, 2])))
    with pytest.raises(ValueError, match="square"):
        tf.matrix_determinant(tf.zeros([2, 3]))


# ---- transpose vs adjoint, every dtype class ----------------------------------------------------
_MODES = ("none", "transpose", "adjoint")


def _np_operand(x, mode):
    if mode == "none":
        return x
    x = np.swapaxes(x, -1, -2)
    return np.conj(x) if mode == "adjoint" else x


def _random_matrix(rng, shape, dtype):
    x = rng.uniform(-1, 1, size=shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, size=shape)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("batch", [(), (2,)], ids=["rank2", "rank3"])
def test_matmul_transpose_and_adjoint_match_numpy(dtype, batch):
    """adjoint_* is the conjugate transpose, transpose_* never conjugates (TF's semantics)."""
    rng = np.random.default_rng(0)
    a = _random_matrix(rng, batch + (3, 4), dtype)
    b = _random_matrix(rng, batch + (4, 5), dtype)
    cases, expected = [], []
    with tf.Graph().as_default():
        for ma in _MODES:
            for mb in _MODES:
                x = a if ma == "none" else np.swapaxes(a, -1, -2).copy()
                y = b if mb == "none" else np.swapaxes(b, -1, -2).copy()
                kwargs = {f"{m}_{s}": True for m, s in ((ma, "a"), (mb, "b")) if m != "none"}
                cases.append(((ma, mb), tf.matmul(tf.constant(x), tf.constant(y), **kwargs)))
                expected.append(np.matmul(_np_operand(x, ma), _np_operand(y, mb)))
        with tf.Session() as sess:
            got = sess.run([t for _, t in cases])
    tol = 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12
    for (modes, tensor), want, value in zip(cases, expected, got):
        assert value.dtype == dtype, modes
        assert tensor.get_shape().as_list() == list(want.shape), modes
        np.testing.assert_allclose(value, want, rtol=tol, atol=tol, err_msg=str(modes))


def test_matmul_adjoint_unknown_rank_complex():
    a = np.array([[[1 + 2j, 3j], [2, 1 - 1j]]], np.complex64)
    pa = tf.placeholder(tf.complex64)
    out_t = tf.matmul(pa, pa, transpose_a=True)
    out_h = tf.matmul(pa, pa, adjoint_b=True)
    with tf.Session() as sess:
        got_t, got_h = sess.run([out_t, out_h], {pa: a})
    np.testing.assert_allclose(got_t, np.swapaxes(a, -1, -2) @ a, rtol=1e-6)
    np.testing.assert_allclose(got_h, a @ np.conj(np.swapaxes(a, -1, -2)), rtol=1e-6)


def test_matmul_rejects_transpose_and_adjoint_together():
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a"):
        tf.matmul(tf.zeros([2, 2]), tf.zeros([2, 2]), transpose_a=True, adjoint_a=True)
