"""TensorFlow Mechanics 101 (examples/fully_connected_feed.py + mnist.py) learns, checkpoints
and writes event files that TensorBoard's own loader reads: scalars, histograms, images, the
graph and the run metadata of a traced step (issue 4, acceptance 3).

Small configuration: 300 steps of batch 100 at learning rate 0.1 on the digits stand-in
(about 3 s on 2 cores).
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorboard_server

import tensorflux as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "fully_connected_feed.py")
STEPS, SUMMARY_EVERY, TRACE_STEP, CHECKPOINT_EVERY = 300, 50, 50, 150

# Stated margins: the loss falls to under 40% of its first value, and test precision beats
# chance (0.1 for ten classes) by at least 0.7.
LOSS_RATIO = 0.4
ACCURACY_OVER_CHANCE = 0.7


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fully_connected_feed")
    log_dir = tmp / "logs"
    proc = subprocess.run(
        [sys.executable, EXAMPLE, f"--max_steps={STEPS}", "--learning_rate=0.1",
         f"--summary_every={SUMMARY_EVERY}", f"--trace_step={TRACE_STEP}",
         f"--checkpoint_every={CHECKPOINT_EVERY}", "--detailed_summaries",
         f"--input_data_dir={tmp / 'data'}", f"--log_dir={log_dir}"],
        capture_output=True, text=True, check=False, timeout=120, cwd=str(tmp))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, str(log_dir)


def _losses(stdout):
    return [float(v) for v in re.findall(r"^Step \d+: loss = ([0-9.]+)", stdout, re.MULTILINE)]


def _precisions(stdout):
    """{"Train": [...], "Validation": [...], "Test": [...]} in evaluation order."""
    found = re.findall(r"^(\w+) Data Eval:\n.*Precision @ 1: ([0-9.]+)", stdout, re.MULTILINE)
    result = {}
    for name, value in found:
        result.setdefault(name, []).append(float(value))
    return result


def test_loss_falls(run):
    losses = _losses(run[0])
    assert len(losses) == STEPS // SUMMARY_EVERY, run[0]
    assert losses[0] > 1.5, losses  # starts near log(10) = 2.30
    assert losses[-1] < LOSS_RATIO * losses[0], losses


def test_evaluates_on_all_three_sets_at_each_checkpoint(run):
    precisions = _precisions(run[0])
    assert sorted(precisions) == ["Test", "Train", "Validation"], run[0]
    assert all(len(v) == STEPS // CHECKPOINT_EVERY for v in precisions.values()), precisions
    assert precisions["Test"][-1] >= 0.1 + ACCURACY_OVER_CHANCE, precisions
    assert precisions["Train"][-1] >= 0.1 + ACCURACY_OVER_CHANCE, precisions


def test_checkpoints_every_n_steps_and_restore(run):
    log_dir = run[1]
    latest = tf.train.latest_checkpoint(log_dir)
    assert latest == os.path.join(log_dir, f"model.ckpt-{STEPS - 1}")
    state = tf.train.get_checkpoint_state(log_dir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        f"model.ckpt-{CHECKPOINT_EVERY - 1}", f"model.ckpt-{STEPS - 1}"]
    reader = tf.train.NewCheckpointReader(latest)
    assert reader.get_tensor("global_step") == STEPS
    assert reader.get_tensor("hidden1/weights").shape == (784, 128)
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(latest + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, latest)
            weights = sess.run("softmax_linear/weights:0")
    np.testing.assert_array_equal(weights, reader.get_tensor("softmax_linear/weights"))


def _accumulator(log_dir):
    from tensorboard.backend.event_processing import event_accumulator as ea
    acc = ea.EventAccumulator(log_dir, size_guidance={
        ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.GRAPH: 1, ea.RUN_METADATA: 0})
    acc.Reload()
    return acc


def test_tensorboard_reads_scalars_histograms_images(run):
    acc = _accumulator(run[1])
    tags = acc.Tags()
    loss_events = acc.Scalars("loss")
    assert [e.step for e in loss_events] == list(range(0, STEPS, SUMMARY_EVERY))
    assert loss_events[-1].value < LOSS_RATIO * loss_events[0].value
    histogram_tags = tags["histograms"]
    for layer in ("hidden1", "hidden2", "softmax_linear"):
        for var in ("weights", "biases"):
            assert any(t.startswith(f"{layer}/{var}") for t in histogram_tags), tags
    weights = next(t for t in histogram_tags if t.startswith("hidden1/weights"))
    histogram = acc.Histograms(weights)[-1].histogram_value
    assert histogram.num == 784 * 128 and histogram.min < 0 < histogram.max
    assert tags["images"], tags
    image = acc.Images(tags["images"][0])[0]
    assert (image.width, image.height) == (28, 28)
    assert image.encoded_image_string.startswith(b"\x89PNG")


def test_real_tensorboard_server_serves_the_loss(run):
    """The real `tensorboard` server, on 127.0.0.1 against this log dir, serves the loss."""
    series = tensorboard_server.scalar_series(run[1], "loss", STEPS // SUMMARY_EVERY)
    assert [step for _, step, _ in series] == list(range(0, STEPS, SUMMARY_EVERY))
    written = [e.value for e in _accumulator(run[1]).Scalars("loss")]
    np.testing.assert_allclose([value for _, _, value in series], written, rtol=1e-6)


def test_tensorboard_reads_graph_and_run_metadata(run):
    acc = _accumulator(run[1])
    tags = acc.Tags()
    assert tags["graph"] is True
    node_names = {node.name for node in acc.Graph().node}
    assert {"hidden1/weights", "xentropy_mean", "global_step"} <= node_names
    assert tags["run_metadata"] == [f"step{TRACE_STEP}"]
    step_stats = acc.RunMetadata(f"step{TRACE_STEP}").step_stats
    traced = {s.node_name for dev in step_stats.dev_stats for s in dev.node_stats}
    assert "xentropy_mean" in traced and "hidden1/weights" in traced
