"""Partitioned variables: partitioners, shard shapes and names, SaveSliceInfo, reuse,
initializers per shard, create_partitioned_variables and PartitionedVariable as a tensor."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import tensor_conversion
from tensorflux.ops import partitioned_variables as pv

pytestmark = pytest.mark.timeout(60)


def _shapes(partitioned):
    return [v.get_shape().as_list() for v in partitioned]


def _run(fetches):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches)


@pytest.mark.parametrize("rows,shards,want", [
    (10, 3, [4, 3, 3]), (11, 3, [4, 4, 3]), (9, 3, [3, 3, 3]), (2, 5, [1, 1]), (7, 1, [7])])
def test_fixed_size_partitioner_splits_first_shards_bigger(rows, shards, want):
    v = tf.get_variable("v", [rows, 2], partitioner=tf.fixed_size_partitioner(shards))
    assert [s[0] for s in _shapes(v)] == want
    assert [p.op.name for p in v] == [f"v/part_{i}" for i in range(len(want))]
    offsets = [p._save_slice_info.var_offset for p in v]
    assert offsets == [[sum(want[:i]), 0] for i in range(len(want))]
    assert v._get_partitions() == [len(want), 1]
    assert len(v) == len(want)


def test_partition_along_axis_1_and_slice_info():
    v = tf.get_variable("w", [3, 5], partitioner=tf.fixed_size_partitioner(2, axis=1))
    assert _shapes(v) == [[3, 3], [3, 2]]
    info = list(v)[1]._save_slice_info
    assert (info.full_name, info.full_shape, info.var_offset, info.var_shape) == (
        "w", [3, 5], [0, 3], [3, 2])
    assert info.spec == "3 5 0,3:3,2"
    assert list(v)[0]._save_slice_info.spec == "3 5 0,3:0,3"


def test_variable_axis_size_partitioner():
    # rows of 4 float32 = 16 bytes; 40 bytes per shard -> 2 rows per shard -> 5 shards
    v = tf.get_variable("a", [10, 4], partitioner=tf.variable_axis_size_partitioner(40))
    assert [s[0] for s in _shapes(v)] == [2] * 5
    capped = tf.get_variable("b", [10, 4], partitioner=tf.variable_axis_size_partitioner(
        40, max_shards=3))
    assert [s[0] for s in _shapes(capped)] == [4, 3, 3]
    # a row bigger than the limit still makes one row per shard
    one_per_row = tf.get_variable("c", [3, 100], partitioner=tf.variable_axis_size_partitioner(8))
    assert [s[0] for s in _shapes(one_per_row)] == [1, 1, 1]
    strings = tf.variable_axis_size_partitioner(64, bytes_per_string_element=16)
    assert strings(shape=tf.TensorShape([8, 2]), dtype=tf.string) == [4, 1]
    with pytest.raises(ValueError, match="must be positive"):
        tf.variable_axis_size_partitioner(0)
    with pytest.raises(ValueError, match="not fully defined"):
        tf.variable_axis_size_partitioner(10)(shape=tf.TensorShape([None, 2]), dtype=tf.float32)


def test_min_max_variable_partitioner():
    part = tf.min_max_variable_partitioner(max_partitions=4, min_slice_size=100)
    assert part(shape=tf.TensorShape([10, 10]), dtype=tf.float32) == [4, 1]  # 400 B / 100
    assert part(shape=tf.TensorShape([10, 5]), dtype=tf.float32) == [2, 1]   # 200 B / 100
    assert part(shape=tf.TensorShape([2, 100]), dtype=tf.float32) == [2, 1]  # only 2 rows
    assert part(shape=tf.TensorShape([1, 1]), dtype=tf.float32) == [1, 1]
    with pytest.raises(ValueError, match="Can not partition variable along axis 2"):
        tf.min_max_variable_partitioner(axis=2)(shape=tf.TensorShape([3, 3]), dtype=tf.float32)


def test_initializer_called_per_shard_with_partition_info():
    calls = []

    def init(shape, dtype=None, partition_info=None):
        calls.append((list(shape), partition_info.full_shape, partition_info.var_offset,
                      partition_info.single_offset(shape)))
        return tf.fill(shape, float(partition_info.single_offset(shape)))
    v = tf.get_variable("v", [5, 2], initializer=init, partitioner=tf.fixed_size_partitioner(2))
    assert calls == [([3, 2], [5, 2], [0, 0], 0), ([2, 2], [5, 2], [3, 0], 3)]
    np.testing.assert_array_equal(_run(tf.convert_to_tensor(v))[:, 0], [0, 0, 0, 3, 3])

    seen = []

    def old_style(shape, dtype=None):  # an initializer without partition_info still works
        seen.append(list(shape))
        return tf.zeros(shape, dtype)
    tf.get_variable("u", [4, 1], initializer=old_style, partitioner=tf.fixed_size_partitioner(2))
    assert seen == [[2, 1], [2, 1]]


def test_full_value_initializers_are_sliced():
    full = np.arange(12, dtype=np.float32).reshape(6, 2)
    a = tf.get_variable("a", initializer=tf.constant(full),
                        partitioner=tf.fixed_size_partitioner(4))
    b = tf.get_variable("b", [6, 2], initializer=full, partitioner=tf.fixed_size_partitioner(4))
    assert _shapes(a) == [[2, 2], [2, 2], [1, 2], [1, 2]]
    got_a, got_b = _run([tf.convert_to_tensor(a), b.as_tensor()])
    np.testing.assert_array_equal(got_a, full)
    np.testing.assert_array_equal(got_b, full)


def test_scope_partitioner_applies_except_to_scalars():
    with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(2)):
        m = tf.get_variable("m", [4, 3])
        step = tf.get_variable("step", [], initializer=tf.zeros_initializer())
        with tf.variable_scope("inner"):
            inner = tf.get_variable("x", [6])
    assert isinstance(m, pv.PartitionedVariable) and m.name == "s/m"
    assert isinstance(step, tf.Variable) and step.op.name == "s/step"
    assert [p.op.name for p in inner] == ["s/inner/x/part_0", "s/inner/x/part_1"]
    # the shards are ordinary variables in the usual collections; the whole one is not
    assert [v.op.name for v in tf.trainable_variables()] == [
        "s/m/part_0", "s/m/part_1", "s/step", "s/inner/x/part_0", "s/inner/x/part_1"]


def test_get_variable_reuses_a_partitioned_variable():
    part = tf.fixed_size_partitioner(3)
    with tf.variable_scope("emb", partitioner=part):
        v = tf.get_variable("table", [9, 2])
    with tf.variable_scope("emb", reuse=True, partitioner=part):
        assert tf.get_variable("table", [9, 2]) is v
        assert tf.get_variable("table") is v
    with tf.variable_scope("emb", reuse=True):
        with pytest.raises(ValueError, match="specified partitions"):
            tf.get_variable("table", [9, 2], partitioner=tf.fixed_size_partitioner(2))
        with pytest.raises(ValueError, match="specified shape"):
            tf.get_variable("table", [8, 2], partitioner=part)
        with pytest.raises(ValueError, match="PartitionedVariable emb/other does not exist"):
            tf.get_variable("other", [9, 2], partitioner=part)
        with pytest.raises(ValueError, match="A partitioner was not provided"):
            tf.get_variable("table", [9, 2])
    with tf.variable_scope("emb", partitioner=part):
        with pytest.raises(ValueError, match="already exists"):
            tf.get_variable("table", [9, 2])
    tf.get_variable("plain", [4, 2])
    with pytest.raises(ValueError, match="unpartitioned version of the variable was found"):
        tf.get_variable("plain", [4, 2], partitioner=part)


def test_bad_partitions():
    with pytest.raises(ValueError, match="Can only slice a variable along one dimension"):
        tf.get_variable("a", [4, 4], partitioner=lambda shape, dtype: [2, 2])
    with pytest.raises(ValueError, match="does not match the Variable's rank"):
        tf.get_variable("b", [4, 4], partitioner=lambda shape, dtype: [2])
    with pytest.raises(ValueError, match="zero partitions"):
        tf.get_variable("c", [4, 4], partitioner=lambda shape, dtype: [0, 1])
    with pytest.raises(ValueError, match="Cannot create 5 slices for size 4"):
        tf.get_variable("d", [4, 4], partitioner=lambda shape, dtype: [5, 1])
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("e", partitioner=tf.fixed_size_partitioner(2))


def test_partitioned_variable_as_tensor():
    v = tf.get_variable("v", [5, 2], initializer=tf.zeros_initializer(),
                        partitioner=tf.fixed_size_partitioner(2))
    assert v.get_shape().as_list() == [5, 2] and v.dtype == tf.float32 and v.name == "v"
    whole = tf.convert_to_tensor(v)
    assert whole.name == "v/concat:0" and whole.get_shape().as_list() == [5, 2]
    assert [op.name for op in whole.graph.get_operations() if op.type == "ConcatV2"] == [
        "v/ConcatPartitions/concat"]
    doubled = tf.multiply(v, 2.0)
    # converted inside a loop body and again outside: each use gets its own concatenation
    _, looped = tf.while_loop(lambda i, acc: i < 3,
                              lambda i, acc: (i + 1, acc + tf.reduce_sum(v)), [0, 0.0])
    outside = tf.reduce_sum(v)
    assign = v.assign(np.arange(10, dtype=np.float32).reshape(5, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(assign)
        np.testing.assert_array_equal(sess.run(doubled), 2 * np.arange(10).reshape(5, 2))
        assert sess.run([looped, outside]) == [3 * 45.0, 45.0]
        np.testing.assert_array_equal(sess.run(list(v)[1]), [[6, 7], [8, 9]])
    single = tf.get_variable("single", [3], partitioner=tf.fixed_size_partitioner(1))
    assert [p.op.name for p in single] == ["single/part_0"]
    assert tf.convert_to_tensor(single).name == "single:0"
    with pytest.raises(NotImplementedError, match="reference"):
        tensor_conversion.convert_to_tensor(v, as_ref=True)


def test_create_partitioned_variables():
    full = np.arange(15, dtype=np.float32).reshape(5, 3)
    parts = tf.create_partitioned_variables([5, 3], [1, 2], full)
    assert [p.op.name for p in parts] == ["PartitionedVariable/part_0",
                                          "PartitionedVariable/part_1"]
    assert [p._save_slice_info.spec for p in parts] == ["5 3 0,5:0,2", "5 3 0,5:2,1"]
    again = tf.create_partitioned_variables([4], [2], tf.ones_initializer(), name="ones")
    assert [p.op.name for p in again] == ["ones/part_0", "ones/part_1"]
    reused = tf.create_partitioned_variables([4], [2], tf.ones_initializer(), name="ones",
                                             reuse=True)
    assert all(a is b for a, b in zip(reused, again)) and len(reused) == 2
    other = tf.create_partitioned_variables([4], [2], tf.ones_initializer())
    assert other[0].op.name == "PartitionedVariable_1/part_0"
    got = _run(parts + again)
    np.testing.assert_array_equal(np.concatenate(got[:2], axis=1), full)
    np.testing.assert_array_equal(np.concatenate(got[2:]), np.ones(4))
    with pytest.raises(ValueError, match="must have the length"):
        tf.create_partitioned_variables([5, 3], [2], full)
    with pytest.raises(ValueError, match="rank at least 1"):
        tf.create_partitioned_variables([], [], full)


def test_partition_info_single_slice_dim():
    info = pv._PartitionInfo([10, 4], [4, 0])
    assert info.single_slice_dim([3, 4]) == 0 and info.single_offset([3, 4]) == 4
    assert info.single_slice_dim([10, 4]) is None and info.single_offset([10, 4]) == 0
    with pytest.raises(ValueError, match="could be either dimension 0 or 1"):
        info.single_slice_dim([3, 2])


def test_slot_variables_of_shards_are_shards_of_the_slot():
    v = tf.get_variable("emb", [7, 2], partitioner=tf.fixed_size_partitioner(2))
    loss = tf.reduce_sum(tf.nn.embedding_lookup(v, [0, 3, 6]))
    opt = tf.train.AdamOptimizer(0.1)
    opt.minimize(loss)
    slots = [opt.get_slot(p, "m") for p in v]
    assert [s.op.name for s in slots] == ["emb/part_0/Adam", "emb/part_1/Adam"]
    infos = [s._save_slice_info for s in slots]
    assert [(i.full_name, i.full_shape, i.var_offset, i.var_shape) for i in infos] == [
        ("emb/Adam", [7, 2], [0, 0], [4, 2]), ("emb/Adam", [7, 2], [4, 0], [3, 2])]


def test_minimize_accepts_a_partitioned_variable_in_var_list():
    v = tf.get_variable("v", [4, 1], initializer=tf.ones_initializer(),
                        partitioner=tf.fixed_size_partitioner(2))
    loss = tf.reduce_sum(v.as_tensor() * np.array([[1.0], [2.0], [3.0], [4.0]], np.float32))
    opt = tf.train.GradientDescentOptimizer(1.0)
    assert [var.op.name for _, var in opt.compute_gradients(loss, [v])] == ["v/part_0",
                                                                           "v/part_1"]
    step = opt.minimize(loss, var_list=[v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_array_equal(sess.run(v.as_tensor())[:, 0], [0, -1, -2, -3])


def test_save_slice_info_round_trips_through_a_meta_graph():
    v = tf.get_variable("emb", [5, 2], partitioner=tf.fixed_size_partitioner(2))
    meta = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        tf.train.import_meta_graph(meta)
        shards = tf.global_variables()
        assert [s._save_slice_info.spec for s in shards] == [
            p._save_slice_info.spec for p in v]
        assert shards[1]._save_slice_info.full_name == "emb"
