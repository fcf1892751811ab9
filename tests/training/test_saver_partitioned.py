"""Checkpoints of partitioned variables: each shard is saved as a slice of the full variable
(V2 format), so a checkpoint restores into any other partitioning, unsplit included."""
import os

import numpy as np
import pytest
import tf_goldens

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.lib.io import tensor_bundle

pytestmark = pytest.mark.timeout(60)

FULL = np.arange(40, dtype=np.float32).reshape(10, 4) * 1.5 - 7.0


def _embedding(shards, initializer=None):
    """The variable "emb" ([10, 4]) split in `shards` (1: an ordinary Variable)."""
    init = tf.zeros_initializer() if initializer is None else initializer
    if shards == 1:
        return tf.get_variable("emb", [10, 4], initializer=init)
    return tf.get_variable("emb", [10, 4], initializer=init,
                           partitioner=tf.fixed_size_partitioner(shards))


def _value(sess, v):
    return sess.run(tf.convert_to_tensor(v))


def _save(path, shards, **saver_args):
    with tf.Graph().as_default():
        v = _embedding(shards, tf.constant_initializer(0.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(v.assign(FULL))
            return tf.train.Saver(**saver_args).save(sess, str(path), write_meta_graph=False)


def _restore(path, shards):
    with tf.Graph().as_default():
        v = _embedding(shards)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            return _value(sess, v), [sess.run(p) for p in (v if shards > 1 else [v])]


@pytest.mark.parametrize("saved,restored", [(3, 2), (3, 1), (2, 3), (1, 3), (3, 3), (4, 3)])
def test_restore_into_another_partitioning(tmp_path, saved, restored):
    path = _save(tmp_path / "model", saved)
    whole, parts = _restore(path, restored)
    np.testing.assert_array_equal(whole, FULL)
    assert [len(p) for p in parts] == [len(a) for a in np.array_split(FULL, restored)]
    np.testing.assert_array_equal(np.concatenate(parts), FULL)


def test_checkpoint_holds_the_full_variable_and_round_trips(tmp_path):
    path = _save(tmp_path / "three", 3)
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map() == {"emb": [10, 4]}
    np.testing.assert_array_equal(reader.get_tensor("emb"), FULL)
    slices = tensor_bundle.BundleReader(path).entry("emb").slices
    assert [repr(s) for s in slices] == ["0,4:0,4", "4,3:0,4", "7,3:0,4"]
    # 3 -> 2 -> 1 -> 3 keeps every value exactly
    with tf.Graph().as_default():
        v = _embedding(2)
        with tf.Session() as sess:
            saver = tf.train.Saver()
            saver.restore(sess, path)
            np.testing.assert_array_equal(_value(sess, v), FULL)
            path2 = saver.save(sess, str(tmp_path / "two"), write_meta_graph=False)
    with tf.Graph().as_default():
        v = _embedding(1)
        with tf.Session() as sess:
            saver = tf.train.Saver()
            saver.restore(sess, path2)
            np.testing.assert_array_equal(sess.run(v), FULL)
            path1 = saver.save(sess, str(tmp_path / "one"), write_meta_graph=False)
    assert tensor_bundle.BundleReader(path1).entry("emb").slices == []
    whole, _ = _restore(path1, 3)
    np.testing.assert_array_equal(whole, FULL)


def test_saver_var_list_with_partitioned_variables(tmp_path):
    with tf.Graph().as_default():
        v = _embedding(3, tf.constant_initializer(0.0))
        other = tf.Variable(np.ones(2, np.float32), name="other")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(v.assign(FULL))
            listed = tf.train.Saver([v, other]).save(sess, str(tmp_path / "listed"),
                                                      write_meta_graph=False)
            renamed = tf.train.Saver({"table": v}).save(sess, str(tmp_path / "renamed"),
                                                         write_meta_graph=False)
    assert sorted(tf.train.NewCheckpointReader(listed).get_variable_to_shape_map()) == [
        "emb", "other"]
    assert tf.train.NewCheckpointReader(renamed).get_variable_to_shape_map() == {
        "table": [10, 4]}
    with tf.Graph().as_default():
        v2 = _embedding(2)
        with tf.Session() as sess:
            tf.train.Saver({"table": v2}).restore(sess, renamed)
            np.testing.assert_array_equal(_value(sess, v2), FULL)


def test_optimizer_slots_of_shards_restore_into_another_partitioning(tmp_path):
    ids = [0, 3, 9, 9]

    def build(shards):
        v = _embedding(shards, tf.constant_initializer(0.5))
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(v, ids, partition_strategy="div")))
        opt = tf.train.AdagradOptimizer(0.1)
        return v, opt, opt.minimize(loss)

    with tf.Graph().as_default():
        v, opt, train = build(3)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            accumulators = np.concatenate([sess.run(opt.get_slot(p, "accumulator"))
                                           for p in v])
            path = tf.train.Saver().save(sess, str(tmp_path / "m"), write_meta_graph=False)
    assert tf.train.NewCheckpointReader(path).get_variable_to_shape_map() == {
        "emb": [10, 4], "emb/Adagrad": [10, 4]}
    assert accumulators[[0, 3, 9]].min() > 0.1 and accumulators[5].max() == 0.1
    with tf.Graph().as_default():
        v, opt, train = build(2)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            restored = np.concatenate([sess.run(opt.get_slot(p, "accumulator")) for p in v])
    np.testing.assert_array_equal(restored, accumulators)


def test_sharded_save_of_shards_on_four_devices(tmp_path):
    count = [0]

    def per_cpu(op):
        if op.type == "VariableV2":
            count[0] += 1
            return f"/cpu:{count[0] - 1}"
        return op.device
    config = tf.ConfigProto(device_count={"CPU": 4})
    with tf.Graph().as_default():
        with tf.device(per_cpu):
            v = _embedding(4, tf.constant_initializer(0.0))
        assert [p.device for p in v] == [f"/device:CPU:{k}" for k in range(4)]
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(v.assign(FULL))
            path = tf.train.Saver(sharded=True).save(sess, str(tmp_path / "s"),
                                                     write_meta_graph=False)
    assert tensor_bundle.BundleReader(path).header.num_shards == 4
    whole, _ = _restore(path, 3)
    np.testing.assert_array_equal(whole, FULL)


def test_restoring_a_slice_reads_only_the_overlapping_saved_slices(tmp_path):
    path = _save(tmp_path / "m", 3)  # rows [0, 4) [4, 7) [7, 10)
    reader = tensor_bundle.BundleReader(path)
    last = [e for k, e in reader.raw_entries().items() if k.startswith(b"\0")][-1]
    data = tensor_bundle.data_filename(path, last.shard_id, reader.header.num_shards)
    with open(data, "r+b") as f:  # corrupt the third slice only
        f.seek(last.offset)
        byte = f.read(1)
        f.seek(last.offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    reader = tensor_bundle.BundleReader(path)
    first_half = reader.lookup_slice("emb", tensor_bundle.TensorSlice([(0, 5), (0, 4)]))
    np.testing.assert_array_equal(first_half, FULL[:5])
    middle = reader.lookup_slice("emb", tensor_bundle.TensorSlice([(3, 2), (1, 2)]))
    np.testing.assert_array_equal(middle, FULL[3:5, 1:3])
    with pytest.raises(errors.DataLossError, match="checksum"):
        reader.lookup_slice("emb", tensor_bundle.TensorSlice([(5, 5), (0, 4)]))


# ---- TensorFlow's own checkpoint of partitioned variables (tests/data/make_tf_goldens.py) -------
TF_PARTITIONED = tf_goldens.path("checkpoints", "tf_partitioned", "model-1")


def _tf_partitioned_variables(parts_of=None):
    """The variables of tf_partitioned/ (a 128-row `emb` and a 16384-row `big`, each split in
    two by TensorFlow, and a plain `global_step`), split here as `parts_of` says."""
    variables = {}
    for name, (full, parts) in tf_goldens.make.partitioned_values().items():
        parts = (parts_of or {}).get(name, parts)
        extra = {"partitioner": tf.fixed_size_partitioner(parts)} if parts and parts > 1 else {}
        variables[name] = tf.get_variable(name, full.shape, tf.as_dtype(full.dtype),
                                          initializer=tf.zeros_initializer(), **extra)
    return variables


def test_saver_writes_tensorflows_partitioned_checkpoint_byte_for_byte(tmp_path):
    with tf.Graph().as_default():
        variables = _tf_partitioned_variables()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for name, (full, _) in tf_goldens.make.partitioned_values().items():
                sess.run(variables[name].assign(full))
            path = tf.train.Saver(save_relative_paths=True).save(
                sess, str(tmp_path / "model"), global_step=1, write_meta_graph=False)
    for suffix in (".index", ".data-00000-of-00001"):
        with open(path + suffix, "rb") as f:
            assert f.read() == tf_goldens.read(TF_PARTITIONED + suffix), suffix
    reader = tensor_bundle.BundleReader(TF_PARTITIONED)
    assert [repr(s) for s in reader.entry("emb").slices] == ["0,64:0,3", "64,64:0,3"]
    assert [repr(s) for s in reader.entry("big").slices] == ["0,8192:0,1", "8192,8192:0,1"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), "model-1")


@pytest.mark.parametrize("parts_of", [None, {"emb": 3, "big": 5}, {"emb": 1, "big": 1}])
def test_restores_tensorflows_partitioned_checkpoint(parts_of):
    assert tf.train.latest_checkpoint(os.path.dirname(TF_PARTITIONED)) == TF_PARTITIONED
    with tf.Graph().as_default():
        variables = _tf_partitioned_variables(parts_of)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, TF_PARTITIONED)
            for name, (full, _) in tf_goldens.make.partitioned_values().items():
                got = _value(sess, variables[name])
                assert got.dtype == full.dtype and got.tobytes() == full.tobytes(), name
