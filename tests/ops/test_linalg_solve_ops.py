"""Harness entries for Cholesky, MatrixSolve, MatrixTriangularSolve, MatrixSolveLs,
SelfAdjointEigV2 (references: NumPy's LAPACK) and TF 0.9's `batch_*` names."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run

TYPES = [tf.float32, tf.float64, tf.complex64]
TOL = {tf.float32: 1e-4, tf.complex64: 1e-4}


def _cast(x, dtype):
    return np.asarray(x).astype(tf.as_dtype(dtype).as_numpy_dtype)


def _general(rng, shape, dtype):
    x = rng.uniform(-1, 1, size=shape)
    if tf.as_dtype(dtype).is_complex:
        x = x + 1j * rng.uniform(-1, 1, size=shape)
    return _cast(x, dtype)


def well_conditioned(rng, shape, dtype):
    """Entries in [-1, 1) (both parts when complex) plus 3 on the diagonal."""
    x = _general(rng, shape, dtype)
    n = min(shape[-2:])
    idx = np.arange(n)
    x[..., idx, idx] += 3
    return x


def _spd(x):
    """A positive definite (Hermitian) matrix built in the graph from any square x."""
    eye = tf.matrix_diag(tf.ones_like(tf.matrix_diag_part(x)))
    return tf.matmul(x, x, adjoint_b=True) + 3 * eye


def _np_spd(x):
    return x @ np.conj(np.swapaxes(x, -1, -2)) + 3 * np.eye(x.shape[-1])


def _h(a):
    return np.conj(np.swapaxes(a, -1, -2))


def _np_ls(a, b, l2):
    m, n = a.shape[-2:]
    if m >= n:
        return np.linalg.solve(_h(a) @ a + l2 * np.eye(n), _h(a) @ b)
    return _h(a) @ np.linalg.solve(a @ _h(a) + l2 * np.eye(m), b)


def _tri_spec(lower, adjoint):
    tri = np.tril if lower else np.triu
    return OpSpec("MatrixTriangularSolve",
                  lambda a, b: tf.matrix_triangular_solve(a, b, lower=lower, adjoint=adjoint),
                  lambda a, b: np.linalg.solve(_h(tri(a)) if adjoint else tri(a), b),
                  [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1))], dtypes=TYPES,
                  inputs=[well_conditioned, _general], tol=TOL,
                  name=f"MatrixTriangularSolve_lower={lower}_adjoint={adjoint}")


def _eig_pair(x):
    e, v = np.linalg.eigh(_np_spd(x))
    return [e.astype(x.dtype), v.astype(x.dtype)]


SPECS = [
    OpSpec("Cholesky", lambda x: tf.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_np_spd(x)),
           [((3, 3),), ((2, 2, 2),)], dtypes=TYPES, inputs=_general, tol=TOL),
    OpSpec("MatrixSolve", tf.matrix_solve, np.linalg.solve,
           [((3, 3), (3, 2)), ((2, 2, 2), (2, 2, 3))], dtypes=TYPES,
           inputs=[well_conditioned, _general], tol=TOL),
    OpSpec("MatrixSolve", lambda a, b: tf.matrix_solve(a, b, adjoint=True),
           lambda a, b: np.linalg.solve(_h(a), b), [((3, 3), (3, 2))], dtypes=TYPES,
           inputs=[well_conditioned, _general], tol=TOL, name="MatrixSolve_adjoint"),
    _tri_spec(True, False), _tri_spec(True, True), _tri_spec(False, False),
    _tri_spec(False, True),
    OpSpec("MatrixSolveLs", lambda a, b: tf.matrix_solve_ls(a, b, 0.1),
           lambda a, b: _np_ls(a, b, 0.1), [((4, 3), (4, 2)), ((2, 3, 3), (2, 3, 1))],
           dtypes=TYPES, inputs=[well_conditioned, _general], tol=TOL),
    OpSpec("MatrixSolveLs", lambda a, b: tf.matrix_solve_ls(a, b, 0.5),
           lambda a, b: _np_ls(a, b, 0.5), [((2, 4), (2, 3))], dtypes=TYPES,
           inputs=[well_conditioned, _general], tol=TOL, name="MatrixSolveLs_underdetermined"),
    # Complex eigenvectors are defined up to a phase each, so no complex gradient (TF's is
    # only meaningful for phase-invariant losses).
    OpSpec("SelfAdjointEigV2", lambda x: list(tf.self_adjoint_eig(_spd(x))), _eig_pair,
           [((3, 3),), ((2, 2, 2),)], dtypes=TYPES, inputs=_general, tol=TOL,
           complex_grad=False),
    OpSpec("SelfAdjointEigV2", lambda x: tf.self_adjoint_eigvals(_spd(x)),
           lambda x: np.linalg.eigvalsh(_np_spd(x)).astype(x.dtype), [((3, 3),)],
           dtypes=TYPES, inputs=_general, tol=TOL, name="SelfAdjointEigV2_eigvals"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_kernels_read_only_the_lower_triangle():
    a = np.array([[4.0, 100.0], [2.0, 3.0]])
    sym = np.array([[4.0, 2.0], [2.0, 3.0]])
    chol, (e, v) = _run([tf.cholesky(a), tf.self_adjoint_eig(a)])
    np.testing.assert_allclose(chol, np.linalg.cholesky(sym))
    np.testing.assert_allclose(e, np.linalg.eigvalsh(sym))
    x = tf.constant(a)
    (g,) = tf.gradients(tf.reduce_sum(tf.cholesky(x)), x)
    assert _run(g)[0, 1] == pytest.approx(_run(g)[1, 0])  # symmetrized, as TF


def test_tf_0_9_batch_names():
    a = np.array([[[2.0, 0.0], [1.0, 3.0]], [[4.0, 1.0], [1.0, 2.0]]])
    b = np.ones((2, 2, 1))
    got = _run([tf.batch_matrix_determinant(a), tf.batch_matrix_inverse(a),
                tf.batch_matrix_solve(a, b), tf.batch_matrix_triangular_solve(a, b),
                tf.batch_matrix_solve_ls(a, b), tf.batch_self_adjoint_eig(a + _h(a)),
                tf.batch_cholesky(a + _h(a))])
    np.testing.assert_allclose(got[0], np.linalg.det(a))
    np.testing.assert_allclose(got[1], np.linalg.inv(a))
    np.testing.assert_allclose(got[2], np.linalg.solve(a, b))
    np.testing.assert_allclose(got[3], np.linalg.solve(np.tril(a), b))
    np.testing.assert_allclose(got[4], np.linalg.solve(a, b), rtol=1e-10)
    e, v = np.linalg.eigh(a + _h(a))
    assert got[5].shape == (2, 3, 2)
    np.testing.assert_allclose(got[5][:, 0, :], e)
    np.testing.assert_allclose(got[5][:, 1:, :], v)
    np.testing.assert_allclose(got[6], np.linalg.cholesky(a + _h(a)))


def test_errors_use_tensorflow_wording():
    x = tf.placeholder(tf.float64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Cholesky decomposition was not"):
        _run(tf.cholesky(x), {x: -np.eye(2)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Input matrix is not invertible"):
        _run(tf.matrix_solve(x, np.ones((2, 1))), {x: np.zeros((2, 2))})
    with pytest.raises(ValueError, match="square"):
        tf.cholesky(tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="do not fit"):
        tf.matrix_solve(tf.zeros([3, 3]), tf.zeros([2, 1]))


def _gradients(m, values):
    """Gradients of each op under module `m` (tensorflux or TF 1.x): TF's conventions
    (symmetrized Cholesky, lower-triangle eigen gradients) must give the same numbers. The
    eigenvector loss is sign-invariant: LAPACK builds may pick opposite eigenvector signs."""
    a, rhs, u3, u32, ue, rect, rhs4 = (m.constant(v) for v in values)
    e, v = m.self_adjoint_eig(a)
    return {
        "cholesky": m.gradients(m.reduce_sum(m.cholesky(a) * u3), a),
        "eig": m.gradients(m.reduce_sum(e * ue) + m.reduce_sum(m.square(m.matmul(v, u3) * v)),
                           a),
        "solve": m.gradients(m.reduce_sum(m.matrix_solve(a, rhs, adjoint=True) * u32),
                             [a, rhs]),
        "triangular": m.gradients(m.reduce_sum(
            m.matrix_triangular_solve(a, rhs, lower=False) * u32), [a, rhs]),
        "solve_ls": m.gradients(m.reduce_sum(m.matrix_solve_ls(rect, rhs4, 0.1) * u32),
                                [rect, rhs4]),
    }


@pytest.mark.tensorflow
def test_gradients_match_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    rng = np.random.default_rng(0)
    b = rng.standard_normal((3, 3))
    values = [b @ b.T + 3 * np.eye(3)] + [rng.standard_normal(s) for s in
                                          ((3, 2), (3, 3), (3, 2), (3,), (4, 3), (4, 2))]
    graph = tf1.Graph()
    with graph.as_default(), tf1.Session(graph=graph) as sess:
        want = sess.run(_gradients(tf1, values))
    got = _run(_gradients(tf, values))
    for name in want:
        for w, g in zip(want[name], got[name]):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=name)
