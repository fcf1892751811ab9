"""Concurrency under shutdown: steps racing a Session.close, queues closed under blocked
producers and consumers, Coordinator.request_stop with threads blocked in queue ops, and
Saver.save racing training steps. Every blocking wait has a deadline; no thread may leak
(thread_leaks fixture). `make stress` runs this file 50 times in a row."""
import os
import random
import threading
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import data_flow_ops

from thread_leaks import _no_leaked_threads  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.timeout(60)

_CLOSED_SESSION = "Attempted to use a closed Session."


def _start(targets):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


def _join_all(threads, timeout=10):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"threads still blocked (a deadlock?): {alive}"


def _is_clean_close_error(e):
    """How a step may end when its session closes under it."""
    if isinstance(e, tf.errors.CancelledError):
        return True
    return isinstance(e, RuntimeError) and str(e) == _CLOSED_SESSION


def _step_kinds():
    """Fetches exercising the inline, dataflow and control-flow executors, a variable update
    and a dequeue that blocks (the queue is never fed)."""
    v = tf.Variable(tf.zeros([64]), name="v")
    x = tf.random_uniform([64, 64], seed=1)
    inline = tf.reduce_sum(tf.matmul(x, x))
    with tf.device("/cpu:1"):
        other = tf.reduce_sum(x * 2.0)
    dataflow = inline + other
    _, loop = tf.while_loop(lambda i, s: i < 20, lambda i, s: (i + 1, s + tf.reduce_sum(x)),
                            [tf.constant(0), tf.constant(0.0)])
    update = tf.assign_add(v, tf.ones([64]))
    blocked = data_flow_ops.FIFOQueue(4, tf.float32, shapes=[[]]).dequeue()
    return v, [inline, dataflow, loop, update, blocked]


@pytest.mark.parametrize("seed", range(3))
def test_steps_racing_session_close(seed):
    rng = random.Random(seed)
    v, kinds = _step_kinds()
    sess = tf.Session(config=tf.ConfigProto(device_count={"CPU": 2}))
    sess.run(tf.global_variables_initializer())
    outcomes, unclean, started = [], [], threading.Barrier(9)

    def steps(fetch):
        started.wait(5)
        while True:
            try:
                sess.run(fetch)
                outcomes.append("ok")
            except Exception as e:  # noqa: BLE001 - classified below
                (outcomes if _is_clean_close_error(e) else unclean).append(e)
                return
    threads = _start([lambda f=kinds[k % len(kinds)]: steps(f) for k in range(8)])
    started.wait(5)
    time.sleep(rng.uniform(0.01, 0.3))
    sess.close()
    _join_all(threads)
    assert not unclean, f"steps ended with unclean errors: {unclean[:3]}"
    assert "ok" in outcomes
    with pytest.raises(RuntimeError, match=_CLOSED_SESSION):
        sess.run(kinds[0])


def _blocked_producers(sess, enqueue, n, feed=None):
    results = []

    def produce():
        try:
            sess.run(enqueue, feed)
            results.append("ok")
        except Exception as e:  # noqa: BLE001 - inspected by the caller
            results.append(e)
    return results, _start([produce] * n)


def _blocked_consumers(sess, dequeue, n):
    results = []

    def consume():
        try:
            results.append(sess.run(dequeue))
        except Exception as e:  # noqa: BLE001 - inspected by the caller
            results.append(e)
    return results, _start([consume] * n)


def _wait_until(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def test_close_with_cancel_wakes_blocked_producers_and_consumers():
    full = data_flow_ops.FIFOQueue(2, tf.int32, shapes=[[]])
    empty = data_flow_ops.FIFOQueue(2, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(full.enqueue_many([[1, 2]]))
        produced, producers = _blocked_producers(sess, full.enqueue(3), 4)
        consumed, consumers = _blocked_consumers(sess, empty.dequeue(), 4)
        time.sleep(0.1)
        assert not produced and not consumed, "someone did not block"
        sess.run(full.close(cancel_pending_enqueues=True))
        sess.run(empty.close())
        _join_all(producers + consumers)
        assert all(isinstance(e, tf.errors.CancelledError) and "is closed" in str(e)
                   for e in produced), produced
        assert all(isinstance(e, tf.errors.OutOfRangeError) for e in consumed), consumed
        # What was in the closed queue still comes out, then OutOfRange; enqueues are refused.
        assert sess.run(full.dequeue_many(2)).tolist() == [1, 2]
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient"):
            sess.run(full.dequeue())
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(full.enqueue(4))


def test_close_without_cancel_lets_pending_enqueues_finish():
    q = data_flow_ops.FIFOQueue(1, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        sess.run(q.enqueue(0))
        produced, producers = [], []
        for k in range(1, 4):
            results, threads = _blocked_producers(sess, q.enqueue(x + k), 1, {x: 0})
            produced.append(results)
            producers += threads
        _wait_until(lambda: sum(t.is_alive() for t in producers) == 3)
        time.sleep(0.05)
        sess.run(q.close())
        got = []
        while True:
            try:
                got.append(int(sess.run(q.dequeue(), {x: 0})))
            except tf.errors.OutOfRangeError:
                break
        _join_all(producers)
    assert [r for results in produced for r in results] == ["ok"] * 3
    assert sorted(got) == [0, 1, 2, 3]


def test_many_consumers_of_a_closing_queue_lose_and_repeat_nothing():
    q = data_flow_ops.FIFOQueue(4, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enqueue, dequeue = q.enqueue(x), q.dequeue_up_to(2)
    got, lock = [], threading.Lock()
    with tf.Session() as sess:
        def produce(k):
            for i in range(40):
                sess.run(enqueue, {x: k * 100 + i})

        def consume():
            while True:
                try:
                    values = sess.run(dequeue)
                except tf.errors.OutOfRangeError:
                    return
                with lock:
                    got.extend(values.tolist())
        producers = _start([lambda k=k: produce(k) for k in range(3)])
        consumers = _start([consume] * 5)
        _join_all(producers)
        sess.run(q.close())
        _join_all(consumers)
    assert sorted(got) == sorted(k * 100 + i for k in range(3) for i in range(40))


def test_coordinator_stop_with_threads_blocked_in_queue_ops():
    full = data_flow_ops.FIFOQueue(1, tf.float32, shapes=[[]])
    empty = data_flow_ops.FIFOQueue(1, tf.float32, shapes=[[]])
    runner = tf.train.QueueRunner(full, [full.enqueue(1.0)] * 3)
    close_empty = empty.close()
    coord = tf.train.Coordinator()
    consumed = []
    with tf.Session() as sess:
        def consume():
            with coord.stop_on_exception():
                while not coord.should_stop():
                    consumed.append(sess.run(empty.dequeue()))

        def close_on_stop():  # the consumer's own queue: closed by its owner at a stop
            coord.wait_for_stop()
            sess.run(close_empty)
        threads = runner.create_threads(sess, coord=coord, start=True)
        threads += _start([consume, consume, close_on_stop])
        for t in threads[-3:]:
            coord.register_thread(t)
        _wait_until(lambda: sess.run(full.size()) == 1)
        time.sleep(0.05)  # the runner's threads are now blocked on the full queue
        start = time.monotonic()
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)  # raises if a thread outlives the grace
        assert time.monotonic() - start < 3
    assert not consumed and runner.exceptions_raised == []


def test_coordinator_stop_cancels_a_step_blocked_outside_any_runner():
    q = data_flow_ops.FIFOQueue(1, tf.float32, shapes=[[]])
    coord = tf.train.Coordinator()
    sess = tf.Session()
    try:
        def consume():
            with coord.stop_on_exception():
                sess.run(q.dequeue())
        threads = _start([consume])
        time.sleep(0.1)
        from tensorflux.training import coordinator
        coord.request_stop()
        coordinator.cancel_blocked_steps(coord, sess, threads, after_secs=0.1)
        coord.join(threads, stop_grace_period_secs=5)  # CancelledError is reported ...
    except tf.errors.CancelledError:
        pass  # ... and re-raised by join, as TensorFlow's Coordinator does
    finally:
        sess.close()
    _join_all(threads)


def _training_graph(size=256):
    w = tf.Variable(tf.zeros([size]), name="w")
    b = tf.Variable(0.0, name="b")
    step = tf.Variable(0, name="global_step")
    # One step adds 1 to every element of w, 2 to b and 1 to the step.
    with tf.control_dependencies([tf.assign_add(w, tf.ones([size])), tf.assign_add(b, 2.0)]):
        train = tf.assign_add(step, 1)
    return w, b, step, train


def _consistent(w, b, step):
    """A state that a whole number of training steps produced."""
    k = w[0]
    return np.all(w == k) and b == 2 * k and step == k


@pytest.mark.parametrize("write_version", ["V2", "V1"])
def test_saves_racing_training_steps(tmp_path, write_version):
    """Saves while three threads train: each saved variable is as some step left it (the save
    copies it under the lock the updates take; it used to write buffers half-updated), and
    latest_checkpoint always names a whole checkpoint."""
    w, b, step, train = _training_graph(size=1 << 18)  # NumPy drops the GIL inside the add
    version = getattr(tf.train.SaverDef, write_version)
    saver = tf.train.Saver(max_to_keep=20, write_version=version)
    prefix = os.path.join(str(tmp_path), "model")
    stop = threading.Event()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())

        def train_loop():
            while not stop.is_set():
                sess.run(train)
        trainers = _start([train_loop] * 3)
        saved = []
        try:
            for i in range(8):
                saved.append(saver.save(sess, prefix, global_step=i))
                latest = tf.train.latest_checkpoint(str(tmp_path))
                assert latest == saved[-1] and tf.train.checkpoint_exists(latest)
        finally:
            stop.set()
            _join_all(trainers)
    assert saver.last_checkpoints == saved
    with tf.Session() as sess:
        for path in saved:
            saver.restore(sess, path)
            w_value, b_value = sess.run([w, b])
            assert np.all(w_value == w_value[0]), f"{path}: w was saved half-updated"
            assert b_value % 2 == 0, path


def test_concurrent_saves_keep_the_state_file_whole(tmp_path):
    w, b, step, train = _training_graph()
    prefix = os.path.join(str(tmp_path), "model")
    savers = [tf.train.Saver(max_to_keep=100) for _ in range(4)]
    failures = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)

        def save_loop(k):
            try:
                for i in range(10):
                    savers[k].save(sess, prefix, global_step=k * 100 + i)
                    latest = tf.train.latest_checkpoint(str(tmp_path))
                    assert latest is not None and tf.train.checkpoint_exists(latest)
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)
        _join_all(_start([lambda k=k: save_loop(k) for k in range(4)]), timeout=30)
    assert not failures, failures[:3]
    with tf.Session() as sess:
        savers[0].restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        assert _consistent(*sess.run([w, b, step]))
