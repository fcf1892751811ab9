"""SavedModels between tensorflux and a real TensorFlow 2.21 (skipped without it): TF's
tf.compat.v1.saved_model.loader.load and `saved_model_cli show --all` read what tensorflux
writes today, with the same outputs; tensorflux loads what TF's SavedModelBuilder writes today.

    PYTHONPATH=$PWD /work/peers/bin/python -m pytest tests/interop/test_saved_model_tensorflow.py
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

real_tf = pytest.importorskip("tensorflow")

import interop_models  # noqa: E402

import tensorflux as tf  # noqa: E402

pytestmark = [pytest.mark.tensorflow, pytest.mark.timeout(300)]

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "saved_model")
sys.path.insert(0, DATA)
import make_saved_models  # noqa: E402


def test_tensorflow_loads_our_saved_model_and_computes_the_same(tmp_path):
    export_dir = str(tmp_path / "tfx_mlp")
    x_value, ours = make_saved_models.write_tfx_mlp(export_dir)
    theirs = make_saved_models.run_in_tensorflow(export_dir, x_value)
    assert np.abs(theirs - ours).max() <= interop_models.TOLERANCE


def _ops_line_as_set(text):
    """The CLI prints the op set in Python's (hash-seeded) set order: compare it as a set."""
    def repl(match):
        return "{" + ", ".join(sorted(match.group(1).split(", "))) + "}"
    return re.sub(r"the following ops: \{(.*)\}", repl, text)


def test_saved_model_cli_shows_our_signatures_as_committed(tmp_path):
    export_dir = str(tmp_path / "tfx_mlp")
    make_saved_models.write_tfx_mlp(export_dir)
    shown = make_saved_models.saved_model_cli_show(export_dir)
    with open(os.path.join(DATA, "tfx_mlp_cli.txt")) as f:
        committed = f.read()
    assert "signature_def['serving_default']" in shown
    assert _ops_line_as_set(shown) == _ops_line_as_set(committed)


def test_saved_model_cli_runs_our_saved_model(tmp_path):
    export_dir = str(tmp_path / "tfx_mlp")
    x_value, ours = make_saved_models.write_tfx_mlp(export_dir)
    np.save(str(tmp_path / "x.npy"), x_value)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    out_dir = str(tmp_path / "out")
    subprocess.run([cli, "run", "--dir", export_dir, "--tag_set", "serve",
                    "--signature_def", "serving_default",
                    "--inputs", "x=" + str(tmp_path / "x.npy"), "--outdir", out_dir],
                   check=True, capture_output=True, env=dict(os.environ,
                                                             TF_CPP_MIN_LOG_LEVEL="3"))
    got = np.load(os.path.join(out_dir, "probs.npy"))
    assert np.abs(got - ours).max() <= interop_models.TOLERANCE


def test_we_load_the_saved_model_tensorflow_writes_now(tmp_path):
    make_saved_models.write_tf_half_plus_two(str(tmp_path))
    golden = np.load(str(tmp_path / "tf_half_plus_two.npz"), allow_pickle=True)
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], str(tmp_path / "tf_half_plus_two"))
        sig = meta.signature_def["serving_default"]
        got = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: golden["x"]})
        assert sess.run("vocab:0") == make_saved_models.VOCAB
    np.testing.assert_array_equal(got, golden["y"])
