"""What writes and reads files goes through gfile: the same checks on a local path, a `file://`
URL and fsspec's `memory://` filesystem (checkpoints, summaries, TFRecords, reader queues)."""
import uuid

import fsspec
import fsspec.implementations.memory
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

import tensorflux as tf
from tensorflux.platform import gfile

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["local", "file", "memory"])
def base(request, tmp_path):
    if request.param == "memory":
        path = "/users" + uuid.uuid4().hex
        yield "memory://" + path.lstrip("/")
        fsspec.filesystem("memory").rm(path, recursive=True)
        return
    yield ("file://" if request.param == "file" else "") + str(tmp_path / "run")


def test_saver_keeps_max_to_keep_and_restores(base):
    v = tf.Variable(np.arange(4, dtype=np.float32), name="v")
    step = tf.assign_add(v, tf.ones([4]))
    saver = tf.train.Saver(max_to_keep=2)
    gfile.MakeDirs(base)
    prefix = base + "/model.ckpt"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(3):
            sess.run(step)
            saver.save(sess, prefix, global_step=i)
        assert tf.train.latest_checkpoint(base) == prefix + "-2"
        assert not gfile.Exists(prefix + "-0.index")  # deleted: max_to_keep=2
        assert gfile.Exists(prefix + "-1.index") and gfile.Exists(prefix + "-2.meta")
        state = tf.train.get_checkpoint_state(base)
        assert list(state.all_model_checkpoint_paths) == [prefix + "-1", prefix + "-2"]
        sess.run(v.assign(np.zeros(4, np.float32)))
        saver.restore(sess, prefix + "-1")
        np.testing.assert_array_equal(sess.run(v), np.arange(4) + 2)
    assert dict(tf.train.list_variables(prefix + "-2")) == {"v": [4]}
    assert not [n for n in gfile.ListDirectory(base) if n.endswith(".tmp")]


def test_summaries_are_read_back_by_tensorboard(base, tmp_path):
    x = tf.placeholder(tf.float32, [])
    summary = tf.summary.scalar("loss", x)
    writer = tf.summary.FileWriter(base, tf.get_default_graph())
    with tf.Session() as sess:
        for step, value in enumerate([3.0, 2.0, 1.5]):
            writer.add_summary(sess.run(summary, {x: value}), step)
    writer.close()
    names = gfile.ListDirectory(base)
    assert len(names) == 1 and names[0].startswith("events.out.tfevents."), names
    local = tmp_path / "copied"  # TensorBoard's own loader reads local files
    local.mkdir()
    gfile.Copy(base + "/" + names[0], str(local / names[0]))
    acc = event_accumulator.EventAccumulator(str(local))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 3.0), (1, 2.0), (2, 1.5)]
    assert acc.Graph() is not None


@pytest.mark.parametrize("compression", [None, "GZIP"])
def test_tfrecord_round_trip_and_reader_queue(base, compression):
    gfile.MakeDirs(base)
    path = base + "/data.tfrecord"
    kind = getattr(tf.python_io.TFRecordCompressionType, compression or "NONE")
    options = tf.python_io.TFRecordOptions(kind)
    records = [b"first", b"", b"x" * 1000]
    with tf.python_io.TFRecordWriter(path, options) as writer:
        for r in records:
            writer.write(r)
    assert list(tf.python_io.tf_record_iterator(path, options)) == records
    files = tf.train.match_filenames_once(base + "/*.tfrecord")
    queue = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
    _, value = tf.TFRecordReader(options=options).read(queue)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert [sess.run(value) for _ in records] == records
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(value)
        coord.request_stop()
        coord.join(threads)


def test_unknown_scheme_is_unimplemented():
    with pytest.raises(tf.errors.UnimplementedError, match="nosuchfs"):
        gfile.Exists("nosuchfs://bucket/x")


class _NoAppendFileSystem(fsspec.implementations.memory.MemoryFileSystem):
    """memory:// without appends, like GCS and S3."""
    protocol = "noappend"

    def _open(self, path, mode="rb", **kwargs):
        if "a" in mode:
            raise NotImplementedError("no appends on this store")
        return super()._open(path, mode, **kwargs)


def test_event_files_on_a_store_without_appends(tmp_path):
    fsspec.register_implementation("noappend", _NoAppendFileSystem, clobber=True)
    base = "noappend://events" + uuid.uuid4().hex
    x = tf.placeholder(tf.float32, [])
    summary = tf.summary.scalar("loss", x)
    writer = tf.summary.FileWriter(base)
    try:
        with tf.Session() as sess:
            writer.add_summary(sess.run(summary, {x: 1.0}), 1)
            writer.flush()  # uploaded whole: readable before close
            (name,) = gfile.ListDirectory(base)
            gfile.Copy(base + "/" + name, str(tmp_path / name))
            acc = event_accumulator.EventAccumulator(str(tmp_path))
            acc.Reload()
            assert [e.step for e in acc.Scalars("loss")] == [1]
            writer.add_summary(sess.run(summary, {x: 0.5}), 2)
    finally:
        writer.close()
        gfile.Copy(base + "/" + name, str(tmp_path / name), overwrite=True)
        gfile.DeleteRecursively(base)
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 1.0), (2, 0.5)]
