"""Saver(write_version=V1): TF 0.9's checkpoint format, written and read, single file and
`-?????-of-N` shards; V1 checkpoints TensorFlow wrote restore through any Saver."""
import os
import shutil

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(120)
V1 = tf.train.SaverDef.V1
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "checkpoints")
VALUES = {"w": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
          "n": np.array([7, -8], np.int64), "s": np.array(0.125, np.float64)}


def _variables(device_of_n="/cpu:0"):
    made = {name: tf.Variable(value, name=name) for name, value in VALUES.items()
            if name != "n"}
    with tf.device(device_of_n):
        made["n"] = tf.Variable(VALUES["n"], name="n")
    return made


def _assert_values(sess, made):
    for name, var in made.items():
        got = sess.run(var)
        assert got.dtype == VALUES[name].dtype
        np.testing.assert_array_equal(got, VALUES[name], err_msg=name)


def _zero(sess, made):
    sess.run([v.assign(np.zeros_like(VALUES[n])) for n, v in made.items()])


def test_v1_saver_builds_tf09_ops_and_round_trips(tmp_path):
    made = _variables()
    saver = tf.train.Saver(write_version=V1)
    assert saver.as_saver_def().version == V1
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"SaveSlices", "RestoreSlice"} <= types and "SaveV2" not in types
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=5)
        assert path == str(tmp_path / "model.ckpt-5") and os.path.isfile(path)
        assert not os.path.exists(path + ".index")
        _zero(sess, made)
        saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        _assert_values(sess, made)
        _zero(sess, made)
        tf.train.Saver().restore(sess, path)  # a V2 Saver reads V1 (RestoreV2 falls back)
        _assert_values(sess, made)
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map() == {"w": [2, 3], "n": [2], "s": []}


def test_sharded_v1_checkpoint_is_a_pattern_of_shards(tmp_path):
    made = _variables()
    saver = tf.train.Saver(write_version=V1, sharded=True, max_to_keep=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = saver.save(sess, str(tmp_path / "m"), global_step=1)
        assert first == str(tmp_path / "m-1-?????-of-00002")
        assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-1-00000-of-00002",
                                                "m-1-00001-of-00002", "m-1.meta"]
        assert tf.train.checkpoint_exists(first)
        second = saver.save(sess, str(tmp_path / "m"), global_step=2)
        assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-2-00000-of-00002",
                                                "m-2-00001-of-00002", "m-2.meta"]
        assert tf.train.latest_checkpoint(str(tmp_path)) == second
        _zero(sess, made)
        saver.restore(sess, second)
        _assert_values(sess, made)


def test_tensorflow_written_v1_checkpoints_restore(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "golden", os.path.join(DATA_DIR, "make_tf_v1_golden.py"))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    for folder in ("tf_v1", "tf_v1_sharded"):
        shutil.copytree(os.path.join(DATA_DIR, folder), tmp_path / folder)
    with tf.Graph().as_default():
        made = {n: tf.Variable(np.zeros_like(v), name=n)
                for n, v in golden.v1_values().items() if n != "names"}
        part = tf.Variable(np.zeros((5, 2), np.float32), name="part")
        for folder in ("tf_v1", "tf_v1_sharded"):
            path = tf.train.latest_checkpoint(str(tmp_path / folder))
            for saver in (tf.train.Saver(list(made.values()) + [part], write_version=V1),
                          tf.train.Saver(list(made.values()) + [part])):
                with tf.Session() as sess:
                    saver.restore(sess, path)
                    for n, v in made.items():
                        np.testing.assert_array_equal(sess.run(v), golden.v1_values()[n])
                    np.testing.assert_array_equal(sess.run(part), golden.partitioned_value())


# ---- TensorFlow itself, when installed beside tensorflux ----------------------------------------
def _real_tf():
    real = pytest.importorskip("tensorflow")
    return real, real.compat.v1


@pytest.mark.tensorflow
def test_tensorflow_reads_our_v1_checkpoints(tmp_path):
    real, tf1 = _real_tf()
    _variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        plain = tf.train.Saver(write_version=V1).save(sess, str(tmp_path / "plain"),
                                                      write_meta_graph=False)
        sharded = tf.train.Saver(write_version=V1, sharded=True).save(
            sess, str(tmp_path / "sharded"), write_meta_graph=False)
    for path in (plain, sharded):
        reader = tf1.train.NewCheckpointReader(path)
        for name, value in VALUES.items():
            got = reader.get_tensor(name)
            assert got.dtype == value.dtype
            np.testing.assert_array_equal(got, value, err_msg=f"{path}:{name}")
        graph = tf1.Graph()
        with graph.as_default():
            tf_vars = {n: tf1.Variable(np.zeros_like(v), name=n) for n, v in VALUES.items()}
            with tf1.Session(graph=graph) as sess:
                tf1.train.Saver(list(tf_vars.values())).restore(sess, path)
                for name, var in tf_vars.items():
                    np.testing.assert_array_equal(sess.run(var), VALUES[name])


def test_v1_saver_refuses_a_slice_too_large_to_serialize_as_tf(tmp_path, monkeypatch):
    from tensorflux.lib.io import tensor_slice_v1
    # TF's bound is 2 GB (one protobuf message per slice); 1000 float32 values take at most
    # 5000 bytes, so a 4000-byte limit stands in for it without allocating 2 GB.
    monkeypatch.setattr(tensor_slice_v1, "MAX_MESSAGE_BYTES", 4000)
    small = tf.Variable(np.ones(10, np.float32), name="small")
    tf.Variable(np.ones([10, 100], np.float32), name="big")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = str(tmp_path / "model.ckpt")
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"^Tensor slice is too large to serialize \(conservative "
                                 r"estimate: \d+ bytes\): tensor big of dtype float32"):
            tf.train.Saver(write_version=V1).save(sess, path)
        assert os.listdir(tmp_path) == []  # nothing written, not even a partial file
        tf.train.Saver([small], write_version=V1).save(sess, path)  # under the limit
        assert tf.train.NewCheckpointReader(path).get_variable_to_shape_map() == {"small": [10]}
        v2_path = tf.train.Saver().save(sess, str(tmp_path / "v2" / "model.ckpt"))  # no limit
        reader = tf.train.NewCheckpointReader(v2_path)
        np.testing.assert_array_equal(reader.get_tensor("big"), np.ones([10, 100], np.float32))


def test_v1_size_bound_counts_string_bytes(monkeypatch):
    from tensorflux.lib.io import tensor_slice_v1
    monkeypatch.setattr(tensor_slice_v1, "MAX_MESSAGE_BYTES", 4000)
    writer = tensor_slice_v1.V1Writer("/nonexistent/never_written")
    writer.add("short", np.array([b"x" * 100] * 10, dtype=object), tf.string)
    with pytest.raises(tf.errors.InvalidArgumentError, match="tensor long of dtype string"):
        writer.add("long", np.array([b"x" * 1000] * 4, dtype=object), tf.string)
