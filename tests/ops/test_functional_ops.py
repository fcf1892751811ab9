"""map_fn, scan, foldl, foldr against NumPy, with nested elems and gradients."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops.functional_ops import foldl, foldr, map_fn, scan

pytestmark = pytest.mark.timeout(60)

SPECS = []  # no ops of their own: they are while loops over TensorArrays


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _grad_check(build, value):
    x = tf.placeholder(tf.float64, value.shape)
    y = build(x)
    grad = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        symbolic = sess.run(grad, {x: value})
        numeric, eps = np.zeros_like(value), 1e-6
        for k in range(value.size):
            d = np.zeros_like(value)
            d.flat[k] = eps
            numeric.flat[k] = (np.sum(sess.run(y, {x: value + d})) -
                               np.sum(sess.run(y, {x: value - d}))) / (2 * eps)
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-5, atol=1e-7)


VALUES = np.random.default_rng(0).uniform(0.5, 1.5, (5, 3))


def test_map_fn_matches_numpy_and_keeps_static_shape():
    x = tf.constant(VALUES)
    out = map_fn(lambda row: row * row + 1.0, x)
    assert out.get_shape().as_list() == [5, 3]
    np.testing.assert_allclose(_run(out), VALUES ** 2 + 1.0)


def test_map_fn_nested_elems_and_dtype():
    a, b = tf.constant(VALUES), tf.constant(np.arange(5, dtype=np.int32))
    out = map_fn(lambda pair: (tf.reduce_sum(pair[0]), pair[1] * 2), (a, b),
                 dtype=(tf.float64, tf.int32))
    got = _run(out)
    np.testing.assert_allclose(got[0], VALUES.sum(1))
    np.testing.assert_array_equal(got[1], np.arange(5) * 2)


def test_map_fn_with_unknown_length_and_parallel_iterations():
    x = tf.placeholder(tf.float32, [None])
    one = map_fn(lambda v: v * 3.0, x, parallel_iterations=1)
    many = map_fn(lambda v: v * 3.0, x, parallel_iterations=16)
    feed = {x: np.arange(40, dtype=np.float32)}
    got = _run([one, many], feed)
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_array_equal(got[0], np.arange(40) * 3.0)


def test_scan_matches_numpy():
    x = tf.constant(VALUES)
    np.testing.assert_allclose(_run(scan(lambda a, v: a + v, x)), np.cumsum(VALUES, 0))
    init = tf.constant(np.ones(3))
    np.testing.assert_allclose(_run(scan(lambda a, v: a * v, x, initializer=init)),
                               np.cumprod(VALUES, 0))
    np.testing.assert_allclose(_run(scan(lambda a, v: a + v, x, reverse=True)),
                               np.cumsum(VALUES[::-1], 0)[::-1])


def test_foldl_and_foldr_match_numpy():
    x = tf.constant(VALUES[:, 0])
    left = foldl(lambda a, v: a * 0.5 + v, x)
    right = foldr(lambda a, v: a * 0.5 + v, x, initializer=tf.constant(0.0, tf.float64))
    want_left = VALUES[0, 0]
    for v in VALUES[1:, 0]:
        want_left = want_left * 0.5 + v
    want_right = 0.0
    for v in VALUES[::-1, 0]:
        want_right = want_right * 0.5 + v
    got = _run([left, right])
    assert got[0] == pytest.approx(want_left) and got[1] == pytest.approx(want_right)


def test_fold_with_nested_accumulator():
    x = tf.constant(VALUES[:, 0])
    total, count = foldl(lambda acc, v: (acc[0] + v, acc[1] + 1), x,
                         initializer=(tf.constant(0.0, tf.float64), tf.constant(0)))
    got = _run([total, count])
    assert got[0] == pytest.approx(VALUES[:, 0].sum()) and got[1] == 5


def test_gradients_of_map_scan_and_folds():
    _grad_check(lambda x: map_fn(lambda r: tf.sin(r) * r, x), VALUES)
    _grad_check(lambda x: scan(lambda a, v: a * v + tf.sin(a), x), VALUES)
    _grad_check(lambda x: foldl(lambda a, v: a * v + 1.0, x), VALUES)
    _grad_check(lambda x: foldr(lambda a, v: a * tf.cos(v), x), VALUES)


def test_errors():
    with pytest.raises(TypeError, match="callable"):
        map_fn(1, tf.constant([1.0]))
    with pytest.raises(ValueError, match="rank 1"):
        map_fn(lambda v: v, tf.constant(1.0))
