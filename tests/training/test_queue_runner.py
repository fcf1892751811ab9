"""QueueRunner threads: filling a queue, closing it when input ends, stopping on request."""
import threading
import time

import pytest

import tensorflux as tf
from tensorflux.ops import data_flow_ops
from tensorflux.training import queue_runner
from tensorflux.training.coordinator import Coordinator
from tensorflux.training.input import limit_epochs

pytestmark = pytest.mark.timeout(30)


def test_runner_fills_the_queue_and_stops_through_the_coordinator():
    q = data_flow_ops.FIFOQueue(4, tf.int32, shapes=[[]])
    qr = queue_runner.QueueRunner(q, [q.enqueue(1)] * 3)
    assert qr.queue is q and len(qr.enqueue_ops) == 3
    assert qr.close_op.type == "QueueClose" and qr.cancel_op.get_attr(
        "cancel_pending_enqueues")
    with tf.Session() as sess:
        coord = Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert len(threads) == 4  # three enqueuers and the closer
        assert sess.run(q.dequeue_many(10)).tolist() == [1] * 10
        assert qr.create_threads(sess, coord=coord) == []  # still running
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)  # blocked enqueues were cancelled
        assert qr.exceptions_raised == []


def test_runner_closes_the_queue_when_its_input_runs_out():
    q = data_flow_ops.FIFOQueue(10, tf.int32, shapes=[[]])
    once = limit_epochs(tf.constant([1, 2, 3]), num_epochs=2)
    queue_runner.add_queue_runner(queue_runner.QueueRunner(q, [q.enqueue_many([once])] * 2))
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = Coordinator()
        threads = queue_runner.start_queue_runners(sess, coord=coord)
        got = []
        with pytest.raises(tf.errors.OutOfRangeError,
                           match="is closed and has insufficient elements"):
            while True:
                got.extend(sess.run(q.dequeue_up_to(4)).tolist())
        coord.request_stop()
        coord.join(threads)
    assert sorted(got) == [1, 1, 2, 2, 3, 3]


def test_runner_errors_reach_the_coordinator():
    q = data_flow_ops.FIFOQueue(10, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])  # never fed: every run fails
    qr = queue_runner.QueueRunner(q, [q.enqueue(x)])
    with tf.Session() as sess:
        coord = Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert coord.wait_for_stop(5)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="You must feed a value for placeholder tensor"):
            coord.join(threads)


def test_runner_without_coordinator_records_exceptions():
    q = data_flow_ops.FIFOQueue(10, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    qr = queue_runner.QueueRunner(q, [q.enqueue(x)])
    with tf.Session() as sess:
        threads = qr.create_threads(sess, daemon=True)
        threading.excepthook, hook = (lambda args: None), threading.excepthook
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(5)
        finally:
            threading.excepthook = hook
    assert len(qr.exceptions_raised) == 1


def test_start_queue_runners_uses_the_default_session_and_collection():
    q = data_flow_ops.FIFOQueue(3, tf.int32, shapes=[[]])
    queue_runner.add_queue_runner(queue_runner.QueueRunner(q, [q.enqueue(5)]))
    assert len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)) == 1
    with pytest.raises(ValueError, match="No default session"):
        queue_runner.start_queue_runners()
    sess = tf.Session()
    with sess.as_default():
        coord = Coordinator()
        threads = queue_runner.start_queue_runners(coord=coord)
        assert all(t.daemon for t in threads)
        assert sess.run(q.dequeue()) == 5
        coord.request_stop()
        coord.join(threads)
    sess.close()


def test_closing_the_session_ends_runner_threads():
    q = data_flow_ops.FIFOQueue(2, tf.int32, shapes=[[]])
    qr = queue_runner.QueueRunner(q, [q.enqueue(1)] * 2)
    sess = tf.Session()
    coord = Coordinator()
    threads = qr.create_threads(sess, coord=coord, start=True)
    time.sleep(0.1)
    sess.close()  # the blocked enqueues are cancelled; the runners report it and end
    for t in threads[:2]:
        t.join(5)
        assert not t.is_alive()
    assert coord.should_stop()
    with pytest.raises((tf.errors.CancelledError, RuntimeError)):
        coord.join(threads, stop_grace_period_secs=5)


def test_requires_queue_and_ops():
    with pytest.raises(ValueError, match="non-empty list of enqueue ops"):
        queue_runner.QueueRunner(data_flow_ops.FIFOQueue(1, tf.int32), [])
