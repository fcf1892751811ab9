"""The optimized plan computes what the unoptimized one (opt_level L0) does, on graphs of every
kind: constants and shape arithmetic, gradients, training steps on variables, control flow,
while loops and queues; the user's graph is never changed; the optimizer runs once per plan."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import L0, assert_same, config, plan_of, run_both
from tensorflux.runtime import optimizer as optimizer_lib

pytestmark = pytest.mark.timeout(60)


def _softmax_model():
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w = tf.Variable(np.linspace(-1, 1, 18).reshape(6, 3).astype(np.float32), name="w")
    b = tf.Variable(np.zeros(3, np.float32), name="b")
    y = tf.nn.softmax(tf.matmul(x, w) + b)
    loss = -tf.reduce_sum(labels * tf.log(y))
    return x, labels, loss


def _softmax_feed(x, labels):
    rng = np.random.default_rng(0)
    return {x: rng.random((5, 6)).astype(np.float32),
            labels: np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]}


def test_const_tanh_sigmoid_chain_is_folded_fused_and_bit_identical():
    x = tf.placeholder(tf.float32, [10])
    y = x
    for _ in range(20):
        y = tf.tanh(y) * 0.9 + 0.01
        y = tf.sigmoid(y) - 0.25
    feed = {x: np.linspace(-2, 2, 10).astype(np.float32)}
    plain, optimized, stats = run_both(y, feed)
    assert_same(plain, optimized)
    assert stats["folded_values"] == 60 and stats["fused_ops"] == 100
    assert stats["nodes"] == 1 and stats["nodes_before"] == 160


def test_gradients_of_a_softmax_model_match(  # shape arithmetic, BroadcastGradientArgs, ...
):
    x, labels, loss = _softmax_model()
    grads = tf.gradients(loss, tf.trainable_variables())
    plain, optimized, stats = run_both([loss] + grads, _softmax_feed(x, labels),
                                       init=tf.global_variables_initializer())
    assert_same(plain, optimized, exact=False)
    assert stats["folded_values"] > 0 and stats["nodes"] < stats["nodes_before"]


def test_training_steps_on_variables_match():
    x, labels, loss = _softmax_model()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.control_dependencies([train]):
        after = tf.identity(loss)
    plain, optimized, _ = run_both(after, _softmax_feed(x, labels),
                                   init=tf.global_variables_initializer(), steps=4)
    assert_same(plain, optimized, exact=False)
    assert plain[0] != plain[-1]  # the variables did change between steps


def test_cond_and_while_loop_match():
    x = tf.placeholder(tf.float32, [4])
    total = tf.while_loop(lambda i, acc: i < 5,
                          lambda i, acc: (i + 1, tf.tanh(acc * 1.0 + 0.5) * 2.0),
                          [tf.constant(0), x])[1]
    branch = tf.cond(tf.reduce_sum(x) > 0, lambda: total * 1.0, lambda: -total)
    feed = {x: np.array([0.1, -0.2, 0.3, 0.4], np.float32)}
    plain, optimized, _ = run_both([total, branch], feed)
    assert_same(plain, optimized)


def test_queue_graphs_match():
    queue = tf.FIFOQueue(10, [tf.float32], shapes=[[3]])
    enqueue = queue.enqueue_many([tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))])
    out = tf.tanh(queue.dequeue() * 1.0 + tf.constant(0.5) * 2.0)
    results = []
    for cfg in (config(L0), config()):
        with tf.Session(config=cfg) as sess:
            sess.run(enqueue)
            results.append([sess.run(out) for _ in range(4)])
    assert_same(results[0], results[1])


def test_random_ops_are_neither_folded_nor_merged():
    a = tf.random_uniform([1000])
    b = tf.random_uniform([1000])  # the same op: CSE must keep both
    with tf.Session() as sess:
        first, second = sess.run([a - b, a - b])
        again = sess.run(a - b)
    assert np.any(first != 0) and not np.array_equal(first, again)
    np.testing.assert_array_equal(first, second)  # one fetch, fetched twice


def test_a_fed_constant_is_not_constant():
    c = tf.constant(3.0)
    y = c * 2.0 + 1.0
    with tf.Session() as sess:
        assert sess.run(y) == 7.0
        assert sess.run(y, {c: 10.0}) == 21.0


def test_fetched_foldable_nodes_keep_their_names_and_values():
    a = tf.constant([1.0, 2.0], name="a")
    b = tf.add(a * 2.0, 1.0, name="b")
    c = tf.identity(b, name="c")
    with tf.Session() as sess:
        values = sess.run([a, b, c])
        steps = [step[1].op.name for step in plan_of(sess).steps]
    assert_same(values, [np.array(v, np.float32) for v in ([1, 2], [3, 5], [3, 5])])
    assert steps == ["a", "b", "c"]


def test_values_over_the_size_cap_are_not_folded():
    big = tf.zeros([1500, 1000]) + 1.0  # 6 MB: under the default cap of 10 MiB, over 1 MiB
    x = tf.placeholder(tf.float32, [])
    y = tf.reduce_sum(big * x)
    capped = config()
    capped.graph_options.optimizer_options.max_folded_constant_in_bytes = 1 << 20
    for cfg, largest in ((config(), 6_000_000), (capped, 8)):  # 8: the int32 dims of zeros
        with tf.Session(config=cfg) as sess:
            assert sess.run(y, {x: 2.0}) == 3_000_000.0
            assert max(v.nbytes for v in _folded(sess)) == largest


def _folded(sess):
    plan = plan_of(sess)
    return [v for v in plan.template if v is not None]


def test_the_users_graph_is_not_changed():
    x, labels, loss = _softmax_model()
    grads = tf.gradients(loss, tf.trainable_variables())
    init = tf.global_variables_initializer()
    graph = tf.get_default_graph()
    before = graph.as_graph_def().SerializeToString(deterministic=True)
    count = len(graph.get_operations())
    run_both(grads, _softmax_feed(x, labels), init=init)
    assert len(graph.get_operations()) == count
    assert graph.as_graph_def().SerializeToString(deterministic=True) == before


def test_the_optimizer_runs_once_per_plan(monkeypatch):
    calls = []
    rewrite = optimizer_lib.rewrite
    monkeypatch.setattr(optimizer_lib, "rewrite", lambda *a: calls.append(1) or rewrite(*a))
    x = tf.placeholder(tf.float32, [3])
    y = tf.tanh(x) * 2.0
    with tf.Session() as sess:
        for _ in range(5):
            sess.run(y, {x: np.ones(3, np.float32)})
    assert len(calls) == 1


def test_multi_device_plans_are_folded_and_match():
    x = tf.placeholder(tf.float32, [3])
    with tf.device("/cpu:1"):
        scale = tf.constant(2.0) * tf.constant(1.5)
        y = x * scale
    with tf.device("/cpu:0"):
        z = tf.tanh(y) + tf.constant([1.0, 2.0, 3.0]) * 2.0
    feed = {x: np.array([0.1, 0.2, 0.3], np.float32)}
    cfg = tf.ConfigProto(device_count={"CPU": 2})
    results = []
    for level in (L0, tf.OptimizerOptions.L1):
        cfg.graph_options.optimizer_options.opt_level = level
        with tf.Session(config=cfg) as sess:
            results.append(sess.run(z, feed))
            stats = plan_of(sess).optimizer_stats
    assert_same(results[0], results[1])
    assert stats["folded_values"] == 2
