"""tf.test.compute_gradient with complex x or y: TensorFlow counts a complex as two reals
(golden Jacobians from TensorFlow 2.21's tf.compat.v1.test.compute_gradient)."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)
X0 = np.array([0.3 + 0.4j, -0.5 + 0.2j])


def _jacobians(build, x0, x_dtype=tf.complex128):
    with tf.Graph().as_default():
        x = tf.constant(x0, x_dtype)
        y = build(x)
        with tf.Session():
            return tf.test.compute_gradient(x, [2], y, y.get_shape().as_list(),
                                            x_init_value=x0, delta=1e-6)


def test_square_of_a_complex_tensor():
    theoretical, numerical = _jacobians(lambda x: x * x, X0)
    want = [[0.6, 0.8, 0, 0], [-0.8, 0.6, 0, 0], [0, 0, -1.0, 0.4], [0, 0, -0.4, -1.0]]
    assert theoretical.dtype == np.float64 and theoretical.shape == (4, 4)
    np.testing.assert_allclose(theoretical, want, atol=1e-12)
    np.testing.assert_allclose(numerical, want, atol=1e-8)


def test_complex_x_real_y_and_real_x_complex_y():
    theoretical, numerical = _jacobians(tf.abs, X0)
    want = [[0.6, 0], [0.8, 0], [0, -0.92847669], [0, 0.37139068]]
    np.testing.assert_allclose(theoretical, want, atol=1e-8)
    np.testing.assert_allclose(numerical, want, atol=1e-8)
    theoretical, numerical = _jacobians(lambda r: tf.complex(r * r, r), np.array([0.5, 1.5]),
                                        tf.float64)
    np.testing.assert_allclose(theoretical, [[1, 1, 0, 0], [0, 0, 3, 1]], atol=1e-12)
    np.testing.assert_allclose(numerical, theoretical, atol=1e-8)


def test_gradient_error_of_a_non_holomorphic_map_is_small():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.complex128, [3])
        y = tf.complex(2.0 * tf.real(x), 3.0 * tf.imag(x)) * tf.conj(x)
        with tf.Session():
            err = tf.test.compute_gradient_error(x, [3], y, [3], delta=1e-6)
            theoretical, _ = tf.test.compute_gradient(x, [3], y, [3])
    assert err < 1e-8
    assert theoretical.shape == (6, 6) and theoretical.dtype == np.float64


def test_complex_pipeline_end_to_end():
    """Real input -> complex -> matmul, fft, elementwise math -> real loss: the symbolic
    gradients of every op on the way agree with central differences."""
    rng = np.random.default_rng(0)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2, 3])
        w = tf.constant(rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4)))
        z = tf.matmul(tf.complex(x, tf.square(x)), w)
        z = tf.fft(tf.exp(0.3 * z) / (z + 2.0) - tf.conj(z) * tf.sin(z))
        mixed = tf.reduce_sum(z[:, :2] * tf.transpose(tf.ifft2d(z)[:, :2]), 0)
        y = tf.abs(mixed) + tf.angle(z[0, :2])
        with tf.Session():
            err = tf.test.compute_gradient_error(x, [2, 3], y, [2], delta=1e-6,
                                                 x_init_value=rng.uniform(-0.5, 0.5, (2, 3)))
    assert err < 1e-6
