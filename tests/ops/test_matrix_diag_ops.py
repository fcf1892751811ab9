"""Harness entries for MatrixDiag, MatrixDiagPart, MatrixSetDiag, MatrixBandPart (references:
NumPy) and their TF 0.9 `batch_matrix_*` names."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run

ALL = [tf.float32, tf.float64, tf.float16, tf.bfloat16, tf.complex64, tf.int32]


def _np_diag(d):
    out = np.zeros(d.shape + d.shape[-1:], d.dtype)
    idx = np.arange(d.shape[-1])
    out[..., idx, idx] = d
    return out


def _np_set_diag(x, d):
    out = x.copy()
    idx = np.arange(d.shape[-1])
    out[..., idx, idx] = d
    return out


def _np_band(x, lower, upper):
    m, n = x.shape[-2:]
    offset = np.arange(n)[None, :] - np.arange(m)[:, None]
    keep = ((lower < 0) | (-offset <= lower)) & ((upper < 0) | (offset <= upper))
    return np.where(keep, x, 0).astype(x.dtype)


def _band_spec(lower, upper, shapes, name):
    return OpSpec("MatrixBandPart", lambda x: tf.matrix_band_part(x, lower, upper),
                  lambda x: _np_band(x, lower, upper), shapes, dtypes=ALL, name=name)


SPECS = [
    OpSpec("MatrixDiag", tf.matrix_diag, _np_diag, [((3,),), ((2, 4),)], dtypes=ALL),
    OpSpec("MatrixDiagPart", tf.matrix_diag_part,
           lambda x: np.diagonal(x, axis1=-2, axis2=-1), [((3, 3),), ((2, 3, 4),), ((4, 2),)],
           dtypes=ALL),
    OpSpec("MatrixSetDiag", tf.matrix_set_diag, _np_set_diag,
           [((3, 3), (3,)), ((2, 3, 4), (2, 3)), ((4, 2), (2,))], dtypes=ALL),
    _band_spec(1, 0, [((4, 4),), ((2, 3, 5),)], "MatrixBandPart_1_0"),
    _band_spec(-1, 0, [((3, 3),)], "MatrixBandPart_lower"),
    _band_spec(0, -1, [((2, 3, 3),)], "MatrixBandPart_upper"),
    _band_spec(2, 1, [((5, 4),)], "MatrixBandPart_2_1"),
    OpSpec("Diag", tf.diag, lambda d: np.diag(d.reshape(-1)).reshape(d.shape + d.shape),
           [((3,),), ((2, 2),)], dtypes=ALL),
    OpSpec("DiagPart", tf.diag_part,
           lambda x: np.diagonal(x.reshape(x.shape[0] * (x.shape[1] if x.ndim == 4 else 1),
                                           -1)).reshape(x.shape[:x.ndim // 2]),
           [((3, 3),), ((2, 3, 2, 3),)], dtypes=ALL),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_tf_0_9_names_and_int64_band_limits():
    assert tf.batch_matrix_diag is tf.matrix_diag
    assert tf.batch_matrix_band_part is tf.matrix_band_part
    x = np.arange(9, dtype=np.float32).reshape(3, 3)
    band = tf.batch_matrix_band_part(x, tf.constant(0, tf.int64), tf.constant(0, tf.int64))
    np.testing.assert_array_equal(_run(band), np.diag(np.diag(x)))
    np.testing.assert_array_equal(_run(tf.batch_matrix_diag_part(x)), [0, 4, 8])


def test_trace_and_matrix_transpose():
    x = np.arange(18, dtype=np.float64).reshape(2, 3, 3)
    got = _run([tf.trace(x), tf.matrix_transpose(x), tf.trace(x[0])])
    np.testing.assert_array_equal(got[0], np.trace(x, axis1=1, axis2=2))
    np.testing.assert_array_equal(got[1], np.swapaxes(x, 1, 2))
    assert got[2] == np.trace(x[0])
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.matrix_transpose([1.0, 2.0])
    with pytest.raises(ValueError, match="even rank"):
        tf.diag_part(tf.zeros([2, 3]))


def test_shape_and_run_time_errors():
    with pytest.raises(ValueError, match="diagonal must have shape"):
        tf.matrix_set_diag(tf.zeros([3, 3]), tf.zeros([2]))
    x = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_lower must be negative"):
        _run(tf.matrix_band_part(x, 5, 0), {x: np.zeros((2, 2), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least a matrix"):
        _run(tf.matrix_diag_part(x), {x: np.zeros((2,), np.float32)})
