"""tf.train.Saver and the checkpoint helpers: round trips, state file, retention, crashes, TF."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.lib.io import tensor_bundle
from tensorflux.training import checkpoint_state
from tensorflux.training import saver as saver_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF_GOLDEN_DIR = os.path.join(ROOT, "tests", "data", "checkpoints", "tf_saver")

VALUES = {
    "f32": np.array([[1.5, -0.0, np.inf], [np.nan, 1e-45, 3.4e38]], np.float32),
    "f64": np.array([np.pi, -np.e, 5e-324]),
    "i32": np.array([-2**31, 0, 2**31 - 1], np.int32),
    "i64": np.array([-2**63, 2**63 - 1], np.int64),
    "flag": np.array([True, False, True]),
    "text": np.array([b"hello", b"", b"\x00\xff", "\u00e9".encode()], dtype=object),
    "scalar": np.array(3.25, np.float32),
    "scope/large": np.arange(500_000, dtype=np.float64).reshape(500, 1000) / 7,
}


def _zeros_like(value):
    if value.dtype == object:
        return np.array([b"?"] * value.size, dtype=object).reshape(value.shape)
    return np.zeros_like(value)


def _make_variables(values=VALUES):
    return {name: tf.Variable(value, name=name) for name, value in values.items()}


def _assert_bit_identical(got, want, what):
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if want.dtype == object:
        assert list(got.reshape(-1)) == list(want.reshape(-1)), what
    else:
        assert got.tobytes() == want.tobytes(), what


def test_save_restore_bit_identical(tmp_path):
    variables = _make_variables()
    saver = tf.train.Saver() if hasattr(tf.train, "Saver") else saver_mod.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model"), global_step=7)
        assert path == str(tmp_path / "model-7")
        for v in variables.values():
            sess.run(v.assign(_zeros_like(np.asarray(VALUES[v.op.name]))))
        saver.restore(sess, path)
        for name, v in variables.items():
            _assert_bit_identical(sess.run(v), VALUES[name], name)
    names = sorted(os.listdir(tmp_path))
    assert names == ["checkpoint", "model-7.data-00000-of-00001", "model-7.index", "model-7.meta"]
    assert not any("tempstate" in n for n in names)


def test_restore_in_fresh_graph_and_session(tmp_path):
    _make_variables()
    saver = saver_mod.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        variables = {n: tf.Variable(_zeros_like(v), name=n) for n, v in VALUES.items()}
        restorer = saver_mod.Saver()
        with tf.Session() as sess:
            restorer.restore(sess, saver_mod.latest_checkpoint(str(tmp_path)))
            for name, v in variables.items():
                _assert_bit_identical(sess.run(v), VALUES[name], name)


def test_saver_def_names_like_tensorflow():
    tf.Variable(1.0, name="v")
    saver_def = saver_mod.Saver(max_to_keep=3).as_saver_def()
    assert saver_def.filename_tensor_name == "save/Const:0"
    assert saver_def.save_tensor_name == "save/control_dependency:0"
    assert saver_def.restore_op_name == "save/restore_all"
    assert saver_def.max_to_keep == 3
    assert saver_def.version == tf.MetaGraphDef().saver_def.V2
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("save/SaveV2").type == "SaveV2"
    assert graph.get_operation_by_name("save/RestoreV2").type == "RestoreV2"


def test_saver_def_drives_save_and_restore_ops(tmp_path):
    v = tf.Variable(np.array([1.0, 2.0]), name="v")
    saver_def = saver_mod.Saver().as_saver_def()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(saver_def.save_tensor_name, {saver_def.filename_tensor_name: str(tmp_path / "x")})
        sess.run(v.assign([0.0, 0.0]))
        second = saver_mod.Saver(saver_def=saver_def)
        second.restore(sess, str(tmp_path / "x"))
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_checkpoint_state_file_and_latest(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = saver_mod.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in (1, 2, 3):
            saver.save(sess, str(tmp_path / "model"), global_step=step)
    prefixes = [str(tmp_path / f"model-{s}") for s in (2, 3)]
    assert saver.last_checkpoints == prefixes
    state = saver_mod.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == prefixes[-1]
    assert state.all_model_checkpoint_paths == prefixes
    assert len(state.all_model_checkpoint_timestamps) == 2
    assert saver_mod.latest_checkpoint(str(tmp_path)) == prefixes[-1]
    assert not os.path.exists(str(tmp_path / "model-1.index"))
    assert not os.path.exists(str(tmp_path / "model-1.data-00000-of-00001"))
    assert not os.path.exists(str(tmp_path / "model-1.meta"))
    text = open(tmp_path / "checkpoint").read()
    assert text.startswith(f'model_checkpoint_path: "{prefixes[-1]}"\n')


def test_global_step_tensor_pad_and_latest_filename(tmp_path):
    v = tf.Variable(1.0, name="v")
    step = tf.Variable(12, name="global_step", trainable=False)
    saver = saver_mod.Saver(pad_step_number=True)
    with tf.Session() as sess:
        sess.run([v.initializer, step.initializer])
        path = saver.save(sess, str(tmp_path / "m"), global_step=step, latest_filename="mine",
                          write_meta_graph=False)
    assert path == str(tmp_path / "m-00000012")
    assert saver_mod.latest_checkpoint(str(tmp_path)) is None
    assert saver_mod.latest_checkpoint(str(tmp_path), "mine") == path
    assert not os.path.exists(path + ".meta")


def test_keep_checkpoint_every_n_hours(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = saver_mod.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=0.5 / 3600)
    with tf.Session() as sess:
        sess.run(v.initializer)
        time.sleep(0.6)  # m-1 is written after the first 0.5 s "hours" period: kept
        saver.save(sess, str(tmp_path / "m"), global_step=1, write_meta_graph=False)
        saver.save(sess, str(tmp_path / "m"), global_step=2, write_meta_graph=False)
        saver.save(sess, str(tmp_path / "m"), global_step=3, write_meta_graph=False)
    assert os.path.exists(str(tmp_path / "m-1.index")), "kept by keep_checkpoint_every_n_hours"
    assert not os.path.exists(str(tmp_path / "m-2.index"))
    assert saver.last_checkpoints == [str(tmp_path / "m-3")]


def test_max_to_keep_none_keeps_everything(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = saver_mod.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in range(4):
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert all(os.path.exists(str(tmp_path / f"m-{s}.index")) for s in range(4))


def test_set_and_recover_last_checkpoints(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = saver_mod.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        a = saver.save(sess, str(tmp_path / "a"), write_meta_graph=False)
    other = saver_mod.Saver()
    other.recover_last_checkpoints([a, str(tmp_path / "missing")])
    assert other.last_checkpoints == [a]
    other.set_last_checkpoints(["x", "y"])
    assert other.last_checkpoints == ["x", "y"]
    with pytest.raises(TypeError, match="last_checkpoints must be a list"):
        other.set_last_checkpoints("x")


def test_var_list_dict_renames_and_partial_restore(tmp_path):
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(5, name="b")
    saver = saver_mod.Saver({"layer/renamed": a, "b": b})
    with tf.Session() as sess:
        sess.run([a.initializer, b.initializer])
        path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    assert sorted(saver_mod.list_variables(path)) == [("b", []), ("layer/renamed", [2])]
    with tf.Graph().as_default():
        fresh = tf.Variable([0.0, 0.0], name="fresh")
        other = tf.Variable(9, name="other")
        with tf.Session() as sess:
            sess.run(other.initializer)
            saver_mod.Saver({"layer/renamed": fresh}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(fresh), [1.0, 2.0])
            assert sess.run(other) == 9


def test_var_list_list_and_duplicate_names():
    a = tf.Variable(1.0, name="a")
    saver = saver_mod.Saver([a])
    assert saver.as_saver_def().restore_op_name == "save/restore_all"
    with pytest.raises(ValueError, match="same name"):
        saver_mod.Saver([a, a])


def test_restore_errors(tmp_path):
    v = tf.Variable([1.0], name="v")
    w = tf.Variable([1.0, 2.0], name="w")
    with tf.Session() as sess:
        sess.run([v.initializer, w.initializer])
        path = saver_mod.Saver([v]).save(sess, str(tmp_path / "m"), write_meta_graph=False)
        with pytest.raises(errors.NotFoundError, match="Key w not found"):
            saver_mod.Saver([v, w]).restore(sess, path)
        with pytest.raises(errors.InvalidArgumentError,
                           match="Assign requires shapes of both tensors to match"):
            saver_mod.Saver({"v": w}).restore(sess, path)
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver_mod.Saver([v]).restore(sess, str(tmp_path / "nothing"))
        with pytest.raises(ValueError, match="None"):
            saver_mod.Saver([v]).restore(sess, None)


def test_reshape_restore(tmp_path):
    v = tf.Variable(np.arange(6.0).reshape(2, 3), name="v")
    with tf.Session() as sess:
        sess.run(v.initializer)
        path = saver_mod.Saver().save(sess, str(tmp_path / "m"), write_meta_graph=False)
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((3, 2)), name="v")
        with tf.Session() as sess:
            saver_mod.Saver(reshape=True).restore(sess, path)
            np.testing.assert_array_equal(sess.run(v), np.arange(6.0).reshape(3, 2))


def test_empty_saver():
    with pytest.raises(ValueError, match="No variables to save"):
        saver_mod.Saver()
    saver = saver_mod.Saver(allow_empty=True)
    with tf.Session() as sess:
        assert saver.save(sess, "/nonexistent-dir-ok/m") is None
        saver.restore(sess, "anything")


def test_defer_build():
    tf.Variable(1.0, name="v")
    saver = saver_mod.Saver(defer_build=True)
    assert saver.as_saver_def() is None
    saver.build()
    assert saver.as_saver_def().restore_op_name == "save/restore_all"


def test_sharded_save(tmp_path):
    variables = _make_variables({k: VALUES[k] for k in ("f32", "i64", "text")})
    saver = saver_mod.Saver(sharded=True)
    assert tf.get_default_graph().get_operation_by_name("save/MergeV2Checkpoints")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"), global_step=3, write_meta_graph=False)
        assert path == str(tmp_path / "m-3")
        for v in variables.values():
            sess.run(v.assign(_zeros_like(VALUES[v.op.name])))
        saver.restore(sess, path)
        for name, v in variables.items():
            _assert_bit_identical(sess.run(v), VALUES[name], name)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-3.data-00000-of-00001", "m-3.index"]


def test_relative_paths_in_state_file(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = saver_mod.Saver(save_relative_paths=True)
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, str(tmp_path / "m"), global_step=1, write_meta_graph=False)
    assert open(tmp_path / "checkpoint").readline() == 'model_checkpoint_path: "m-1"\n'
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    os.rename(tmp_path, moved)
    assert saver_mod.latest_checkpoint(str(moved)) == str(moved / "m-1")


def test_state_file_round_trip_and_bad_files(tmp_path):
    odd = 'dir/with "quote"\\and\nnewline'
    checkpoint_state.update_checkpoint_state(str(tmp_path), odd, ["old", odd],
                                             all_model_checkpoint_timestamps=[1.5, 2.25])
    state = checkpoint_state.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), odd)
    assert state.all_model_checkpoint_paths[0] == os.path.join(str(tmp_path), "old")
    assert state.all_model_checkpoint_timestamps == [1.5, 2.25]
    (tmp_path / "checkpoint").write_text("this is { not a state file")
    assert checkpoint_state.get_checkpoint_state(str(tmp_path)) is None
    assert checkpoint_state.get_checkpoint_state(str(tmp_path / "none")) is None
    with pytest.raises(RuntimeError, match="conflicts"):
        checkpoint_state.update_checkpoint_state(str(tmp_path), str(tmp_path / "checkpoint"))


def test_checkpoint_reader_and_helpers(tmp_path):
    _make_variables({k: VALUES[k] for k in ("f32", "text", "scalar")})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver_mod.Saver().save(sess, str(tmp_path / "m"), write_meta_graph=False)
    reader = saver_mod.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map() == {"f32": [2, 3], "text": [4], "scalar": []}
    assert reader.get_variable_to_dtype_map() == {"f32": tf.float32, "text": tf.string,
                                                  "scalar": tf.float32}
    assert reader.has_tensor("f32") and reader.has_tensor("f32:0") and not reader.has_tensor("x")
    assert reader.debug_string() == (b"f32 (DT_FLOAT) [2,3]\nscalar (DT_FLOAT) []\n"
                                     b"text (DT_STRING) [4]\n")
    _assert_bit_identical(saver_mod.load_variable(str(tmp_path), "f32"), VALUES["f32"], "f32")
    assert saver_mod.load_checkpoint(str(tmp_path)).has_tensor("text")
    with pytest.raises(errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    os.makedirs(tmp_path / "empty_dir")
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        saver_mod.load_checkpoint(str(tmp_path / "empty_dir"))


def test_restores_checkpoint_written_by_tensorflow():
    """tests/data/checkpoints/tf_saver was written by TF 2.21's tf.compat.v1.train.Saver."""
    w = tf.Variable(np.zeros((3, 4), np.float32), name="w")
    step = tf.Variable(np.array(0, np.int64), name="step")
    words = tf.Variable(np.array([b""] * 3, dtype=object), name="words")
    part = tf.Variable(np.zeros((10, 4)), name="part")
    with tf.Session() as sess:
        saver_mod.Saver([w, step, words, part]).restore(
            sess, saver_mod.latest_checkpoint(TF_GOLDEN_DIR))
        got = sess.run([w, step, words, part])
    _assert_bit_identical(got[0], np.arange(12, dtype=np.float32).reshape(3, 4) / 8, "w")
    assert got[1] == 42
    assert list(got[2]) == [b"alpha", b"", b"\xff\x00binary"]
    _assert_bit_identical(got[3], np.arange(40, dtype=np.float64).reshape(10, 4) - 3.5, "part")


# ---- crash in the middle of a save --------------------------------------------------------------
_CRASH_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import tensorflux as tf
    from tensorflux.training import saver as saver_mod
    directory, stage = sys.argv[1], sys.argv[2]
    v = tf.Variable(np.array([1.0, 2.0, 3.0]), name="v")
    saver = saver_mod.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, os.path.join(directory, "model"), global_step=1)
        sess.run(v.assign([7.0, 8.0, 9.0]))
        os.environ["TENSORFLUX_BUNDLE_CRASH_AFTER"] = stage
        saver.save(sess, os.path.join(directory, "model"), global_step=2)
    print("not reached")
""")


@pytest.mark.parametrize("stage", ["data", "index"])
def test_crash_mid_save_leaves_previous_checkpoint(tmp_path, stage):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop(tensor_bundle.CRASH_ENV, None)
    result = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(tmp_path), stage],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 17, result.stderr[-2000:]
    files = sorted(os.listdir(tmp_path))
    assert "model-2.data-00000-of-00001" in files
    assert ("model-2.index" in files) == (stage == "index")
    assert not any("tempstate" in f for f in files)
    latest = saver_mod.latest_checkpoint(str(tmp_path))
    assert latest == str(tmp_path / "model-1")
    v = tf.Variable(np.zeros(3), name="v")
    with tf.Session() as sess:
        saver_mod.Saver().restore(sess, latest)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])


# ---- several shards, meta graphs ----------------------------------------------------------------
def test_sharded_save_one_shard_per_device(tmp_path):
    with tf.device("/cpu:0"):
        a = tf.Variable([1.0, 2.0], name="a")
    with tf.device("/job:localhost/replica:0/task:0/device:CPU:0"):
        b = tf.Variable([3, 4], name="b")
    saver = saver_mod.Saver(sharded=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        sess.run([a.assign([0.0, 0.0]), b.assign([0, 0])])
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(b), [3, 4])
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m.data-00000-of-00002",
                                            "m.data-00001-of-00002", "m.index"]
    assert tensor_bundle.BundleReader(path).header.num_shards == 2


def test_meta_graph_written_with_saver_def_and_imported(tmp_path):
    # Another module's test may have cleared the factory this module registers on import.
    from tensorflux.framework import meta_graph
    meta_graph.register_saver_factory(saver_mod._saver_factory)
    tf.Variable(np.array([1.0, 2.0], np.float32), name="a")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver_mod.Saver().save(sess, str(tmp_path / "m"), global_step=5)
    meta = tf.MetaGraphDef.FromString(open(path + ".meta", "rb").read())
    assert meta.saver_def.restore_op_name == "save/restore_all"
    assert any(node.op == "SaveV2" for node in meta.graph_def.node)
    with tf.Graph().as_default():
        saver = saver_mod.import_meta_graph(path + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run("a:0"), [1.0, 2.0])


# ---- TensorFlow itself, when installed beside tensorflux ----------------------------------------
def _real_tf():
    real = pytest.importorskip("tensorflow")
    return real, real.compat.v1


@pytest.mark.tensorflow
def test_tensorflow_reads_our_checkpoints_bit_exactly(tmp_path):
    real, tf1 = _real_tf()
    _make_variables()
    with tf.device("/cpu:0"):
        tf.Variable(np.array([5, 6], np.int32), name="other_device")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        plain = saver_mod.Saver().save(sess, str(tmp_path / "plain"), write_meta_graph=False)
        sharded = saver_mod.Saver(sharded=True).save(sess, str(tmp_path / "sharded"),
                                                     write_meta_graph=False)
    for path in (plain, sharded):
        reader = real.train.load_checkpoint(path)
        for name, value in VALUES.items():
            _assert_bit_identical(reader.get_tensor(name), value, f"{path}:{name}")
    graph = tf1.Graph()
    with graph.as_default():
        tf_vars = {n: tf1.Variable(_zeros_like(v), name=n) for n, v in VALUES.items()}
        with tf1.Session(graph=graph) as sess:
            tf1.train.Saver(list(tf_vars.values())).restore(sess, plain)
            for name, v in tf_vars.items():
                _assert_bit_identical(sess.run(v), VALUES[name], f"tf Saver.restore {name}")


@pytest.mark.tensorflow
def test_we_restore_checkpoints_written_by_tensorflow(tmp_path):
    real, tf1 = _real_tf()
    graph = tf1.Graph()
    part_value = np.arange(40, dtype=np.float64).reshape(10, 4)
    with graph.as_default():
        for name, value in VALUES.items():
            tf1.Variable(value, name=name)
        tf1.get_variable("part", shape=[10, 4], dtype=real.float64,
                         partitioner=tf1.fixed_size_partitioner(3),
                         initializer=tf1.zeros_initializer())
        parts = graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)[-3:]
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            for p in parts:
                offset, rows = p._save_slice_info.var_offset[0], p._save_slice_info.var_shape[0]
                sess.run(p.assign(part_value[offset:offset + rows]))
            path = tf1.train.Saver().save(sess, str(tmp_path / "tf_model"), global_step=3)
    variables = {n: tf.Variable(_zeros_like(v), name=n) for n, v in VALUES.items()}
    part = tf.Variable(np.zeros((10, 4)), name="part")
    with tf.Session() as sess:
        latest = saver_mod.latest_checkpoint(str(tmp_path))
        assert latest == path
        saver_mod.Saver(list(variables.values()) + [part]).restore(sess, latest)
        for name, v in variables.items():
            _assert_bit_identical(sess.run(v), VALUES[name], name)
        _assert_bit_identical(sess.run(part), part_value, "part")


class _SliceInfo:
    """The fields of TF's Variable.SaveSliceInfo that the Saver reads."""

    def __init__(self, full_name, full_shape, var_offset, var_shape):
        self.full_name, self.full_shape = full_name, full_shape
        self.var_offset, self.var_shape = var_offset, var_shape


def test_partitioned_variable_slices(tmp_path):
    full = np.arange(20, dtype=np.float32).reshape(5, 4)
    parts = []
    for i, (start, rows) in enumerate([(0, 3), (3, 2)]):
        v = tf.Variable(full[start:start + rows], name=f"emb/part_{i}")
        v._save_slice_info = _SliceInfo("emb", [5, 4], [start, 0], [rows, 4])
        parts.append(v)
    saver = saver_mod.Saver(parts)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        sess.run([parts[0].assign(np.zeros((3, 4), np.float32)),
                  parts[1].assign(np.zeros((2, 4), np.float32))])
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(parts[0]), full[:3])
        np.testing.assert_array_equal(sess.run(parts[1]), full[3:])
    reader = saver_mod.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map() == {"emb": [5, 4]}
    _assert_bit_identical(reader.get_tensor("emb"), full, "emb")
    with tf.Graph().as_default():
        whole = tf.Variable(np.zeros((5, 4), np.float32), name="whole")
        with tf.Session() as sess:
            saver_mod.Saver({"emb": whole}).restore(sess, path)
            _assert_bit_identical(sess.run(whole), full, "whole")
