"""Tests for tensorflux/ops/clip_ops.py (composites of math ops; compared with NumPy)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import run_in_session as _run
from tensorflux.framework.ops import IndexedSlicesValue

X = np.array([[3.0, -4.0], [1.0, 0.5]], np.float64)



def _grad(f, x):
    t = tf.constant(x)
    g, = tf.gradients(tf.reduce_sum(f(t) * np.arange(1.0, 1 + x.size).reshape(x.shape)), [t])
    return _run(g)


def _numeric_grad(f, x, eps=1e-6):
    w = np.arange(1.0, 1 + x.size).reshape(x.shape)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        grad[i] = (np.sum(f(x + d) * w) - np.sum(f(x - d) * w)) / (2 * eps)
    return grad


def test_clip_by_value():
    got = _run(tf.clip_by_value(X, -1.0, 2.0, name="clip"))
    np.testing.assert_array_equal(got, np.clip(X, -1, 2))
    lo = tf.placeholder(tf.float64)
    np.testing.assert_array_equal(_run(tf.clip_by_value(X, lo, [2.0, 0.9]), {lo: 0.7}),
                                  np.clip(X, 0.7, [2.0, 0.9]))
    np.testing.assert_array_equal(_grad(lambda t: tf.clip_by_value(t, -1.0, 2.0), X),
                                  ((X > -1) & (X < 2)) * np.arange(1.0, 5).reshape(2, 2))


def np_clip_by_norm(x, c, axes=None):
    norm = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    return x * c / np.maximum(norm, c)


def test_clip_by_norm_all_and_axes():
    np.testing.assert_allclose(_run(tf.clip_by_norm(X, 2.0)), np_clip_by_norm(X, 2.0))
    np.testing.assert_allclose(_run(tf.clip_by_norm(X, 2.0, axes=[1])),
                               np_clip_by_norm(X, 2.0, 1))
    np.testing.assert_allclose(_run(tf.clip_by_norm(X, 100.0)), X)  # under the limit: unchanged
    np.testing.assert_allclose(_grad(lambda t: tf.clip_by_norm(t, 2.0), X),
                               _numeric_grad(lambda x: np_clip_by_norm(x, 2.0), X), rtol=1e-6)


def test_global_norm_skips_none_and_reads_indexed_slices():
    a = np.array([3.0, 4.0], np.float32)
    b = np.array([[12.0]], np.float32)
    slices = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([0]), tf.constant([4, 2]))
    norm = tf.global_norm([a, None, b, slices])
    assert norm.dtype == tf.float32
    np.testing.assert_allclose(_run(norm), np.sqrt(9 + 16 + 144 + 1 + 4), rtol=1e-6)
    with pytest.raises(TypeError, match="sequence"):
        tf.global_norm(tf.constant(a))
    with pytest.raises(ValueError, match="None"):
        tf.global_norm([None])


def test_clip_by_global_norm():
    a = np.array([3.0, 4.0])
    b = np.array([[12.0]])
    slices = tf.IndexedSlices(tf.constant([[0.0, 0.0]], tf.float64), tf.constant([1]),
                              tf.constant([3, 2]))
    clipped, norm = tf.clip_by_global_norm([a, None, b, slices], 6.5)
    assert clipped[1] is None and isinstance(clipped[3], tf.IndexedSlices)
    ca, cb, cs, n = _run([clipped[0], clipped[2], clipped[3], norm])
    assert n == pytest.approx(13.0)
    np.testing.assert_allclose(ca, a / 2)
    np.testing.assert_allclose(cb, b / 2)
    assert isinstance(cs, IndexedSlicesValue)
    np.testing.assert_array_equal(cs.indices, [1])
    unclipped, _ = tf.clip_by_global_norm([a], 100.0)
    np.testing.assert_allclose(_run(unclipped[0]), a)
    given, n2 = tf.clip_by_global_norm([a], 1.0, use_norm=tf.constant(10.0, tf.float64))
    np.testing.assert_allclose(_run([given[0], n2])[0], a / 10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_clip_by_global_norm_inf_gives_nan():
    clipped, norm = tf.clip_by_global_norm([np.array([np.inf, 1.0])], 1.0)
    c, n = _run([clipped[0], norm])
    assert np.isinf(n) and np.all(np.isnan(c))


def test_clip_by_average_norm():
    def np_avg(x, c):
        avg = np.sqrt(np.sum(x * x)) / x.size
        return x * c / max(avg, c)
    np.testing.assert_allclose(_run(tf.clip_by_average_norm(X, 0.5)), np_avg(X, 0.5))
    np.testing.assert_allclose(_run(tf.clip_by_average_norm(X, 10.0)), X)
    np.testing.assert_allclose(_grad(lambda t: tf.clip_by_average_norm(t, 0.5), X),
                               _numeric_grad(lambda x: np_avg(x, 0.5), X), rtol=1e-6)


def test_clip_keeps_names_and_dtypes():
    x = tf.constant(X.astype(np.float32))
    for t in (tf.clip_by_value(x, 0, 1, name="cv"), tf.clip_by_norm(x, 1, name="cn"),
              tf.clip_by_average_norm(x, 1, name="ca")):
        assert t.dtype == tf.float32
        assert t.op.name in ("cv", "cn", "ca")
        assert t.get_shape().as_list() == [2, 2]
