"""MonitoredSession, MonitoredTrainingSession, Scaffold and recovery from preemption."""
import threading

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


from thread_leaks import _no_leaked_threads  # noqa: E402,F401 (autouse fixture)


def _train_op(extra_deps=()):
    """w_k = 3 - 2 * 0.8**k after k steps; the update waits for `extra_deps`."""
    global_step = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0, name="w")
    loss = tf.square(w - 3.0)
    with tf.control_dependencies(list(extra_deps)):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    return global_step, w, train


def _w_after(steps):
    return 3.0 - 2.0 * 0.8 ** steps


class _Recorder(tf.train.SessionRunHook):
    """Records the calls it gets; optionally adds a fetch and a feed."""

    def __init__(self, fetches=None, feed_dict=None, step=None):
        self.calls, self.results, self.start_steps = [], [], []
        self._fetches, self._feed_dict, self._step = fetches, feed_dict, step

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")
        if self._step is not None:
            self.start_steps.append(int(session.run(self._step)))

    def before_run(self, run_context):
        self.calls.append("before_run")
        if self._fetches is None and self._feed_dict is None:
            return None
        return tf.train.SessionRunArgs(self._fetches, self._feed_dict)

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.results.append(run_values.results)

    def end(self, session):
        self.calls.append("end")


def test_hooks_add_fetches_and_feeds_and_see_their_values():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.placeholder(tf.float32, [], name="y")
    total = x + y
    doubled = total * 2.0
    hook = _Recorder(fetches={"double": doubled}, feed_dict={y: 10.0})
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run(total, feed_dict={x: 1.0}) == 11.0
        assert sess.graph is tf.get_default_graph()
    assert hook.results == [{"double": 22.0}]
    assert hook.calls == ["begin", "after_create_session", "before_run", "after_run", "end"]


def test_a_tensor_fed_by_a_hook_and_the_caller_is_an_error():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x + 1.0
    with tf.train.MonitoredSession(hooks=[_Recorder(feed_dict={x: 1.0})]) as sess:
        with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user"):
            sess.run(y, feed_dict={x: 2.0})
    hooks = [_Recorder(feed_dict={x: 1.0}), _Recorder(feed_dict={x: 2.0})]
    with tf.train.MonitoredSession(hooks=hooks) as sess:
        with pytest.raises(RuntimeError, match="Same tensor is fed by two hooks"):
            sess.run(y)


def test_end_is_skipped_when_the_block_raises_and_out_of_range_is_swallowed():
    _train_op()
    hook = _Recorder()
    with pytest.raises(ValueError, match="boom"):
        with tf.train.MonitoredSession(hooks=[hook]):
            raise ValueError("boom")
    assert "end" not in hook.calls
    hook = _Recorder()
    with tf.train.MonitoredSession(hooks=[hook]):
        raise tf.errors.OutOfRangeError(None, None, "input exhausted")
    assert hook.calls[-1] == "end"
    assert not tf.get_default_graph().finalized  # unfinalized again: it was not before


def test_scaffold_defaults_and_collections():
    _train_op()
    scaffold = tf.train.Scaffold().finalize()
    assert tf.get_default_graph().finalized
    assert scaffold.init_op is tf.get_collection(tf.GraphKeys.INIT_OP)[0]
    assert scaffold.ready_op is tf.get_collection(tf.GraphKeys.READY_OP)[0]
    assert scaffold.local_init_op is tf.get_collection(tf.GraphKeys.LOCAL_INIT_OP)[0]
    assert scaffold.saver is tf.get_collection(tf.GraphKeys.SAVERS)[0]
    assert scaffold.saver.saver_def.sharded
    assert scaffold.summary_op is None  # no summaries in the graph
    with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified"):
        tf.constant(1.0)


def test_scaffold_rejects_ambiguous_collections():
    _train_op()
    tf.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    tf.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    with pytest.raises(RuntimeError, match="More than one item in the collection"):
        tf.train.Scaffold().finalize()


def test_monitored_training_session_restores_from_checkpoint_dir(tmp_path):
    global_step, w, train = _train_op()
    ckpt = str(tmp_path)
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt, hooks=[tf.train.StopAtStepHook(last_step=4)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    assert tf.train.latest_checkpoint(ckpt).endswith("model.ckpt-4")
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt, hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
        assert sess.run(global_step) == 4
        while not sess.should_stop():
            sess.run(train)
    # The checkpoint hook saves once more at the end.
    assert tf.train.load_variable(ckpt, "global_step") == 7
    assert tf.train.load_variable(ckpt, "w") == pytest.approx(_w_after(7))


def test_worker_session_gives_up_at_its_deadline():
    _train_op()
    creator = tf.train.WorkerSessionCreator(max_wait_secs=0.2)
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready after waiting"):
        tf.train.MonitoredSession(session_creator=creator)


def test_worker_session_runs_once_the_model_is_ready():
    event = threading.Event()
    event.set()
    ready = tf.py_func(lambda: np.array([] if event.is_set() else [b"w"], dtype=object), [],
                       tf.string)
    counter = tf.Variable(0, name="counter", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    bump = tf.assign_add(counter, 1)
    session = tf.train.MonitoredTrainingSession(is_chief=False,
                                                scaffold=tf.train.Scaffold(ready_op=ready))
    with session as sess:
        assert sess.run(bump) == 1  # the local init op ran in the worker's session


def test_queue_runners_run_under_the_session_coordinator():
    producer = tf.train.range_input_producer(5, num_epochs=2, shuffle=False)
    item = producer.dequeue()
    seen = []
    with tf.train.MonitoredSession() as sess:
        while not sess.should_stop():
            seen.append(int(sess.run(item)))  # ends with OutOfRangeError, swallowed
    assert sorted(seen) == sorted(list(range(5)) * 2)


def test_singular_monitored_session_has_a_raw_session():
    global_step, w, train = _train_op()
    with tf.train.SingularMonitoredSession() as sess:
        sess.run(train)
        assert sess.raw_session().run(w) == pytest.approx(_w_after(1))


def _preempting_dependency(fail_on_calls, error_class, on_fail=lambda: None):
    """A py_func that raises `error_class` on the given call numbers (a ps restarting)."""
    calls = []

    def maybe_fail():
        calls.append(1)
        if len(calls) in fail_on_calls:
            on_fail()
            raise error_class(None, None, f"preempted at call {len(calls)}")
        return np.int32(len(calls))
    return tf.py_func(maybe_fail, [], tf.int32, name="preemption_point"), calls


@pytest.mark.parametrize("error_class", [tf.errors.AbortedError, tf.errors.UnavailableError])
def test_preempted_step_recreates_the_session_and_restores_the_checkpoint(tmp_path,
                                                                            error_class):
    at_failure = []
    point, calls = _preempting_dependency(
        {5}, error_class, lambda: at_failure.append(tf.train.latest_checkpoint(str(tmp_path))))
    global_step, w, train = _train_op(extra_deps=[point])
    recorder = _Recorder(step=global_step)
    saver_hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2)
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_checkpoint_secs=None,
            chief_only_hooks=[saver_hook],
            hooks=[recorder, tf.train.StopAtStepHook(last_step=10)]) as sess:
        runs = 0
        while not sess.should_stop():
            sess.run(train)
            runs += 1
            assert runs < 50
    # The second session starts from the last checkpoint written before the failure.
    restart = recorder.start_steps[1]
    assert recorder.start_steps[0] == 0 and 0 < restart <= 4
    assert at_failure[0].endswith(f"model.ckpt-{restart}")
    # 4 good runs, then the failed 5th call is re-run on the new session from `restart`.
    assert runs == 4 + (10 - restart) and len(calls) == runs + 1
    final_step = tf.train.load_variable(str(tmp_path), "global_step")
    final_w = tf.train.load_variable(str(tmp_path), "w")
    assert final_step == 10
    # The restored variables and step belong to one checkpoint: w matches the step.
    assert final_w == pytest.approx(_w_after(10), rel=1e-5)


def test_a_non_preemption_error_is_raised_without_recovery():
    point, _ = _preempting_dependency({2}, tf.errors.InvalidArgumentError)
    _, _, train = _train_op(extra_deps=[point])
    recorder = _Recorder()
    with pytest.raises(tf.errors.InvalidArgumentError, match="preempted at call 2"):
        with tf.train.MonitoredSession(hooks=[recorder]) as sess:
            for _ in range(3):
                sess.run(train)
    assert recorder.calls.count("after_create_session") == 1


def test_a_preemption_while_creating_the_session_retries_and_leaks_no_thread():
    item = tf.train.range_input_producer(3, shuffle=False).dequeue()

    class FailsFirst(tf.train.SessionRunHook):
        created = 0

        def after_create_session(self, session, coord):
            self.created += 1
            if self.created == 1:
                raise tf.errors.UnavailableError(None, None, "ps restarting")
    hook = FailsFirst()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert int(sess.run(item)) == 0
    assert hook.created == 2
