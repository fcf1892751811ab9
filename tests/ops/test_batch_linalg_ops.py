"""Harness entries for TF 0.9's Batch* op types (the TF 1.0 ops under their old names) and the
packed SelfAdjointEig / BatchSelfAdjointEig."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run
from tensorflux.framework.op_def_library import apply_op
from test_linalg_ops import well_conditioned as plus_three
from test_linalg_solve_ops import TOL, TYPES, _general, _h, _np_ls, _np_spd, _spd
from test_linalg_solve_ops import well_conditioned
from test_matrix_diag_ops import ALL, _np_band, _np_diag, _np_set_diag


def _op(op_type, **attrs):
    return lambda *xs: apply_op(op_type, *xs, **attrs)


def _as_complex(x):
    return x if x.dtype.is_complex else tf.complex(x, 0.5 * x)


def _fft_spec(op_type, np_fn, rank):
    axes = tuple(range(-rank, 0))
    # TF declares the Batch* FFTs complex64 only, so no float64 gradient check here: they run
    # FFT's gradient function, which the FFT specs check (tests/ops/test_spectral_ops.py).
    return OpSpec(op_type, lambda x: apply_op(op_type, _as_complex(x)),
                  lambda x: np_fn(x if np.iscomplexobj(x) else x + 0.5j * x, axes=axes),
                  [((2,) * (rank + 1),)], dtypes=[tf.complex64],
                  tol={tf.complex64: 1e-4}, grad=())


def _packed(x):
    e, v = np.linalg.eigh(_np_spd(x))
    return np.concatenate([e[..., None, :], v], axis=-2).astype(x.dtype)


SQ = [((3, 3),), ((2, 2, 2),)]
SPECS = [
    OpSpec("BatchMatrixDeterminant", _op("BatchMatrixDeterminant"), np.linalg.det, SQ,
           inputs=plus_three, tol={tf.float32: 1e-4}),
    OpSpec("BatchMatrixInverse", _op("BatchMatrixInverse"), np.linalg.inv, SQ,
           inputs=plus_three, tol={tf.float32: 1e-4}),
    OpSpec("BatchCholesky", lambda x: apply_op("BatchCholesky", _spd(x)),
           lambda x: np.linalg.cholesky(_np_spd(x)), SQ, dtypes=TYPES, inputs=_general, tol=TOL),
    OpSpec("BatchMatrixSolve", _op("BatchMatrixSolve"), np.linalg.solve,
           [((2, 3, 3), (2, 3, 1))], dtypes=TYPES, inputs=[well_conditioned, _general], tol=TOL),
    OpSpec("BatchMatrixTriangularSolve", _op("BatchMatrixTriangularSolve", adjoint=True),
           lambda a, b: np.linalg.solve(_h(np.tril(a)), b), [((2, 3, 3), (2, 3, 2))],
           dtypes=TYPES, inputs=[well_conditioned, _general], tol=TOL),
    OpSpec("BatchMatrixSolveLs", lambda a, b: apply_op("BatchMatrixSolveLs", a, b,
                                                       tf.constant(0.1, tf.float64)),
           lambda a, b: _np_ls(a, b, 0.1), [((2, 4, 3), (2, 4, 2))], dtypes=TYPES,
           inputs=[well_conditioned, _general], tol=TOL),
    OpSpec("BatchSelfAdjointEigV2",
           lambda x: list(apply_op("BatchSelfAdjointEigV2", _spd(x))),
           lambda x: [a.astype(x.dtype) for a in np.linalg.eigh(_np_spd(x))], SQ,
           dtypes=TYPES, inputs=_general, tol=TOL, complex_grad=False),
    OpSpec("BatchMatrixDiag", _op("BatchMatrixDiag"), _np_diag, [((2, 3),)], dtypes=ALL),
    OpSpec("BatchMatrixDiagPart", _op("BatchMatrixDiagPart"),
           lambda x: np.diagonal(x, axis1=-2, axis2=-1), [((2, 3, 3),)], dtypes=ALL),
    OpSpec("BatchMatrixSetDiag", _op("BatchMatrixSetDiag"), _np_set_diag,
           [((2, 3, 3), (2, 3))], dtypes=ALL),
    OpSpec("BatchMatrixBandPart",
           lambda x: apply_op("BatchMatrixBandPart", x, tf.constant(1, tf.int64),
                              tf.constant(0, tf.int64)),
           lambda x: _np_band(x, 1, 0), [((2, 3, 3),)], dtypes=ALL),
    _fft_spec("BatchFFT", np.fft.fftn, 1), _fft_spec("BatchIFFT", np.fft.ifftn, 1),
    _fft_spec("BatchFFT2D", np.fft.fftn, 2), _fft_spec("BatchIFFT2D", np.fft.ifftn, 2),
    _fft_spec("BatchFFT3D", np.fft.fftn, 3), _fft_spec("BatchIFFT3D", np.fft.ifftn, 3),
    OpSpec("SelfAdjointEig", lambda x: apply_op("SelfAdjointEig", _spd(x)), _packed,
           [((3, 3),)], dtypes=[tf.float32, tf.float64], inputs=_general, tol=TOL),
    OpSpec("BatchSelfAdjointEig", lambda x: apply_op("BatchSelfAdjointEig", _spd(x)), _packed,
           [((2, 3, 3),)], dtypes=[tf.float32, tf.float64], inputs=_general, tol=TOL),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_a_tf_0_9_graph_def_with_batch_ops_imports_and_runs():
    with tf.Graph().as_default() as old:
        x = tf.placeholder(tf.float32, [None, 2, 2], name="x")
        inv = apply_op("BatchMatrixInverse", x, name="inv")
        apply_op("BatchMatrixDeterminant", inv, name="det")
        apply_op("BatchSelfAdjointEig", x, name="eig")
    graph_def = old.as_graph_def()
    with tf.Graph().as_default():
        det, eig = tf.import_graph_def(graph_def, return_elements=["det:0", "eig:0"], name="")
        value = np.array([[[2.0, 1.0], [1.0, 3.0]]], np.float32)
        got = _run([det, eig], {"x:0": value})
    np.testing.assert_allclose(got[0], [0.2], rtol=1e-5)
    np.testing.assert_allclose(got[1][0, 0], np.linalg.eigvalsh(value[0]), rtol=1e-5)
    assert got[1].shape == (1, 3, 2)
