"""Harness entries for FFT, IFFT, FFT2D, IFFT2D, FFT3D, IFFT3D (references: numpy.fft) and
their gradients against TensorFlow's numbers."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run

CX = [tf.complex64, tf.complex128]
TOL = {tf.complex64: 1e-4}


def _as_complex(x):
    """The harness differentiates in float64 and complex128: real inputs become complex."""
    return x if x.dtype.is_complex else tf.complex(x, 0.25 * x)


def _np_complex(x):
    return x if np.iscomplexobj(x) else x + 0.25j * x


def _spec(op, fn, np_fn, rank, shapes):
    axes = tuple(range(-rank, 0))
    return OpSpec(op, lambda x: fn(_as_complex(x)), lambda x: np_fn(_np_complex(x), axes=axes),
                  shapes, dtypes=CX, tol=TOL)


SPECS = [
    _spec("FFT", tf.fft, np.fft.fftn, 1, [((8,),), ((3, 5),)]),
    _spec("IFFT", tf.ifft, np.fft.ifftn, 1, [((8,),), ((3, 5),)]),
    _spec("FFT2D", tf.fft2d, np.fft.fftn, 2, [((4, 3),), ((2, 3, 4),)]),
    _spec("IFFT2D", tf.ifft2d, np.fft.ifftn, 2, [((4, 3),), ((2, 3, 4),)]),
    _spec("FFT3D", tf.fft3d, np.fft.fftn, 3, [((2, 3, 2),), ((2, 2, 3, 2),)]),
    _spec("IFFT3D", tf.ifft3d, np.fft.ifftn, 3, [((2, 3, 2),), ((2, 2, 3, 2),)]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


X = np.array([[0.1 + 0.2j, 0.3 - 0.1j, -0.2 + 0.5j], [0.4, 0.3j, -0.6 - 0.2j]])
U = np.array([[1.0 - 0.5j, 0.2 + 0.1j, -0.3j], [0.5, -1.0 + 0.25j, 0.75]])
# d Re sum(f(x) * u) / dx from TensorFlow 2.21 (tf.signal, the same kernels as tf.fft in 1.0).
GOLDEN = {
    "fft": [[1.2 + 0.7j, 1.24641016 + 0.57320508j, 0.55358984 + 0.22679492j],
            [0.25 - 0.25j, 0.84150635 - 1.39054446j, 0.40849365 + 1.64054446j]],
    "ifft": [[0.4 + 0.23333333j, 0.18452995 + 0.07559831j, 0.41547005 + 0.19106836j],
             [0.08333333 - 0.08333333j, 0.13616455 + 0.54684815j, 0.28050212 - 0.46351482j]],
    "fft2d": [[1.45 + 0.45j, 2.08791651 - 0.81733938j, 0.96208349 + 1.86733938j],
              [0.95 + 0.95j, 0.40490381 + 1.96374954j, 0.14509619 - 1.41374954j]],
    "ifft2d": [[0.24166667 + 0.075j, 0.16034725 + 0.31122323j, 0.34798609 - 0.13622323j],
               [0.15833333 + 0.15833333j, 0.0241827 - 0.23562492j,
                0.06748397 + 0.32729159j]],
}


def test_gradients_match_tensorflow_golden_values():
    x = tf.constant(X)
    grads = {name: tf.gradients(tf.real(tf.reduce_sum(getattr(tf, name)(x) * U)), x)[0]
             for name in GOLDEN}
    got = _run(grads)
    for name, want in GOLDEN.items():
        np.testing.assert_allclose(got[name], want, rtol=1e-7, err_msg=name)


def test_unknown_inner_size_scales_the_gradient_at_run_time():
    x = tf.placeholder(tf.complex128, [2, None])
    (g,) = tf.gradients(tf.real(tf.reduce_sum(tf.fft(x) * U)), x)
    np.testing.assert_allclose(_run(g, {x: X}), GOLDEN["fft"], rtol=1e-7)


def test_batch_names_of_tf_0_9_and_rank_checks():
    assert tf.batch_fft is tf.fft and tf.batch_ifft3d is tf.ifft3d
    with pytest.raises(ValueError, match="at least 2"):
        tf.fft2d(tf.zeros([3], tf.complex64))
    x = tf.placeholder(tf.complex64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank of at least 3"):
        _run(tf.fft3d(x), {x: np.zeros((2, 2), np.complex64)})
    assert tf.fft(tf.zeros([4], tf.complex64)).dtype == tf.complex64
