"""FileWriter: what TensorBoard's own loader and server read back from a small training run."""
import os

import numpy as np
import pytest
import tensorboard_server
from tensorboard.backend.event_processing import event_accumulator

import tensorflux as tf
from tensorflux import summary as tf_summary
from tensorflux.framework import protos
from tensorflux.lib import png
from tensorflux.ops import summary_ops
from tensorflux.summary.writer import FileWriter, FileWriterCache, SummaryWriter

STEPS = 6


def _run_metadata():
    """A traced step as the runtime would report it (built by hand until it does)."""
    metadata = protos.RunMetadata()
    device = metadata.step_stats.dev_stats.add(device="/job:localhost/replica:0/task:0/cpu:0")
    node = device.node_stats.add(node_name="hidden/MatMul", all_start_micros=100,
                                 all_end_rel_micros=25)
    node.memory.add(allocator_name="cpu", total_bytes=4096)
    output = node.output.add(slot=0)
    output.tensor_description.dtype = tf.float32.as_datatype_enum
    output.tensor_description.shape.dim.add(size=8)
    return metadata


def _train(logdir):
    """Mechanics-101 in miniature: a linear layer trained by gradient descent, summarized."""
    rng = np.random.default_rng(0)
    x_data = rng.standard_normal((8, 3)).astype(np.float32)
    y_data = x_data @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("hidden"):
            w = tf.Variable(np.zeros((3, 1), np.float32), name="weights")
            prediction = tf.matmul(x, w)
        loss = tf.reduce_sum(tf.square(prediction - y_data), name="loss")
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        summary_ops.scalar_summary("loss", loss)
        tf_summary.histogram("weights", w)
        tf_summary.image("inputs", tf.reshape(x[:2], [2, 1, 3, 1]), max_outputs=2)
        tf_summary.text("note", tf.constant("training *well*"))
        merged = tf_summary.merge_all()
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        writer = FileWriter(logdir, sess.graph)
        losses = []
        for step in range(STEPS):
            summary, loss_value, _ = sess.run([merged, loss, train], {x: x_data})
            writer.add_summary(summary, step)
            losses.append(float(loss_value))
        writer.add_run_metadata(_run_metadata(), "step3", 3)
        writer.add_session_log(protos.SessionLog(status=protos.SessionLog.START), STEPS)
        writer.close()
    return losses, graph


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("run"))
    losses, graph = _train(logdir)
    accumulator = event_accumulator.EventAccumulator(logdir, size_guidance={
        event_accumulator.IMAGES: 0, event_accumulator.HISTOGRAMS: 0,
        event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return logdir, losses, graph, accumulator


def test_tensorboard_reads_scalars(trained):
    _, losses, _, acc = trained
    events = acc.Scalars("loss")
    assert [e.step for e in events] == list(range(STEPS))
    np.testing.assert_allclose([e.value for e in events], losses, rtol=1e-6)
    assert losses[-1] < losses[0]


def test_tensorboard_reads_histograms(trained):
    acc = trained[3]
    histograms = acc.Histograms("weights")
    assert len(histograms) == STEPS
    histo = histograms[-1].histogram_value
    assert histo.num == 3 and sum(histo.bucket) == 3


def test_tensorboard_reads_images(trained):
    acc = trained[3]
    assert set(acc.Tags()["images"]) == {"inputs/image/0", "inputs/image/1"}
    image = acc.Images("inputs/image/0")[0]
    assert (image.height, image.width) == (1, 3)
    assert png.decode(image.encoded_image_string).shape == (1, 3, 1)


def test_tensorboard_reads_text_tensors(trained):
    acc = trained[3]
    assert "note" in acc.Tags()["tensors"]
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"


def test_tensorboard_reads_graph_with_devices_and_shapes(trained):
    _, _, graph, acc = trained
    assert acc.Tags()["graph"]
    graph_def = acc.Graph()
    names = {node.name for node in graph_def.node}
    assert {"x", "hidden/weights", "hidden/MatMul", "loss"} <= names
    matmul = next(n for n in graph_def.node if n.name == "hidden/MatMul")
    shape = matmul.attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [-1, 1]
    assert len(graph_def.node) == len(graph.get_operations())


def test_tensorboard_reads_run_metadata(trained):
    acc = trained[3]
    assert acc.Tags()["run_metadata"] == ["step3"]
    stats = acc.RunMetadata("step3").step_stats.dev_stats[0]
    assert stats.node_stats[0].node_name == "hidden/MatMul"
    assert stats.node_stats[0].memory[0].total_bytes == 4096


def test_session_log_and_event_order(trained):
    logdir = trained[0]
    files = [f for f in os.listdir(logdir) if "tfevents" in f]
    events = list(tf_summary.summary_iterator(os.path.join(logdir, files[0])))
    assert events[0].file_version == "brain.Event:2"
    assert events[1].HasField("graph_def")
    assert events[-1].session_log.status == protos.SessionLog.START
    assert events[-1].step == STEPS


def test_plugin_metadata_is_written_once_per_tag(trained):
    logdir = trained[0]
    path = os.path.join(logdir, [f for f in os.listdir(logdir) if "tfevents" in f][0])
    with_metadata = [v for e in tf_summary.summary_iterator(path) for v in e.summary.value
                     if v.tag == "note" and v.HasField("metadata")]
    assert len(with_metadata) == 1


def test_add_summary_accepts_protos_bytes_and_refuses_others(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    value = protos.Summary.Value(tag="a", simple_value=1.0)
    writer.add_summary(protos.Summary(value=[value]), 1)
    writer.add_summary(protos.Summary(value=[value]).SerializeToString(), 2)
    with pytest.raises(TypeError, match="Summary proto or its serialized bytes"):
        writer.add_summary(3.0)
    with pytest.raises(ValueError, match="already in use"):
        writer.add_run_metadata(protos.RunMetadata(), "t")
        writer.add_run_metadata(protos.RunMetadata(), "t")
    writer.flush()
    assert writer.get_logdir() == str(tmp_path)
    writer.close()
    writer.reopen()
    writer.add_summary(protos.Summary(value=[value]), 3)
    writer.close()
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [e.step for e in acc.Scalars("a")] == [1, 2, 3]


def test_file_writer_cache(tmp_path):
    first = FileWriterCache.get(str(tmp_path / "a"))
    assert FileWriterCache.get(str(tmp_path / "a")) is first
    assert FileWriterCache.get(str(tmp_path / "b")) is not first
    FileWriterCache.clear()
    assert FileWriterCache.get(str(tmp_path / "a")) is not first
    FileWriterCache.clear()


def test_real_tensorboard_server_serves_the_scalars(trained):
    logdir, losses = trained[0], trained[1]
    series = tensorboard_server.scalar_series(logdir, "loss", STEPS)
    assert [step for _, step, _ in series] == list(range(STEPS))
    np.testing.assert_allclose([value for _, _, value in series], losses, rtol=1e-6)
