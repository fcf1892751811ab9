"""Input producers and batchers, and the cifar10-style reader pipeline (issue 5, acceptance 3)."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import parsing_ops, reader_ops
from tensorflux.training import input as inp
from tensorflux.training import queue_runner
from tensorflux.training.coordinator import Coordinator

pytestmark = pytest.mark.timeout(60)

LABEL_BYTES, HEIGHT, WIDTH, DEPTH = 1, 8, 8, 3
RECORD_BYTES = LABEL_BYTES + HEIGHT * WIDTH * DEPTH


def _drain(sess, tensors, limit=1000):
    """Runs `tensors` until OutOfRangeError; returns the values."""
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(tensors))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError(f"no OutOfRangeError after {limit} runs")


def _run_pipeline(build, drain=True):
    """Builds, starts the runners, drains (or hands over), stops cleanly; returns values."""
    tensors = build()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = Coordinator()
        threads = queue_runner.start_queue_runners(sess, coord=coord)
        try:
            values = _drain(sess, tensors) if drain else [sess.run(tensors) for _ in range(3)]
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
    return values


# ---- producers ----------------------------------------------------------------------------------
def test_string_input_producer_epochs_and_shuffle():
    names = [b"a", b"b", b"c"]
    got = _run_pipeline(lambda: inp.string_input_producer(names, num_epochs=2,
                                                          shuffle=False).dequeue())
    assert got == names * 2
    got = _run_pipeline(lambda: inp.string_input_producer(names, num_epochs=3, seed=1)
                        .dequeue())
    assert sorted(got) == sorted(names * 3)
    with pytest.raises(ValueError, match="non-null"):
        inp.string_input_producer([])


def test_range_and_slice_input_producers():
    got = _run_pipeline(lambda: inp.range_input_producer(4, num_epochs=1,
                                                         shuffle=False).dequeue())
    assert got == [0, 1, 2, 3]
    images = np.arange(10, dtype=np.float32).reshape(5, 2)
    labels = np.arange(5, dtype=np.int32) * 10
    got = _run_pipeline(lambda: inp.slice_input_producer([images, labels], num_epochs=2,
                                                         seed=3))
    assert len(got) == 10
    for image, label in got:
        assert label == image[0] * 5  # rows stay paired
    assert sorted(int(l) for _, l in got) == sorted(labels.tolist() * 2)


def test_limit_epochs_uses_a_local_counter():
    tensor = inp.limit_epochs(tf.constant(1), num_epochs=2)
    (epochs,) = tf.get_collection(tf.GraphKeys.LOCAL_VARIABLES)
    assert epochs.op.name.endswith("epochs") and not tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert [sess.run(tensor), sess.run(tensor)] == [1, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(tensor)
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        inp.limit_epochs(tf.constant(1), 0)


# ---- batchers -----------------------------------------------------------------------------------
def _counting_source(n):
    return inp.range_input_producer(n, num_epochs=1, shuffle=False).dequeue()


def test_batch_with_threads_and_a_smaller_final_batch():
    def build():
        x = _counting_source(10)
        return inp.batch([x, x * 2], batch_size=4, num_threads=3,
                         allow_smaller_final_batch=True)
    got = _run_pipeline(build)
    xs = np.concatenate([b[0] for b in got])
    assert sorted(xs.tolist()) == list(range(10)) and [len(b[0]) for b in got][-1] == 2
    assert all((b[1] == 2 * b[0]).all() for b in got)


def test_batch_static_shapes_dicts_and_single_tensors():
    x = tf.zeros([3, 2])
    single = inp.batch([x], batch_size=5)
    assert isinstance(single, tf.Tensor) and single.get_shape().as_list() == [5, 3, 2]
    mapping = inp.batch({"a": x, "b": tf.constant(1)}, batch_size=5)
    assert sorted(mapping) == ["a", "b"] and mapping["b"].get_shape().as_list() == [5]
    many = inp.batch([x], batch_size=4, enqueue_many=True)
    assert many.get_shape().as_list() == [4, 2]
    smaller = inp.batch([x], batch_size=4, allow_smaller_final_batch=True)
    assert smaller.get_shape().as_list() == [None, 3, 2]
    with pytest.raises(ValueError, match="fully defined"):
        inp.batch([tf.placeholder(tf.float32, [None])], batch_size=2)


def test_batch_dynamic_pad():
    def build():
        n = _counting_source(4)
        return inp.batch([tf.ones(tf.reshape(n + 1, [1]), dtype=tf.int32)], batch_size=2,
                         dynamic_pad=True, shapes=[[None]])
    got = _run_pipeline(build)
    assert [g.tolist() for g in got] == [[[1, 0], [1, 1]], [[1, 1, 1, 0], [1, 1, 1, 1]]]


def test_shuffle_batch_and_joins():
    def build():
        x = _counting_source(40)
        return inp.shuffle_batch([x], batch_size=8, capacity=30, min_after_dequeue=10,
                                 num_threads=2, seed=5)
    got = np.concatenate(_run_pipeline(build))
    assert sorted(got.tolist()) == list(range(40)) and got.tolist() != list(range(40))

    def build_join():
        sources = [[_counting_source(6)], [_counting_source(6) + 100]]
        return inp.batch_join(sources, batch_size=4, allow_smaller_final_batch=True)
    got = np.concatenate(_run_pipeline(build_join))
    assert sorted(got.tolist()) == list(range(6)) + list(range(100, 106))

    def build_shuffle_join():
        sources = [[_counting_source(6)], [_counting_source(6) + 100]]
        return inp.shuffle_batch_join(sources, batch_size=4, capacity=20, min_after_dequeue=2,
                                      allow_smaller_final_batch=True, seed=2)
    got = np.concatenate(_run_pipeline(build_shuffle_join))
    assert sorted(got.tolist()) == list(range(6)) + list(range(100, 106))


# ---- acceptance: the cifar10 reader pipeline ----------------------------------------------------
def _write_cifar_files(tmp_path, files=3, records=25):
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(files):
        label = rng.integers(0, 10, records).astype(np.uint8)
        image = rng.integers(0, 256, (records, RECORD_BYTES - LABEL_BYTES)).astype(np.uint8)
        # the image bytes start with the label, so each example can be checked after batching
        image[:, 0] = label
        path = tmp_path / f"data_batch_{i}.bin"
        np.concatenate([label[:, None], image], axis=1).tofile(path)
        paths.append(str(path))
        labels.extend(label.tolist())
    return paths, labels


def _read_cifar(filename_queue):
    """cifar10_input.read_cifar10, as the tutorial writes it."""
    reader = reader_ops.FixedLengthRecordReader(record_bytes=RECORD_BYTES)
    value = reader.read(filename_queue)[1]
    record = parsing_ops.decode_raw(value, tf.uint8)
    label = tf.cast(tf.strided_slice(record, [0], [LABEL_BYTES]), tf.int32)
    depth_major = tf.reshape(tf.strided_slice(record, [LABEL_BYTES], [RECORD_BYTES]),
                             [DEPTH, HEIGHT, WIDTH])
    image = tf.cast(tf.transpose(depth_major, [1, 2, 0]), tf.float32)
    label.set_shape([1])
    return image, label


def test_cifar10_pipeline_with_several_reader_threads_stops_cleanly(tmp_path):
    paths, _ = _write_cifar_files(tmp_path)
    filename_queue = inp.string_input_producer(paths)
    image, label = _read_cifar(filename_queue)
    images, labels = inp.shuffle_batch([image, label], batch_size=16, num_threads=4,
                                       capacity=16 * 3 + 40, min_after_dequeue=40)
    assert images.get_shape().as_list() == [16, HEIGHT, WIDTH, DEPTH]
    runners = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    assert [len(r.enqueue_ops) for r in runners] == [1, 4]
    sess = tf.Session()
    coord = Coordinator()
    threads = queue_runner.start_queue_runners(sess, coord=coord)
    for _ in range(20):  # 320 examples: several epochs over 75 records
        batch_images, batch_labels = sess.run([images, labels])
        assert batch_images.shape == (16, HEIGHT, WIDTH, DEPTH)
        np.testing.assert_array_equal(batch_images[:, 0, 0, 0], batch_labels[:, 0])
    coord.request_stop()
    start = time.monotonic()
    coord.join(threads, stop_grace_period_secs=5)
    assert time.monotonic() - start < 2.0
    assert not any(t.is_alive() for t in threads)
    sess.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("QueueRunner")]


def test_cifar10_pipeline_one_epoch_ends_with_out_of_range(tmp_path):
    paths, labels = _write_cifar_files(tmp_path, files=2, records=10)
    filename_queue = inp.string_input_producer(paths, num_epochs=1)
    readers = [_read_cifar(filename_queue) for _ in range(3)]  # cifar10_input's multi-reader form
    _, batch_labels = inp.shuffle_batch_join([list(r) for r in readers], batch_size=6,
                                                  capacity=30, min_after_dequeue=5,
                                                  allow_smaller_final_batch=True)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = Coordinator()
        threads = queue_runner.start_queue_runners(sess, coord=coord)
        seen = []
        start = time.monotonic()
        try:
            while not coord.should_stop():
                seen.extend(sess.run(batch_labels)[:, 0].tolist())
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
        assert time.monotonic() - start < 10
    assert sorted(seen) == sorted(labels)
