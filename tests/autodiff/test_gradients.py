"""tf.gradients' core (autodiff/gradients.py) on small graphs with known derivatives: fan-out
sums, ops waiting for every consumer's gradient, stop_gradients and grad_ys."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)

X = np.array([0.5, -1.0, 2.0], np.float32)


def _run(tensors, feed):
    with tf.Session() as sess:
        return sess.run(tensors, feed)


def test_gradients_of_a_tensor_used_by_several_ops_are_summed():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(tf.square(x) + tf.sin(x) + 3.0 * x)
    (g,) = tf.gradients(y, [x])
    np.testing.assert_allclose(_run(g, {x: X}), 2 * X + np.cos(X) + 3.0, rtol=1e-6)


def test_an_op_is_differentiated_after_all_its_consumers():
    # h feeds three inputs (h * h and tanh(h)); the gradient of h = 3x must wait for all.
    x = tf.placeholder(tf.float32, [3])
    h = 3.0 * x
    y = tf.reduce_sum(h * h + tf.tanh(h))
    (g,) = tf.gradients(y, [x])
    h_val = 3.0 * X
    want = 3.0 * (2 * h_val + (1 - np.tanh(h_val) ** 2))
    np.testing.assert_allclose(_run(g, {x: X}), want, rtol=1e-5)


def test_stop_gradients_treats_the_listed_tensors_as_constants():
    # The example of tf.gradients' documentation.
    a = tf.constant(0.0)
    b = 2 * a
    held = tf.gradients(a + b, [a, b], stop_gradients=[a, b])
    free = tf.gradients(a + b, [a, b])
    assert _run(held, {}) == [1.0, 1.0]
    assert _run(free, {}) == [3.0, 1.0]


def test_grad_ys_are_converted_to_the_dtype_of_ys():
    x = tf.placeholder(tf.float32, [3])
    y = 2.0 * x
    (g,) = tf.gradients(y, [x], grad_ys=np.array([1.0, 2.0, 3.0]))  # float64 NumPy values
    assert g.dtype == tf.float32
    np.testing.assert_array_equal(_run(g, {x: X}), [2.0, 4.0, 6.0])


def test_second_derivative_through_a_placeholder_of_unknown_shape():
    # the gradient graph divides shape products at run time; an empty one must not raise
    v = tf.placeholder(tf.float32)
    g = tf.gradients(v * v * v, v)[0]
    gg = tf.gradients(g, v)[0]
    with tf.Session() as sess:
        got = sess.run([g, gg], {v: [1.0, 2.0]})
        assert sess.run(gg, {v: np.zeros([0], np.float32)}).shape == (0,)
    np.testing.assert_allclose(got[0], [3.0, 12.0])
    np.testing.assert_allclose(got[1], [6.0, 12.0])
