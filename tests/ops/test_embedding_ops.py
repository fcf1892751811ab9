"""embedding_lookup: one tensor or a list of shards, "mod" and "div" partitioning, sparse
gradients, max_norm. (A composite: its harness entries exercise the ops it is built from.)"""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec

IDS = np.array([[0, 5, 10], [3, 3, 7]])


def _shards(table, n, strategy):
    if strategy == "mod":
        return [table[i::n] for i in range(n)]
    return np.array_split(table, n)


SPECS = [
    OpSpec(("Gather", "DynamicPartition", "DynamicStitch"),
           lambda a, b, c: tf.nn.embedding_lookup([a, b, c], IDS, partition_strategy="mod"),
           lambda a, b, c: np.stack([(a, b, c)[k % 3][k // 3] for k in range(11)])[IDS],
           [((4, 2), (4, 2), (3, 2))], name="embedding_lookup_mod"),
    OpSpec(("Gather", "DynamicPartition", "DynamicStitch"),
           lambda a, b, c: tf.nn.embedding_lookup([a, b, c], IDS, partition_strategy="div"),
           lambda a, b, c: np.concatenate([a, b, c])[IDS],
           [((4, 2), (4, 2), (3, 2))], name="embedding_lookup_div"),
    OpSpec("Gather", lambda p: tf.nn.embedding_lookup(p, IDS), lambda p: p[IDS],
           [((11, 3),)], name="embedding_lookup_single"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_sharded_lookup_matches_the_whole_table(strategy, n):
    table = np.arange(13 * 2, dtype=np.float32).reshape(13, 2)
    ids = np.array([[12, 0, 4], [7, 7, 1]], np.int64)
    shards = [tf.constant(s) for s in _shards(table, n, strategy)]
    out = tf.nn.embedding_lookup(shards, ids, partition_strategy=strategy)
    assert out.get_shape().as_list() == [2, 3, 2]
    np.testing.assert_array_equal(_run(out), table[ids])


def test_div_strategy_with_unknown_shard_sizes():
    table = np.arange(10, dtype=np.float64).reshape(10, 1)
    holders = [tf.placeholder(tf.float64, [None, 1]) for _ in range(3)]
    out = tf.nn.embedding_lookup(holders, [9, 0, 4, 3], partition_strategy="div")
    feed = dict(zip(holders, np.array_split(table, 3)))
    np.testing.assert_array_equal(_run(out, feed)[:, 0], [9, 0, 4, 3])


def test_scalar_id_and_int32_ids():
    table = np.arange(12, dtype=np.float32).reshape(6, 2)
    shards = [tf.constant(s) for s in _shards(table, 2, "mod")]
    one = tf.nn.embedding_lookup(shards, tf.constant(5))
    np.testing.assert_array_equal(_run(one), table[5])
    many = tf.nn.embedding_lookup(shards, tf.constant([1, 4], tf.int32))
    np.testing.assert_array_equal(_run(many), table[[1, 4]])


def test_gradients_are_sparse_and_train_only_the_looked_up_rows():
    table = np.ones((6, 2), np.float32)
    shards = [tf.Variable(s) for s in _shards(table, 2, "mod")]
    out = tf.nn.embedding_lookup(shards, [1, 1, 4])
    grads = tf.gradients(tf.reduce_sum(out), shards)
    assert all(isinstance(g, tf.IndexedSlices) for g in grads)
    step = tf.train.GradientDescentOptimizer(1.0).minimize(tf.reduce_sum(out))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        even, odd = sess.run(shards)
    # mod, 2 shards: ids 0, 2, 4 in shard 0 (rows 0, 1, 2); ids 1, 3, 5 in shard 1
    np.testing.assert_array_equal(even[:, 0], [1, 1, 0])
    np.testing.assert_array_equal(odd[:, 0], [-1, 1, 1])


def test_max_norm_clips_rows():
    table = np.array([[3.0, 4.0], [0.3, 0.4]])
    out = tf.nn.embedding_lookup(tf.constant(table), [0, 1], max_norm=1.0)
    np.testing.assert_allclose(_run(out), [[0.6, 0.8], [0.3, 0.4]])
    sharded = tf.nn.embedding_lookup([tf.constant(table[:1]), tf.constant(table[1:])], [0, 1],
                                     partition_strategy="div", max_norm=2.0)
    np.testing.assert_allclose(_run(sharded), [[1.2, 1.6], [0.3, 0.4]])


def test_errors():
    with pytest.raises(ValueError, match="partition_strategy"):
        tf.nn.embedding_lookup([tf.zeros([2, 2])], [0], partition_strategy="hash")
    with pytest.raises(ValueError, match="non-empty"):
        tf.nn.embedding_lookup([], [0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        _run(tf.nn.embedding_lookup(tf.zeros([2, 2]), [5]))
