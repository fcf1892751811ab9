"""pad_concat (an AddN of tiling Pads is a concatenation) and sparse_apply (a scatter's constant
scaling runs inside it): what they rewrite, what they leave, values as at L0, and their switches
(arithmetic_optimization and remapping) turn them off."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both

pytestmark = pytest.mark.timeout(60)


def _sliced_gradient(begins_sizes, axis_size=6):
    x = tf.placeholder(tf.float32, [axis_size, 3])
    w = tf.constant(np.arange(1, 4, dtype=np.float32))
    pieces = [tf.slice(x, [b, 0], [s, 3]) * w * float(k + 1)
              for k, (b, s) in enumerate(begins_sizes)]
    loss = tf.add_n([tf.reduce_sum(tf.square(p)) for p in pieces])
    feed = {x: np.linspace(-2, 2, axis_size * 3, dtype=np.float32).reshape(axis_size, 3)}
    return tf.gradients(loss, x)[0], feed


@pytest.mark.parametrize("begins_sizes", [[(0, 2), (2, 4)], [(3, 3), (0, 1), (1, 2)]])
def test_pads_that_tile_become_one_concatenation(begins_sizes):
    grad, feed = _sliced_gradient(begins_sizes)
    plain, optimized, on = run_both(grad, feed)
    assert_same(plain, optimized)
    assert on["pad_concat"] == 1
    _, off_values, off = run_both(grad, feed, cfg=config(arithmetic_optimization=OFF))
    assert_same(plain, off_values)
    assert off.get("pad_concat", 0) == 0 and off["nodes"] == on["nodes"] + len(begins_sizes)


@pytest.mark.parametrize("begins_sizes", [[(0, 4), (2, 4)], [(0, 2), (3, 3)]])
def test_overlapping_or_gapped_pads_stay_a_sum(begins_sizes):
    grad, feed = _sliced_gradient(begins_sizes)
    plain, optimized, on = run_both(grad, feed)
    assert_same(plain, optimized)
    assert on["pad_concat"] == 0


def test_a_fetched_pad_keeps_its_step():
    grad, feed = _sliced_gradient([(0, 2), (2, 4)])
    pad = next(t for t in grad.op.inputs if t.op.type == "Pad")
    plain, optimized, on = run_both([grad, pad], feed)
    assert_same(plain, optimized)
    assert on["pad_concat"] == 0


def _embedding_training(learning_rate):
    table = tf.Variable(np.linspace(-1, 1, 40, dtype=np.float32).reshape(10, 4))
    bias = tf.Variable(np.zeros(10, np.float32))
    ids = tf.placeholder(tf.int32, [6])
    rows = tf.nn.embedding_lookup(table, ids)
    loss = tf.reduce_sum(tf.square(rows - 0.5)) + tf.reduce_sum(
        tf.nn.embedding_lookup(bias, ids) * 3.0)
    train = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
    init = tf.global_variables_initializer()
    return [table, bias], train, {ids: np.array([1, 3, 1, 9, 0, 1], np.int32)}, init


@pytest.mark.parametrize("learning_rate", [1.0, 0.3])
def test_scaled_scatter_updates_match_and_switch_off(learning_rate):
    variables, train, feed, init = _embedding_training(learning_rate)
    results = []
    for cfg, expected in ((config(), 2), (config(remapping=OFF), 0)):
        with tf.Session(config=cfg) as sess:
            sess.run(init)
            for _ in range(3):
                sess.run(train, feed)
            step = max(sess._plans.values(), key=lambda plan: plan.optimizer_stats["nodes"])
            assert step.optimizer_stats.get("sparse_apply", 0) == expected
            results.append(sess.run(variables))
    assert_same(results[0], results[1])
    table = np.linspace(-1, 1, 40, dtype=np.float32).reshape(10, 4)
    assert not np.array_equal(results[0][0], table)  # the updates happened


def test_a_fetched_scaling_keeps_its_step():
    variables, train, feed, init = _embedding_training(0.3)
    mul = next(op for op in tf.get_default_graph().get_operations()
               if op.type == "Mul" and op.name.startswith("GradientDescent"))
    plain, optimized, on = run_both([mul.outputs[0], train], feed, init=init)
    assert_same(plain[0][0], optimized[0][0])
    assert on.get("sparse_apply", 0) == 1  # the other variable's update still folds


def test_unscaled_rows_viewing_the_variable_are_copied_first():
    # rows = a slice of the variable's own buffer: the Mul by 1 copied them before the update
    v = tf.Variable([1.0, 2.0, 3.0])
    rows = tf.slice(tf.identity(v), [0], [2]) * 1.0
    update = tf.scatter_sub(v, [1, 0], rows)
    results = []
    for cfg in (config(), config(remapping=OFF)):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            sess.run(update.op)
            step = max(sess._plans.values(), key=lambda plan: plan.optimizer_stats["nodes"])
            results.append((sess.run(v), step.optimizer_stats.get("sparse_apply", 0)))
    np.testing.assert_array_equal(results[0][0], [-1.0, 1.0, 3.0])
    np.testing.assert_array_equal(results[1][0], [-1.0, 1.0, 3.0])
    assert [r[1] for r in results] == [1, 0]
