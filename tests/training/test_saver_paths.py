"""Saver paths as TensorFlow: the checkpoint's folder is created; relative save paths round-trip
through the `checkpoint` state file (char-rnn-tensorflow's save-then-sample pattern)."""
import os

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.training import checkpoint_state

pytestmark = pytest.mark.timeout(60)


def _save(path, **kwargs):
    v = tf.Variable([1.5, -2.0], name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        return saver, saver.save(sess, path, **kwargs)


def test_save_creates_missing_folders(tmp_path):
    target = tmp_path / "new_dir" / "deeper" / "model.ckpt"
    _, prefix = _save(str(target))
    assert prefix == str(target)
    assert tf.train.checkpoint_exists(prefix)
    assert tf.train.latest_checkpoint(str(target.parent)) == str(target)


def test_relative_save_path_is_stored_relative_to_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, prefix = _save("save/model.ckpt", global_step=199)
    assert prefix == "save/model.ckpt-199"
    with open(os.path.join("save", "checkpoint")) as f:
        text = f.read()
    assert 'model_checkpoint_path: "model.ckpt-199"' in text
    assert "save/model.ckpt" not in text
    state = tf.train.get_checkpoint_state("save")
    assert state.model_checkpoint_path == "save/model.ckpt-199"
    assert state.all_model_checkpoint_paths == ["save/model.ckpt-199"]
    with tf.Graph().as_default():
        v = tf.Variable([0.0, 0.0], name="v")
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, state.model_checkpoint_path)
            np.testing.assert_array_equal(sess.run(v), [1.5, -2.0])


def test_absolute_paths_stay_absolute(tmp_path):
    _, prefix = _save(str(tmp_path / "abs" / "model.ckpt"), global_step=3)
    with open(tmp_path / "abs" / "checkpoint") as f:
        assert f'model_checkpoint_path: "{prefix}"' in f.read()
    assert tf.train.get_checkpoint_state(str(tmp_path / "abs")).model_checkpoint_path == prefix


def test_generate_proto_rewrites_only_relative_paths_under_a_relative_dir():
    state = checkpoint_state.generate_checkpoint_state_proto(
        "run/ckpt", "run/ckpt/m-2", ["run/ckpt/m-1", "/abs/m-0"])
    assert state.model_checkpoint_path == "m-2"
    assert state.all_model_checkpoint_paths == ["m-1", "/abs/m-0", "m-2"]
    same = checkpoint_state.generate_checkpoint_state_proto("/abs", "/abs/m-1")
    assert same.model_checkpoint_path == "/abs/m-1"
