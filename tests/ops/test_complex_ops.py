"""Harness entries for Conj, Complex, Real, Imag, Angle, and TensorFlow's convention for
complex gradients (golden values from TensorFlow 2.21's GradientTape, which keeps TF 1.x's
convention; the `tensorflow`-marked test recomputes them when TensorFlow is installed)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, away_from_zero, run_spec, run_in_session as _run

CX = [tf.complex64, tf.complex128]
UN = [((3, 4),), ((),)]


def _parts(x):
    """A complex tensor from a real one (the harness also differentiates in float64)."""
    return x if x.dtype.is_complex else tf.complex(x, 0.5 * x)


def _np_parts(x):
    return x if np.iscomplexobj(x) else x + 0.5j * x


SPECS = [
    OpSpec("Conj", tf.conj, np.conj, UN, dtypes=CX),
    OpSpec("Complex", tf.complex, lambda a, b: a + 1j * b,
           [((3, 4), (3, 4)), ((3,), (2, 3)), ((), ())], dtypes=[tf.float32, tf.float64]),
    OpSpec("Real", lambda x: tf.real(_parts(x)), lambda x: np.real(_np_parts(x)), UN,
           dtypes=CX),
    OpSpec("Imag", lambda x: tf.imag(_parts(x)), lambda x: np.imag(_np_parts(x)), UN,
           dtypes=CX),
    OpSpec("Angle", lambda x: tf.angle(_parts(x)), lambda x: np.angle(_np_parts(x)), UN,
           dtypes=CX, inputs=away_from_zero),
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


def test_output_types_follow_the_parts():
    assert tf.complex(1.0, 2.0).dtype == tf.complex64
    z = tf.complex(tf.constant(1.0, tf.float64), 2.0)
    assert z.dtype == tf.complex128
    assert tf.real(z).dtype == tf.float64 and tf.imag(z).dtype == tf.float64
    assert tf.angle(tf.constant(1j, tf.complex64)).dtype == tf.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        tf.complex(1, 2)


def test_real_imag_angle_of_real_tensors():
    x = tf.constant([-2.0, 3.0])
    assert tf.real(x) is x
    np.testing.assert_array_equal(_run(tf.imag(x)), [0.0, 0.0])
    np.testing.assert_allclose(_run(tf.angle(x)), [np.pi, 0.0], rtol=1e-6)


def test_complex_broadcasts_and_its_gradient_sums_back():
    re = tf.constant([1.0, 2.0], tf.float64)
    im = tf.constant(3.0, tf.float64)
    z = tf.complex(re, im)
    loss = tf.reduce_sum(tf.real(z * tf.constant([1 + 2j, 3 - 1j], tf.complex128)))
    g_re, g_im = _run(tf.gradients(loss, [re, im]))
    np.testing.assert_allclose(_run(z), [1 + 3j, 2 + 3j])
    np.testing.assert_allclose(g_re, [1.0, 3.0])  # TensorFlow: [1. 3.], -1.0
    np.testing.assert_allclose(g_im, -1.0)


Z = np.array([0.3 + 0.4j, -0.5 + 0.2j])
# d sum(Re f(z)) / dz in TensorFlow's convention, from TensorFlow 2.21 (GradientTape).
GOLDEN = {
    "asin": [0.94914024 - 0.10513947j, 1.09924729 + 0.1369844j],
    "acos": [-0.94914024 + 0.10513947j, -1.09924729 - 0.1369844j],
    "atan": [1.00813008 + 0.2601626j, 0.80446779 - 0.13296988j],
    "tan": [0.89953962 - 0.21441118j, 1.20516756 + 0.26295559j],
    "angle": [-1.6 + 1.2j, -0.68965517 - 1.72413793j],
    "real": [1, 1], "imag": [1j, 1j],
    "abs": [0.6 + 0.8j, -0.92847669 + 0.37139068j],
}


def _golden_gradients(module, names):
    z = module.constant(Z, module.complex128)
    out = {}
    for name in names:
        y = getattr(module, name)(z)
        loss = module.reduce_sum(module.real(y) if y.dtype.is_complex else y)
        out[name] = module.gradients(loss, z)[0]
    return out


def test_complex_gradients_match_tensorflow_golden_values():
    grads = _golden_gradients(tf, GOLDEN)
    got = _run(grads)
    for name, want in GOLDEN.items():
        np.testing.assert_allclose(got[name], want, rtol=1e-7, err_msg=name)


@pytest.mark.tensorflow
def test_complex_gradients_match_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    graph = tf1.Graph()
    with graph.as_default():
        grads = _tf1_gradients(tf1)
        with tf1.Session(graph=graph) as sess:
            want = sess.run(grads)
    got = _run(_golden_gradients(tf, GOLDEN))
    for name in GOLDEN:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, err_msg=name)


def _tf1_gradients(tf1):
    z = tf1.constant(Z, tf1.complex128)
    fns = {"asin": tf1.asin, "acos": tf1.acos, "atan": tf1.atan, "tan": tf1.tan,
           "angle": tf1.angle, "real": tf1.real, "imag": tf1.imag, "abs": tf1.abs}
    out = {}
    for name, fn in fns.items():
        y = fn(z)
        loss = tf1.reduce_sum(tf1.real(y) if y.dtype.is_complex else y)
        out[name] = tf1.gradients(loss, z)[0]
    return out
