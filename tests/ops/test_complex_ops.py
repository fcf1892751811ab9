"""Harness entry for Conj, and TensorFlow's convention for complex gradients."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run

SPECS = [
    OpSpec("Conj", tf.conj, np.conj, [((3, 4),), ((),)], dtypes=[tf.complex64, tf.complex128]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_conj_of_a_real_tensor_is_the_tensor():
    x = tf.constant([1.0, 2.0])
    assert tf.conj(x) is x


def test_gradient_is_conjugated_derivative_as_in_tensorflow():
    """TF's documented example (tensorflow#3348): d(x*x)/dx at 0.1j is -0.2j, d exp(x) at 0.1j
    is conj(exp(0.1j)): the gradient of the real part, dL/dRe + i dL/dIm."""
    x = tf.placeholder(tf.complex128, [])
    g_square, g_exp = tf.gradients(x * x, x)[0], tf.gradients(tf.exp(x), x)[0]
    got = _run([g_square, g_exp], {x: 0.1j})
    np.testing.assert_allclose(got[0], -0.2j)
    np.testing.assert_allclose(got[1], np.conj(np.exp(0.1j)))


def test_complex_matmul_gradient_is_conjugated():
    """d Re<u, a b> / da = u b^H (TF's MatMul gradient conjugates its operands)."""
    rng = np.random.default_rng(0)
    a_val, b_val, u_val = (rng.standard_normal(s) + 1j * rng.standard_normal(s)
                           for s in ((2, 3), (3, 4), (2, 4)))
    a, b = tf.constant(a_val), tf.constant(b_val)
    ga, gb = tf.gradients(tf.matmul(a, b), [a, b], tf.constant(u_val))
    got = _run([ga, gb])
    np.testing.assert_allclose(got[0], u_val @ b_val.conj().T)
    np.testing.assert_allclose(got[1], a_val.conj().T @ u_val)
