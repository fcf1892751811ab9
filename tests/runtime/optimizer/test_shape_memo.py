"""shape_memo.py: shape arithmetic of run-time shapes (a None batch dimension) is computed once
per distinct shape and looked up after; the values are those of the unoptimized plan for every
shape; the switch is constant_folding."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.runtime.optimizer import shape_memo
from opt_util import OFF, assert_same, config, plan_of, run_both

pytestmark = pytest.mark.timeout(60)


def _mlp_like():
    x = tf.placeholder(tf.float32, [None, 5])
    w = tf.constant(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    b = tf.constant(np.float32([0.1, -0.2, 0.3]))
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.square(logits))
    return x, tf.gradients(loss, [x])[0], loss


def _batches(*sizes):
    return [np.linspace(-1, 1, n * 5, dtype=np.float32).reshape(n, 5) for n in sizes]


def test_gradient_shape_arithmetic_is_memoized_with_the_same_values_for_every_shape():
    x, grad, loss = _mlp_like()
    batches = _batches(3, 7, 3, 1, 7)
    with tf.Session(config=config(tf.OptimizerOptions.L0)) as sess:
        plain = [sess.run([grad, loss], {x: b}) for b in batches]
    with tf.Session() as sess:
        optimized = [sess.run([grad, loss], {x: b}) for b in batches]
        stats = plan_of(sess).optimizer_stats
        lookups = [s for s in plan_of(sess).steps if s[0].__name__ == "shape_arithmetic"]
    assert_same(plain, optimized)
    assert stats["shape_memo"] >= 5 and lookups  # Mean's and the bias add's gradients
    _, off_values, off = run_both([grad, loss], {x: batches[0]},
                                  cfg=config(constant_folding=OFF))
    assert_same(plain[0], off_values[0])
    assert off.get("shape_memo", 0) == 0 and off["nodes"] > stats["nodes"]


def test_many_shapes_and_big_values_are_computed_each_time(monkeypatch):
    monkeypatch.setattr(shape_memo, "MAX_SHAPES", 2)
    monkeypatch.setattr(shape_memo, "MAX_BYTES", 8)  # the [n] gradient of Mean: not kept
    x, grad, loss = _mlp_like()
    batches = _batches(1, 2, 3, 4, 5, 2, 1)
    with tf.Session(config=config(tf.OptimizerOptions.L0)) as sess:
        plain = [sess.run([grad, loss], {x: b}) for b in batches]
    with tf.Session() as sess:
        optimized = [sess.run([grad, loss], {x: b}) for b in batches]
        assert plan_of(sess).optimizer_stats["shape_memo"] > 0
    assert_same(plain, optimized)


def test_fetched_shape_values_stay_out_and_a_failing_member_names_its_op():
    x = tf.placeholder(tf.float32, [None, 3])
    dims = tf.shape(x) - 2
    ones = tf.fill(dims, 1.0)  # negative dims for a batch of one
    total = tf.reduce_sum(ones) + tf.reduce_sum(x)
    with tf.Session() as sess:
        np.testing.assert_array_equal(
            sess.run([total, dims], {x: np.ones((4, 3), np.float32)})[1], [2, 1])
        assert plan_of(sess).optimizer_stats["shape_memo"] == 0  # `dims` is fetched
    with tf.Session() as sess:
        assert sess.run(total, {x: np.ones((4, 3), np.float32)}) == 2.0 + 12.0
        # Shape, Sub, Fill and the Sum of the ones: all functions of the shape
        assert plan_of(sess).optimizer_stats["shape_memo"] == 4
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(total, {x: np.ones((1, 3), np.float32)})
        assert "Fill" in str(info.value)


def test_cached_values_are_read_only_and_shared_by_later_steps():
    x, grad, loss = _mlp_like()
    with tf.Session() as sess:
        sess.run(grad, {x: _batches(3)[0]})
        fn, ctx, ins, _, n = next(s for s in plan_of(sess).steps
                                  if s[0].__name__ == "shape_arithmetic")[:5]
        first = fn(ctx, *[np.zeros((3, 5), np.float32)] * len(ins))
        again = fn(ctx, *[np.ones((3, 5), np.float32)] * len(ins))  # the same shapes
        other = fn(ctx, *[np.ones((4, 5), np.float32)] * len(ins))
    first, again, other = ([v] if n == 1 else list(v) for v in (first, again, other))
    assert all(a is b and not a.flags.writeable for a, b in zip(first, again))
    assert not any(a is b for a, b in zip(first, other))
