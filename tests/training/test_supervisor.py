"""Supervisor: managed sessions, chief init vs restore, services, non-chief waits, clean stops."""
import glob
import os
import threading
import time

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


from thread_leaks import _no_leaked_threads  # noqa: E402,F401 (autouse fixture)


def _model(device=None):
    """w_k = 3 - 2 * 0.8**k after k steps of `train`."""
    with tf.device(device):
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable(1.0, name="w")
    loss = tf.square(w - 3.0)
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    return global_step, w, train


def _events(logdir):
    events = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        events.extend(tf.train.summary_iterator(path))
    return events


def _tags(events):
    return {value.tag for e in events for value in e.summary.value}


def test_chief_initializes_trains_and_checkpoints_then_restores(tmp_path):
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        global_step, w, train = _model()
        sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0.05, save_summaries_secs=0.05)
        assert tf.get_default_graph().finalized
        with pytest.raises(RuntimeError, match="Graph is finalized"):
            tf.constant(1.0)
        with sv.managed_session() as sess:
            assert sess.run(global_step) == 0
            for _ in range(12):
                sess.run(train)
            deadline = time.monotonic() + 10
            while (not (tf.train.latest_checkpoint(logdir) or "").endswith("-12")
                   and time.monotonic() < deadline):
                time.sleep(0.02)
        assert sv.should_stop()
    assert tf.train.latest_checkpoint(logdir).endswith("model.ckpt-12")
    assert os.path.exists(os.path.join(logdir, "graph.pbtxt"))
    assert {"loss", "global_step/sec"} <= _tags(_events(logdir))
    with tf.Graph().as_default():
        global_step, w, train = _model()
        sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0, save_summaries_secs=0)
        with sv.managed_session() as sess:
            assert sess.run(global_step) == 12  # restored, not initialized
            assert sess.run(w) == pytest.approx(3 - 2 * 0.8 ** 12)


def test_managed_session_reraises_errors_and_treats_out_of_range_as_clean():
    _model()
    sv = tf.train.Supervisor(logdir=None)
    with pytest.raises(ValueError, match="in the block"):
        with sv.managed_session():
            raise ValueError("in the block")
    with sv.managed_session():
        raise tf.errors.OutOfRangeError(None, None, "input done")
    assert sv.should_stop()


def test_a_failing_service_thread_stops_training_and_its_error_is_raised():
    _model()
    sv = tf.train.Supervisor(logdir=None)

    def fail():
        raise tf.errors.InvalidArgumentError(None, None, "service failed")
    with pytest.raises(tf.errors.InvalidArgumentError, match="service failed"):
        with sv.managed_session():
            sv.loop(0.01, fail)
            deadline = time.monotonic() + 10
            while not sv.should_stop() and time.monotonic() < deadline:
                time.sleep(0.01)


def test_loop_calls_its_target_until_stop():
    _model()
    sv = tf.train.Supervisor(logdir=None)
    count = []
    with sv.managed_session():
        sv.loop(0.01, count.append, args=(1,))
        deadline = time.monotonic() + 10
        while len(count) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(count) >= 3


def test_queue_runners_feed_until_the_input_ends(tmp_path):
    producer = tf.train.range_input_producer(4, num_epochs=1, shuffle=False)
    item = producer.dequeue()
    tf.train.get_or_create_global_step()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
    seen = []
    with sv.managed_session() as sess:
        while not sv.should_stop():
            seen.append(int(sess.run(item)))
    assert seen == [0, 1, 2, 3]


def test_summary_computed_writes_at_the_global_step(tmp_path):
    global_step, w, train = _model()
    summary = tf.summary.merge_all()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
    with sv.managed_session() as sess:
        sess.run(train)
        sv.summary_computed(sess, sess.run(summary))
    steps = [e.step for e in _events(str(tmp_path)) if any(v.tag == "loss"
                                                            for v in e.summary.value)]
    assert steps == [1]


def test_non_chief_waits_and_gives_up_at_the_deadline():
    _model(device="/cpu:0")
    sv = tf.train.Supervisor(is_chief=False, recovery_wait_secs=0.05)
    assert sv.summary_writer is None and sv.save_path is None
    start = time.monotonic()
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready after waiting"):
        sv.prepare_or_wait_for_session(max_wait_secs=0.3)
    assert time.monotonic() - start < 5


def test_non_chief_starts_once_the_chief_made_the_model_ready():
    event = threading.Event()
    with tf.device("/cpu:0"):
        counter = tf.Variable(0, name="counter")
    bump = tf.assign_add(counter, 1)
    ready = tf.py_func(lambda: np.array([] if event.is_set() else [b"counter"], dtype=object),
                       [], tf.string)
    init_counter = tf.assign(counter, 10)
    # The worker's local init op stands in for the chief's initialization of the shared
    # variables: with a local target two sessions share nothing.
    sv = tf.train.Supervisor(is_chief=False, ready_op=ready, local_init_op=init_counter,
                             recovery_wait_secs=0.05)
    timer = threading.Timer(0.2, event.set)
    timer.start()
    try:
        with sv.managed_session() as sess:
            assert sess.run(bump) == 11
    finally:
        timer.join()


def test_non_chief_requires_variables_on_a_device():
    _model()
    with pytest.raises(ValueError, match="all Variables must have their device set"):
        tf.train.Supervisor(is_chief=False)


def test_defaults_come_from_collections_and_none_turns_them_off():
    global_step, w, train = _model()
    sv = tf.train.Supervisor(logdir=None, summary_op=None, saver=None)
    assert sv.global_step is global_step
    assert sv.init_op is tf.get_collection(tf.GraphKeys.INIT_OP)[0]
    assert sv.ready_op is tf.get_collection(tf.GraphKeys.READY_OP)[0]
    assert sv.saver is None and sv.summary_op is None
    assert sv.is_chief
    with sv.managed_session() as sess:
        assert sess.run(w) == 1.0
