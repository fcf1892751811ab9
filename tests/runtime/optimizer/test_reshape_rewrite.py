"""reshape.py: a Reshape to its input's own (fully known) shape is read as its input; its
switch is arithmetic_optimization."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both

pytestmark = pytest.mark.timeout(60)


def test_reshapes_to_the_same_shape_go():
    x = tf.placeholder(tf.float32, [4, 3])
    same = tf.reshape(tf.exp(x), [4, 3])
    other = tf.reshape(tf.exp(x), [3, 4])  # a real reshape stays
    y = tf.matmul(same, other)
    feed = {x: np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)}
    plain, optimized, on = run_both(y, feed)
    assert_same(plain, optimized)
    assert on["reshape"] == 1
    _, off_values, off = run_both(y, feed, cfg=config(arithmetic_optimization=OFF))
    assert_same(plain, off_values)
    assert off.get("reshape", 0) == 0 and off["nodes"] == on["nodes"] + 1


def test_unknown_or_fetched_reshapes_stay():
    x = tf.placeholder(tf.float32, [None, 3])
    unknown = tf.reshape(x * 2.0, [-1, 3])
    known = tf.placeholder(tf.float32, [2, 3])
    fetched = tf.reshape(known * 2.0, [2, 3])
    feed = {x: np.ones((2, 3), np.float32), known: np.ones((2, 3), np.float32)}
    plain, optimized, on = run_both([unknown * 1.5, fetched], feed)
    assert_same(plain, optimized)
    assert on["reshape"] == 0


def test_reads_of_a_variable_through_a_removed_reshape_see_its_value_then():
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    read = tf.reshape(v.read_value() * 1.0, [2, 3])
    with tf.control_dependencies([read]):
        bump = tf.assign_add(v, tf.ones([2, 3]))
    with tf.control_dependencies([bump]):
        total = tf.identity(read) + 0.0
    plain, optimized, _ = run_both(total, init=v.initializer)
    assert_same(plain, optimized)
    np.testing.assert_array_equal(optimized[0], np.arange(6).reshape(2, 3))
