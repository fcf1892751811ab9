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


# ---- partitioned tables: TF's id -> shard mapping, placement, training ---------------------------
def _reference_lookup(shard_values, ids, strategy):
    """NumPy: where TensorFlow documents each id to live, shard by shard."""
    n = len(shard_values)
    if strategy == "mod":
        return np.stack([shard_values[i % n][i // n] for i in ids.reshape(-1)]).reshape(
            ids.shape + shard_values[0].shape[1:])
    starts = np.cumsum([0] + [len(s) for s in shard_values])
    rows = []
    for i in ids.reshape(-1):
        k = int(np.searchsorted(starts, i, side="right")) - 1  # contiguous blocks, in order
        rows.append(shard_values[k][i - starts[k]])
    return np.stack(rows).reshape(ids.shape + shard_values[0].shape[1:])


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("rows,n", [(10, 3), (11, 4), (7, 7), (9, 2)])
def test_partitioned_variable_lookup_matches_numpy(strategy, rows, n):
    table = np.random.RandomState(rows * n).randn(rows, 3)
    v = tf.get_variable("emb", initializer=tf.constant(table),
                        partitioner=tf.fixed_size_partitioner(n))
    ids = np.random.RandomState(1).randint(0, rows, size=(4, 5))
    out = tf.nn.embedding_lookup(v, ids, partition_strategy=strategy)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, shard_values = sess.run([out, list(v)])
    # fixed_size_partitioner makes the first rows % n shards one row longer, as div expects
    assert [len(s) for s in shard_values] == [len(a) for a in np.array_split(table, n)]
    np.testing.assert_array_equal(got, _reference_lookup(shard_values, ids, strategy))
    if strategy == "div":
        np.testing.assert_array_equal(got, table[ids])


def test_div_gives_the_extra_ids_to_the_first_shards():
    # 10 ids over 4 shards: sizes 3, 3, 2, 2 -> ids 0-2 | 3-5 | 6-7 | 8-9
    shards = [tf.constant(np.full((size, 1), k, np.int32)) for k, size in enumerate([3, 3, 2, 2])]
    out = tf.nn.embedding_lookup(shards, np.arange(10), partition_strategy="div")
    np.testing.assert_array_equal(_run(out)[:, 0], [0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
    out = tf.nn.embedding_lookup(shards, np.arange(10), partition_strategy="mod")
    np.testing.assert_array_equal(_run(out)[:, 0], [0, 1, 2, 3] * 2 + [0, 1])


def _shard_per_cpu():
    """A device function putting the i-th variable created on /cpu:i (i < 4)."""
    count = [0]

    def device(op):
        if op.type != "VariableV2":
            return op.device or "/cpu:0"
        count[0] += 1
        return f"/cpu:{(count[0] - 1) % 4}"
    return device


def _train_embedding(optimizer, sharded, steps=3):
    table = np.random.RandomState(0).randn(10, 3)
    ids = np.array([[1, 7, 3], [9, 1, 0], [4, 4, 8]])
    target = np.random.RandomState(1).randn(3, 3)
    graph = tf.Graph()
    with graph.as_default(), tf.device(_shard_per_cpu()):
        if sharded:  # shard k holds ids k, k+4, ... ("mod"): its rows table[k::4]
            params = [tf.Variable(table[k::4], name=f"emb_{k}") for k in range(4)]
        else:
            params = tf.Variable(table, name="emb")
        rows = tf.nn.embedding_lookup(params, ids)
        loss = tf.reduce_sum(tf.square(tf.reduce_sum(rows, 1) - target))
        train = optimizer.minimize(loss)
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 4})) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            metadata = tf.RunMetadata()
            sess.run(train, options=tf.RunOptions(output_partition_graphs=True),
                     run_metadata=metadata)
            value = sess.run(params)
    if sharded:
        whole = np.empty_like(table)
        for k in range(4):
            whole[k::4] = value[k]
        value = whole
    return value, metadata.partition_graphs


@pytest.mark.parametrize("make_optimizer,update_op", [
    (lambda: tf.train.GradientDescentOptimizer(0.1), "ScatterSub"),
    (lambda: tf.train.AdagradOptimizer(0.3), "SparseApplyAdagrad")], ids=["sgd", "adagrad"])
def test_training_a_sharded_embedding_on_four_devices_equals_unsharded(make_optimizer,
                                                                       update_op):
    whole, _ = _train_embedding(make_optimizer(), sharded=False)
    sharded, partition_graphs = _train_embedding(make_optimizer(), sharded=True)
    np.testing.assert_allclose(sharded, whole, rtol=1e-12, atol=1e-12)
    table = np.random.RandomState(0).randn(10, 3)
    assert not np.allclose(whole[[1, 7, 3, 9, 0, 4, 8]], table[[1, 7, 3, 9, 0, 4, 8]])
    np.testing.assert_array_equal(whole[[2, 5, 6]], table[[2, 5, 6]])  # never looked up
    # each shard's gather and sparse update run on that shard's device
    by_device = {g.node[0].device[-5:]: g for g in partition_graphs}
    assert sorted(by_device) == [f"CPU:{k}" for k in range(4)]
    for k in range(4):
        nodes = by_device[f"CPU:{k}"].node
        ops_here = {n.op for n in nodes}
        assert {"Gather", update_op} <= ops_here, (k, ops_here)
        assert any(n.op == "VariableV2" and n.name == f"emb_{k}" for n in nodes)
        if k:
            assert "_Send" in ops_here and "_Recv" in ops_here


def test_lookup_gathers_are_colocated_with_their_shards():
    with tf.device(_shard_per_cpu()):
        shards = [tf.Variable(np.zeros((3, 2)), name=f"s{k}") for k in range(3)]
        out = tf.nn.embedding_lookup(shards, [0, 4, 8])
    gathers = [op for op in out.graph.get_operations() if op.type == "Gather"]
    assert len(gathers) == 3
    for op, shard in zip(gathers, shards):
        assert op.get_attr("_class") == [f"loc:@{shard.op.name}"]
        assert op.device == shard.device
    grads = tf.gradients(tf.reduce_sum(out), shards)
    assert [type(g).__name__ for g in grads] == ["IndexedSlices"] * 3


def _sparse(indices, values, shape, dtype):
    return tf.SparseTensor(np.array(indices, np.int64), tf.constant(values, dtype),
                           np.array(shape, np.int64))


def _sparse_reference(table, indices, ids, weights, combiner, rows):
    out = np.zeros((rows, table.shape[1]))
    for r in range(rows):
        mine = [j for j, idx in enumerate(indices) if idx[0] == r]
        if not mine:
            continue
        w = np.array([weights[j] for j in mine]) if weights is not None else np.ones(len(mine))
        total = (table[[ids[j] for j in mine]] * w[:, None]).sum(0)
        scale = {"sum": 1.0, "mean": w.sum(), "sqrtn": np.sqrt((w ** 2).sum())}[combiner]
        out[r] = total / scale
    return out


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_embedding_lookup_sparse_matches_numpy(combiner, weighted, strategy):
    table = np.random.RandomState(3).randn(11, 2)
    indices = [[0, 0], [0, 1], [1, 0], [3, 0], [3, 1], [3, 2]]
    ids = [2, 10, 5, 7, 2, 7]
    weights = [0.5, 2.0, 1.5, 1.0, 3.0, 0.25]
    n = 3
    shard_values = ([table[k::n] for k in range(n)] if strategy == "mod"
                    else np.array_split(table, n))
    params = [tf.constant(s) for s in shard_values]
    sp_ids = _sparse(indices, ids, [4, 3], tf.int64)
    sp_weights = _sparse(indices, weights, [4, 3], tf.float64) if weighted else None
    out = tf.nn.embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy=strategy,
                                        combiner=combiner)
    want = _sparse_reference(table, indices, ids, weights if weighted else None, combiner, 4)
    got = _run(out)
    np.testing.assert_allclose(got[[0, 1, 3]], want[[0, 1, 3]], rtol=1e-12)
    if weighted and combiner != "sum":
        assert np.isnan(got[2]).all()  # 0 / 0 for a row without ids, as in TensorFlow
    else:
        np.testing.assert_array_equal(got[2], [0, 0])


def test_embedding_lookup_sparse_default_combiner_gradient_and_errors():
    v = tf.get_variable("emb", initializer=tf.constant(np.arange(12.0).reshape(6, 2)),
                        partitioner=tf.fixed_size_partitioner(2))
    sp_ids = _sparse([[0, 0], [0, 1], [1, 0]], [1, 1, 4], [2, 2], tf.int64)
    out = tf.nn.embedding_lookup_sparse(v, sp_ids, None)
    grads = tf.gradients(tf.reduce_sum(out), list(v))
    assert [type(g).__name__ for g in grads] == ["IndexedSlices"] * 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # mod over 2 shards of 3 rows: id 1 -> shard 1 row 0 (value 6, 7); 4 -> shard 0 row 2
        np.testing.assert_array_equal(sess.run(out), [[6, 7], [4, 5]])
        dense = [sess.run(tf.convert_to_tensor(g)) for g in grads]
    np.testing.assert_array_equal(dense[0][:, 0], [0, 0, 1])
    np.testing.assert_array_equal(dense[1][:, 0], [1, 0, 0])  # mean of two equal ids: 1/2 + 1/2
    with pytest.raises(ValueError, match="combiner must be one of"):
        tf.nn.embedding_lookup_sparse(v, sp_ids, None, combiner="max")
    with pytest.raises(TypeError, match="sp_ids must be SparseTensor"):
        tf.nn.embedding_lookup_sparse(v, tf.constant([1]), None)
    with pytest.raises(TypeError, match="sp_weights must be either None or SparseTensor"):
        tf.nn.embedding_lookup_sparse(v, sp_ids, tf.constant([1.0]))
