"""SessionManager: prepare (initialize or restore), recover, wait for readiness with deadlines."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


from thread_leaks import _no_leaked_threads  # noqa: E402,F401 (autouse fixture)


def _model():
    v = tf.Variable([1.0, 2.0], name="v")
    w = tf.Variable(5.0, name="w")
    return v, w


def test_report_uninitialized_variables_names_what_is_missing():
    v, w = _model()
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        assert sorted(sess.run(report).tolist()) == [b"v", b"w"]
        sess.run(v.initializer)
        assert sess.run(report).tolist() == [b"w"]
        sess.run(w.initializer)
        assert sess.run(report).shape == (0,)


def test_prepare_session_initializes_without_a_checkpoint(tmp_path):
    v, w = _model()
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session("", init_op=tf.global_variables_initializer(),
                              saver=tf.train.Saver(), checkpoint_dir=str(tmp_path))
    with sess:
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        assert sess.run(w) == 5.0


def test_prepare_session_restores_the_latest_checkpoint_instead_of_init(tmp_path):
    v, w = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(42.0))
        saver.save(sess, str(tmp_path / "model.ckpt"), global_step=7)
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    init = tf.global_variables_initializer()
    with sm.prepare_session("", init_op=init, saver=saver, checkpoint_dir=str(tmp_path)) as s:
        assert s.run(w) == 42.0
    restored, initialized = sm.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    with restored:
        assert initialized and restored.run(w) == 42.0


def test_prepare_session_errors_when_the_model_cannot_be_made_ready():
    v, w = _model()
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    with pytest.raises(RuntimeError, match="no init_op or init_fn or local_init_op"):
        sm.prepare_session("")
    with pytest.raises(RuntimeError, match="Init operations did not make model ready.*w"):
        sm.prepare_session("", init_op=v.initializer)


def test_prepare_session_runs_init_fn_and_local_init_op():
    v, w = _model()
    local = tf.Variable(3.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    sm = tf.train.SessionManager(
        ready_op=tf.report_uninitialized_variables(),
        ready_for_local_init_op=tf.report_uninitialized_variables(tf.global_variables()),
        local_init_op=tf.local_variables_initializer())
    sess = sm.prepare_session("", init_fn=lambda s: s.run(tf.global_variables_initializer()))
    with sess:
        assert sess.run(local) == 3.0 and sess.run(w) == 5.0


def test_ready_for_local_init_op_needs_a_local_init_op():
    with pytest.raises(ValueError, match="must also pass a local_init_op"):
        tf.train.SessionManager(ready_for_local_init_op=tf.constant([], dtype=tf.string))


def test_recover_session_without_checkpoint_is_not_initialized(tmp_path):
    _model()
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    sess, initialized = sm.recover_session("", saver=tf.train.Saver(),
                                           checkpoint_dir=str(tmp_path))
    with sess:
        assert initialized is False


def test_wait_for_session_raises_deadline_exceeded_when_nobody_initializes():
    _model()
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(),
                                 recovery_wait_secs=0.05)
    start = time.monotonic()
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready after waiting"):
        sm.wait_for_session("", max_wait_secs=0.3)
    assert time.monotonic() - start < 5.0


def _ready_op_set_by(event):
    """A ready op that reports 'w' until `event` is set (another task "initializes")."""
    def report():
        return np.array([] if event.is_set() else [b"w"], dtype=object)
    return tf.py_func(report, [], tf.string, name="scripted_ready")


def test_wait_for_session_returns_once_another_thread_makes_the_model_ready():
    event = threading.Event()
    sm = tf.train.SessionManager(ready_op=_ready_op_set_by(event), recovery_wait_secs=0.05)
    setter = threading.Timer(0.3, event.set)
    setter.start()
    start = time.monotonic()
    try:
        sess = sm.wait_for_session("", max_wait_secs=20)
    finally:
        setter.join()
    sess.close()
    assert 0.25 <= time.monotonic() - start < 10


def test_wait_for_session_polls_until_ready_then_runs_local_init():
    calls = []
    event = threading.Event()

    def report():
        calls.append(time.monotonic())
        if len(calls) >= 3:
            event.set()
        return np.array([] if event.is_set() else [b"w"], dtype=object)
    ready_for_local = tf.py_func(report, [], tf.string)
    local = tf.Variable(4.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables([local]),
                                 ready_for_local_init_op=ready_for_local,
                                 local_init_op=local.initializer, recovery_wait_secs=0.02)
    with sm.wait_for_session("", max_wait_secs=10) as sess:
        assert sess.run(local) == 4.0
    assert len(calls) == 3


def test_prepare_session_waits_for_a_checkpoint_up_to_max_wait_secs(tmp_path):
    _model()
    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(),
                                 recovery_wait_secs=0.05)
    start = time.monotonic()
    sess = sm.prepare_session("", init_op=tf.global_variables_initializer(),
                              saver=tf.train.Saver(), checkpoint_dir=str(tmp_path),
                              wait_for_checkpoint=True, max_wait_secs=0.2)
    sess.close()
    assert 0.2 <= time.monotonic() - start < 5
