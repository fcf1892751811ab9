"""The frame-aware executor: dead values, frames and iterations, loops across devices with
frame:iter rendezvous keys, deadlines, cancellation, tracing, and plan selection."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import control_flow_ops as cf
from tensorflux.runtime import control_flow_plan
from tensorflux.runtime import rendezvous

pytestmark = pytest.mark.timeout(30)


def _plan_of(sess, tensor):
    return [plan for key, plan in sess._plans.items() if tensor in key[1]][0]


def test_plain_graphs_keep_the_inline_plan_and_loops_get_the_frame_plan():
    x = tf.placeholder(tf.float32, [])
    plain = x + 1.0
    loop = tf.while_loop(lambda v: v < 5.0, lambda v: v + 1.0, [x])
    with tf.Session() as sess:
        sess.run([plain], {x: 1.0})
        sess.run([loop], {x: 1.0})
        assert _plan_of(sess, plain).inline
        assert isinstance(_plan_of(sess, loop), control_flow_plan.ControlFlowPlan)


def test_dead_values_propagate_through_data_and_control_edges():
    p = tf.placeholder(tf.bool, [])
    x = tf.constant(2.0)
    false_side, true_side = cf.switch(x, p)
    downstream = tf.negative(true_side)
    with tf.control_dependencies([downstream]):
        gated = tf.constant(7.0)
    merged, index = cf.merge([false_side * 10.0, downstream])
    with tf.Session() as sess:
        assert sess.run([merged, index], {p: True}) == [-2.0, 1]
        assert sess.run([merged, index], {p: False}) == [20.0, 0]
        assert sess.run(gated, {p: True}) == 7.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="dead"):
            sess.run(gated, {p: False})


def test_merge_with_all_inputs_dead_is_dead():
    p = tf.placeholder(tf.bool, [])
    a = cf.switch(tf.constant(1.0), p)[1]
    b = cf.switch(tf.constant(2.0), p)[1]
    merged = cf.merge([a, b])[0]
    after = cf.merge([merged, cf.switch(tf.constant(3.0), p)[0]])[0]
    with tf.Session() as sess:
        assert sess.run(after, {p: False}) == 3.0
        assert sess.run(after, {p: True}) == 1.0


def test_inputs_from_two_frames_are_rejected():
    x = tf.constant(1.0)
    enter = cf._enter(x, "frame_a")
    bad = enter + x  # x is in the root frame, enter's output in frame_a
    with pytest.raises(tf.errors.InvalidArgumentError, match="different frames"):
        with tf.Session() as sess:
            sess.run(bad.op)


def test_fetching_inside_a_loop_is_rejected():
    loop_body_values = []

    def body(v):
        loop_body_values.append(v * 2.0)
        return loop_body_values[-1]
    tf.while_loop(lambda v: v < 5.0, body, [tf.constant(1.0)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the while-loop frame"):
        with tf.Session() as sess:
            sess.run(loop_body_values[0])


def test_loop_across_devices_uses_frame_iter_rendezvous_keys(monkeypatch):
    keys = []
    original = rendezvous.LocalRendezvous.send

    def recording_send(self, key, value, is_dead=False):
        keys.append(key)
        return original(self, key, value, is_dead)
    monkeypatch.setattr(rendezvous.LocalRendezvous, "send", recording_send)
    x = tf.placeholder(tf.float32, [3])

    def body(i, s):
        with tf.device("/cpu:1"):
            s = s * 2.0 + 1.0
        return i + 1, s
    with tf.device("/cpu:0"):
        out = tf.while_loop(lambda i, s: i < 4, body, [tf.constant(0), x])[1]
        grad = tf.gradients(tf.reduce_sum(out), x)[0]
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        got, got_grad = sess.run([out, grad], {x: np.ones(3, np.float32)})
    np.testing.assert_array_equal(got, [31.0] * 3)
    np.testing.assert_array_equal(got_grad, [16.0] * 3)
    parsed = [rendezvous.parse_key(k) for k in keys]
    in_loops = [(p.frame_id, p.iter_id) for p in parsed if p.frame_id != 0]
    assert in_loops, "no transfer inside a loop frame"
    iterations = {it for _, it in in_loops}
    assert {0, 1, 2, 3} <= iterations
    assert len(set(keys)) == len(keys)  # each iteration's transfer has its own key


def test_deadline_ends_an_endless_loop():
    endless = tf.while_loop(lambda k: k > -1, lambda k: k + 1, [tf.constant(0)])
    with tf.Session() as sess:
        start = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError,
                           match="Timed out: the step did not finish"):
            sess.run(endless, options=tf.RunOptions(timeout_in_ms=150))
        assert time.monotonic() - start < 5


def test_close_cancels_a_running_loop():
    endless = tf.while_loop(lambda k: k > -1, lambda k: k + 1, [tf.constant(0)])
    sess = tf.Session()
    outcome = []

    def run():
        try:
            sess.run(endless)
        except tf.errors.CancelledError as e:
            outcome.append(e)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.2)
    sess.close()
    thread.join(5)
    assert outcome and not thread.is_alive()


def test_kernel_error_inside_a_loop_names_the_op():
    def step(a):
        if a > 2:
            raise ValueError("boom at iteration 3")
        return a + 1

    def body(v):
        result = tf.py_func(step, [v], tf.int64, name="explode")
        result.set_shape([])
        return result
    out = tf.while_loop(lambda v: v < 10, body, [tf.constant(0, tf.int64)])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.OpError, match="boom at iteration 3"):
            sess.run(out)


def test_traced_loop_step_records_every_iteration():
    out = tf.while_loop(lambda i: i < 5, lambda i: i + 1, [tf.constant(0)], name="counted")
    meta = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(out, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=meta)
    names = [n.node_name for d in meta.step_stats.dev_stats for n in d.node_stats]
    assert names.count("counted/add") == 5


def test_many_iterations_and_feeds_inside_frames():
    n = tf.placeholder(tf.int32, [])
    y = tf.placeholder(tf.float32, [])
    out = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + y), [0, 0.0])
    with tf.Session() as sess:
        assert sess.run(out, {n: 2000, y: 0.5}) == [2000, 1000.0]
        assert sess.run(out, {n: 0, y: 0.5}) == [0, 0.0]


def test_inner_loops_of_different_outer_iterations_use_distinct_rendezvous_keys(monkeypatch):
    keys = []
    original = rendezvous.LocalRendezvous.send

    def recording_send(self, key, value, is_dead=False):
        keys.append(key)
        return original(self, key, value, is_dead)
    monkeypatch.setattr(rendezvous.LocalRendezvous, "send", recording_send)

    def outer_body(i, acc):
        def inner_body(j, s):
            with tf.device("/cpu:1"):
                s = s * 2.0 + tf.cast(i, tf.float32)
            return j + 1, s
        _, s = tf.while_loop(lambda j, s: j < 2, inner_body, [tf.constant(0), acc])
        return i + 1, s
    with tf.device("/cpu:0"):
        out = tf.while_loop(lambda i, acc: i < 3, outer_body,
                            [tf.constant(0), tf.constant(1.0)])[1]
    want = 1.0
    for i in range(3):
        for _ in range(2):
            want = want * 2.0 + i
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        assert sess.run(out) == want
    in_inner = [k for k in keys if rendezvous.parse_key(k).frame_id != 0]
    assert len(in_inner) >= 6
    assert len(set(keys)) == len(keys)  # each outer iteration's inner frame has its own id
