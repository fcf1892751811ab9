"""Initializers: values, statistics, dtypes, TF 0.9 and 1.x calling conventions."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import init_ops


def _eval(t):
    with tf.Session() as sess:
        return sess.run(t)


def test_zeros_and_ones_both_generations():
    np.testing.assert_array_equal(_eval(tf.zeros_initializer()([2, 3])), np.zeros((2, 3)))
    np.testing.assert_array_equal(_eval(tf.zeros_initializer([2], tf.int32)), [0, 0])  # 0.9
    ones = tf.ones_initializer(tf.float64)  # 1.x: dtype positional
    got = _eval(ones([2]))
    assert got.dtype == np.float64 and list(got) == [1.0, 1.0]
    assert _eval(tf.ones_initializer()([2], dtype=tf.int64)).dtype == np.int64
    assert _eval(tf.zeros_initializer(shape=[1, 1])).shape == (1, 1)


def test_constant_initializer():
    np.testing.assert_array_equal(_eval(tf.constant_initializer(3.0)([2, 2])), np.full((2, 2), 3))
    np.testing.assert_array_equal(_eval(tf.constant_initializer([1, 2, 3, 4])([2, 2])),
                                  [[1, 2], [3, 4]])
    assert _eval(tf.constant_initializer(2, dtype=tf.int32)([3])).dtype == np.int32


def test_random_initializers_statistics_and_seeds():
    shape = [200, 100]
    u = _eval(tf.random_uniform_initializer(-2.0, 3.0, seed=1)(shape))
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.1
    n = _eval(tf.random_normal_initializer(1.0, 0.5, seed=2)(shape))
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    t = _eval(tf.truncated_normal_initializer(0.0, 2.0, seed=3)(shape))
    assert np.abs(t).max() <= 4.0 and abs(t.mean()) < 0.05
    again = _eval(tf.random_normal_initializer(1.0, 0.5, seed=2)(shape))
    np.testing.assert_array_equal(n, again)
    assert _eval(tf.random_normal_initializer(dtype=tf.float64)([2])).dtype == np.float64
    with pytest.raises(ValueError, match="floating"):
        tf.random_normal_initializer(dtype=tf.int32)


def test_scaling_initializers():
    x = _eval(tf.uniform_unit_scaling_initializer(factor=2.0, seed=4)([50, 40]))
    limit = np.sqrt(3.0 / 50) * 2.0
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.9 * limit
    g = _eval(tf.glorot_uniform_initializer(seed=5)([30, 70]))
    limit = np.sqrt(6.0 / 100)
    assert np.abs(g).max() <= limit and np.abs(g).max() > 0.9 * limit
    gn = _eval(tf.glorot_normal_initializer(seed=6)([300, 100]))
    assert abs(gn.std() - np.sqrt(2.0 / 400)) < 0.15 * np.sqrt(2.0 / 400)
    conv = _eval(tf.variance_scaling_initializer(2.0, "fan_in", "uniform", seed=7)([3, 3, 4, 8]))
    assert np.abs(conv).max() <= np.sqrt(3 * 2.0 / 36)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")


def test_xavier_is_not_exported_but_works():
    assert "xavier_initializer" not in init_ops.__all__
    x = _eval(init_ops.xavier_initializer(seed=1)([20, 30]))
    assert np.abs(x).max() <= np.sqrt(6.0 / 50)
    xn = _eval(init_ops.xavier_initializer(uniform=False, seed=1)([200, 300]))
    assert abs(xn.std() - np.sqrt(1.3 * 2 / 500) * 0.88) < 0.1 * np.sqrt(2.6 / 500)


def test_orthogonal():
    q = _eval(tf.orthogonal_initializer(seed=1)([6, 4]))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="two-dimensional"):
        tf.orthogonal_initializer()([3])


def test_initializer_needs_full_shape():
    with pytest.raises(ValueError, match="fully defined"):
        tf.zeros_initializer()([None, 2])


def test_initializers_in_variables_and_partition_info_arg():
    init = tf.truncated_normal_initializer(stddev=0.1, seed=1)
    v = tf.Variable(init([3, 2], partition_info=None))
    w = tf.get_variable("w", [4], initializer=tf.random_uniform_initializer(seed=2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v).shape == (3, 2)
        assert np.all((sess.run(w) >= 0) & (sess.run(w) < 1))
