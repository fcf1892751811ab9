"""batched_sums.py: an AddN of MatMuls, Sums or Pads runs as one op, with the AddN's values."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both
from tensorflux.runtime.optimizer import Settings

pytestmark = pytest.mark.timeout(60)


def _values(rng, *shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_a_sum_of_products_is_one_product(ta, tb):
    rng = np.random.default_rng(0)
    a_shape, b_shape = ((2, 5) if ta else (5, 2)), ((7, 2) if tb else (2, 7))
    pairs = [(tf.placeholder(tf.float32, a_shape), tf.placeholder(tf.float32, b_shape))
             for _ in range(4)]
    total = tf.add_n([tf.matmul(a, b, transpose_a=ta, transpose_b=tb) for a, b in pairs])
    feed = {p: v for pair in pairs for p, v in zip(pair, _values(rng, a_shape, b_shape))}
    plain, optimized, on = run_both(total, feed)
    assert_same(plain, optimized, exact=False)
    assert on["batched_sums"] == 1 and on["nodes"] == 1
    op = lambda m, t: m.T if t else m  # noqa: E731
    reference = sum(op(feed[a], ta) @ op(feed[b], tb) for a, b in pairs)
    np.testing.assert_allclose(optimized[0], reference, rtol=1e-5, atol=1e-5)
    _, _, off = run_both(total, feed, cfg=config(arithmetic_optimization=OFF))
    assert off.get("batched_sums", 0) == 0 and off["nodes"] == 5


def test_sums_over_axis_zero_and_pads_are_batched():
    rng = np.random.default_rng(1)
    xs = [tf.placeholder(tf.float32, [4, 3, 2]) for _ in range(3)]
    sums = tf.add_n([tf.reduce_sum(x, [0, 2]) for x in xs])
    pads = tf.add_n([tf.pad(x, [[k, 2 - k], [0, 1], [1, 0]]) for k, x in enumerate(xs)])
    feed = dict(zip(xs, _values(rng, *[(4, 3, 2)] * 3)))
    plain, optimized, on = run_both([sums, pads], feed)
    assert_same(plain, optimized, exact=False)
    assert on["batched_sums"] == 2
    values = [feed[x] for x in xs]
    np.testing.assert_allclose(optimized[0][0], sum(v.sum(axis=(0, 2)) for v in values),
                               rtol=1e-5, atol=1e-6)
    padded = sum(np.pad(v, [[k, 2 - k], [0, 1], [1, 0]]) for k, v in enumerate(values))
    np.testing.assert_allclose(optimized[0][1], padded, rtol=1e-6, atol=1e-6)


def test_what_is_not_batched():
    rng = np.random.default_rng(2)
    a = [tf.placeholder(tf.float32, [2, 3]) for _ in range(3)]
    b = tf.placeholder(tf.float32, [3, 4])
    unknown = tf.placeholder(tf.float32, [None, 3])
    products = [tf.matmul(x, b) for x in a]
    fetched_term = tf.add_n(products[:2])        # products[0] also fetched below
    read_twice = tf.add_n(products[1:]) * products[2]
    unknown_shape = tf.add_n([tf.matmul(unknown, b), tf.matmul(unknown, b * 2.0)])
    inner = tf.add_n([tf.reduce_sum(x, [1]) for x in a])  # axis 0 not reduced
    mixed = tf.add_n([tf.matmul(a[0], b), tf.matmul(a[1], b, transpose_b=False) * 1.5])
    fetches = [fetched_term, products[0], read_twice, unknown_shape, inner, mixed]
    feed = dict(zip(a + [b, unknown], _values(rng, *[(2, 3)] * 3, (3, 4), (2, 3))))
    plain, optimized, on = run_both(fetches, feed)
    assert_same(plain, optimized)
    assert on["batched_sums"] == 0


def test_large_operands_are_not_copied_to_save_a_small_addn():
    rng = np.random.default_rng(3)
    pairs = [(tf.placeholder(tf.float32, [2, 50]), tf.placeholder(tf.float32, [50, 2]))
             for _ in range(2)]
    total = tf.add_n([tf.matmul(x, y) for x, y in pairs])
    feed = {p: v for pair in pairs for p, v in zip(pair, _values(rng, (2, 50), (50, 2)))}
    plain, optimized, on = run_both(total, feed)
    assert_same(plain, optimized)
    assert on["batched_sums"] == 0


def test_no_batching_across_a_state_write():
    v = tf.Variable(np.ones((3, 3), np.float32))
    x = tf.placeholder(tf.float32, [3, 3])
    before = tf.matmul(x, v.value())
    with tf.control_dependencies([before]):
        bump = tf.assign_add(v, np.ones((3, 3), np.float32))
    with tf.control_dependencies([bump]):
        after = tf.matmul(x, v.value())
    total = tf.add_n([before, after])
    feed = {x: np.eye(3, dtype=np.float32)}
    for cfg in (config(), config(arithmetic_optimization=OFF)):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(total, feed), np.full((3, 3), 3, np.float32))
            stats = list(sess._plans.values())[-1].optimizer_stats
            assert stats.get("batched_sums", 0) == 0


def test_unrolled_rnn_gradients_match_the_unbatched_plan():
    rng = np.random.default_rng(4)
    steps, batch, size = 6, 2, 8
    xs = tf.placeholder(tf.float32, [batch, steps, size])
    w = tf.Variable(rng.uniform(-0.5, 0.5, (2 * size, size)).astype(np.float32))
    b = tf.Variable(np.zeros(size, np.float32))
    h = tf.zeros([batch, size])
    for t in range(steps):
        x = tf.squeeze(tf.slice(xs, [0, t, 0], [-1, 1, -1]), [1])
        h = tf.tanh(tf.matmul(tf.concat([x, h], 1), w) + b)
    grads = tf.gradients(tf.reduce_sum(h * h), [w, b, xs])
    feed = {xs: rng.standard_normal((batch, steps, size)).astype(np.float32)}
    init = tf.global_variables_initializer()
    plain, optimized, on = run_both(grads, feed, init=init)
    assert_same(plain, optimized, exact=False)
    # the weight's and the bias's sums; the input slices' Pads tile xs, so pad_concat (which
    # runs first) makes them one concatenation
    assert on["batched_sums"] == 2 and on["pad_concat"] == 1


def test_settings_switch():
    assert Settings.from_config(None).batched_sums
    assert not Settings.from_config(config(arithmetic_optimization=OFF)).batched_sums
    assert not Settings(batched_sums=False).batched_sums and Settings(batched_sums=False).any


def test_big_reductions_are_not_concatenated():
    xs = [tf.placeholder(tf.float32, [300, 300]) for _ in range(2)]
    total = tf.add_n([tf.reduce_sum(x, [0]) for x in xs])
    feed = dict(zip(xs, _values(np.random.default_rng(5), (300, 300), (300, 300))))
    plain, optimized, on = run_both(total, feed)
    assert_same(plain, optimized)
    assert on["batched_sums"] == 0
