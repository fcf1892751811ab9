"""The standard hooks, each run inside a MonitoredSession on a small model."""
import glob
import os

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


from thread_leaks import _no_leaked_threads  # noqa: E402,F401 (autouse fixture)


def _train_op():
    """A quadratic in w with a global step: w_k = 3 - 2 * 0.8**k after k steps."""
    global_step = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0, name="w")
    loss = tf.square(w - 3.0)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    return global_step, w, loss, train


def _run_until_stop(sess, op, limit=1000):
    runs = 0
    while not sess.should_stop() and runs < limit:
        sess.run(op)
        runs += 1
    return runs


def _summary_values(logdir, tag):
    """(step, simple_value) of every summary value named `tag` in logdir's event files."""
    found = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    found.append((event.step, value.simple_value))
    return found


def test_second_or_step_timer():
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.SecondOrStepTimer()
    with pytest.raises(ValueError, match="Can not provide both"):
        tf.train.SecondOrStepTimer(every_secs=1, every_steps=1)
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(0)
    assert timer.update_last_triggered_step(0) == (None, None)
    assert [s for s in range(1, 8) if timer.should_trigger_for_step(s)] == [3, 4, 5, 6, 7]
    elapsed_secs, elapsed_steps = timer.update_last_triggered_step(3)
    assert elapsed_steps == 3 and elapsed_secs >= 0
    assert not timer.should_trigger_for_step(3) and timer.last_triggered_step() == 3


@pytest.mark.parametrize("kwargs, expected_steps", [({"last_step": 7}, 7), ({"num_steps": 4}, 4)])
def test_stop_at_step_hook_stops_exactly(kwargs, expected_steps):
    global_step, _, _, train = _train_op()
    hook = tf.train.StopAtStepHook(**kwargs)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        runs = _run_until_stop(sess, train)
        assert runs == expected_steps
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="Run called even after should_stop"):
            sess.run(train)


def test_stop_at_step_hook_validates_its_arguments():
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of num_steps or last_step"):
        tf.train.StopAtStepHook(num_steps=1, last_step=2)
    tf.Variable(1.0)
    with pytest.raises(RuntimeError, match="Global step should be created"):
        tf.train.StopAtStepHook(num_steps=1).begin()


def test_nan_tensor_hook_raises_or_stops():
    global_step, _, _, train = _train_op()
    nan_loss = tf.constant(np.nan, tf.float32)
    with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss during training"):
        with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(nan_loss)]) as sess:
            sess.run(train)
    with tf.train.MonitoredSession(
            hooks=[tf.train.NanTensorHook(nan_loss, fail_on_nan_loss=False)]) as sess:
        assert _run_until_stop(sess, train) == 1


def test_logging_tensor_hook_every_n_iter_with_formatter():
    global_step, w, loss, train = _train_op()
    logged = []
    hook = tf.train.LoggingTensorHook({"loss": loss, "step": global_step.name}, every_n_iter=2,
                                      formatter=lambda values: logged.append(values) or "x")
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=5)]) as s:
        _run_until_stop(s, train)
    assert len(logged) == 3  # iterations 0, 2, 4
    assert all(set(values) == {"loss", "step"} for values in logged)
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook([loss])
    with pytest.raises(ValueError, match="invalid every_n_iter"):
        tf.train.LoggingTensorHook([loss], every_n_iter=0)


def test_checkpoint_saver_hook_saves_every_n_steps_and_at_end(tmp_path):
    global_step, w, _, train = _train_op()
    saved = []

    class Listener(tf.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            saved.append(global_step_value)
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=3, listeners=[Listener()],
                                        saver=tf.train.Saver(max_to_keep=None))
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=8)]) as s:
        _run_until_stop(s, train)
    assert saved and saved[-1] == 8
    assert all(b - a >= 3 for a, b in zip(saved[:-2], saved[1:-1]))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-8")
    assert tf.train.load_variable(str(tmp_path), "w") == pytest.approx(3 - 2 * 0.8 ** 8)
    assert os.path.exists(tmp_path / "graph.pbtxt")
    with pytest.raises(ValueError, match="both saver and scaffold"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=tf.train.Saver(),
                                     scaffold=tf.train.Scaffold())


def test_step_counter_and_summary_saver_hooks_write_events(tmp_path):
    global_step, w, loss, train = _train_op()
    tf.summary.scalar("loss", loss)
    hooks = [tf.train.StepCounterHook(every_n_steps=2, output_dir=str(tmp_path)),
             tf.train.SummarySaverHook(save_steps=3, output_dir=str(tmp_path),
                                       summary_op=tf.summary.merge_all()),
             tf.train.StopAtStepHook(last_step=9)]
    with tf.train.MonitoredSession(hooks=hooks) as sess:
        _run_until_stop(sess, train)
    tf.summary.FileWriterCache.clear()
    speeds = _summary_values(str(tmp_path), "global_step/sec")
    assert len(speeds) >= 3 and all(v > 0 for _, v in speeds)
    losses = _summary_values(str(tmp_path), "loss")
    steps = [step for step, _ in losses]
    assert len(steps) >= 3 and steps == sorted(steps)
    for step, value in losses:  # the loss is read before or after that step's update
        assert value == pytest.approx((2 * 0.8 ** step) ** 2, rel=1e-4) or \
            value == pytest.approx((2 * 0.8 ** (step - 1)) ** 2, rel=1e-4)
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1)


def test_final_ops_hook_and_feed_fn_hook():
    x = tf.placeholder(tf.float32, [], name="x")
    total = tf.Variable(0.0, name="total")
    add = tf.assign_add(total, x)
    final = tf.train.FinalOpsHook(total * 10.0)
    feeds = iter([1.0, 2.0, 3.0])
    feed = tf.train.FeedFnHook(lambda: {x: next(feeds)})
    with tf.train.MonitoredSession(hooks=[final, feed]) as sess:
        for _ in range(3):
            sess.run(add)
    assert final.final_ops_values == pytest.approx(60.0)


def test_checkpoint_meta_graph_keeps_the_saver_and_global_step(tmp_path):
    _, _, _, train = _train_op()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=100)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(train)
    latest = tf.train.latest_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(latest + ".meta")
        assert tf.get_collection(tf.GraphKeys.SAVERS)[0].saver_def.sharded
        with tf.Session() as sess:
            saver.restore(sess, latest)
            assert sess.run(tf.train.get_global_step()) == 1
