"""Failures inside the executors' own bookkeeping end the step at once with an InternalError
naming the op: each test plants a raising method (a stand-in for a bug) and checks the step
fails fast instead of hanging or losing the exception in a pool thread."""
import logging
import threading
import time

import pytest

import tensorflux as tf
from tensorflux.runtime import control_flow_executor as cfe
from tensorflux.runtime import dataflow
from tensorflux.runtime import executor
from tensorflux.runtime import step_stats

pytestmark = pytest.mark.timeout(60)

# A safety net: a regression shows as DeadlineExceededError after 20 s, not as a hang.
# The graph optimizer is off (L0): the failures are planted in nodes it would fold away.
_CONFIG = tf.ConfigProto(device_count={"CPU": 2}, operation_timeout_in_ms=20000,
                         graph_options=tf.GraphOptions(optimizer_options=tf.OptimizerOptions(
                             opt_level=tf.OptimizerOptions.L0)))


class Planted(RuntimeError):
    pass


def _plant(monkeypatch, owner, name, victim):
    """Makes `owner.name` raise Planted when it handles the op named `victim`."""
    original = getattr(owner, name)

    def raising(*args, **kwargs):
        ops = [a.op for a in args if hasattr(getattr(a, "op", None), "name")]
        if any(op.name.startswith(victim) for op in ops):
            raise Planted(f"planted failure in {name}")
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, name, raising)


def _expect_internal_error(fetch, op_name, feed=None):
    with tf.Session(config=_CONFIG) as sess:
        start = time.monotonic()
        with pytest.raises(tf.errors.InternalError) as info:
            sess.run(fetch, feed)
        elapsed = time.monotonic() - start
    assert elapsed < 5, f"the step took {elapsed:.1f} s to fail"
    message = str(info.value)
    assert f"'{op_name}" in message and "Planted: planted failure" in message, message
    assert info.value.op is not None and info.value.op.name.startswith(op_name)
    return info.value


def _two_device_graph():
    with tf.device("/cpu:0"):
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.square(a, name="b")
    with tf.device("/cpu:1"):
        c = tf.add(b, 1.0, name="c")
        d = tf.negative(c, name="d")
    return d


def test_completing_a_node_fails_the_step(monkeypatch):
    fetch = _two_device_graph()
    _plant(monkeypatch, dataflow.ExecutorState, "_complete", "b")
    _expect_internal_error(fetch, "b")


def test_storing_outputs_fails_the_step(monkeypatch):
    fetch = _two_device_graph()
    _plant(monkeypatch, dataflow, "store_outputs", "c")
    _expect_internal_error(fetch, "c")


def test_async_completion_fails_the_step(monkeypatch):
    """_Recv finishes through call.done on the sender's thread: its bookkeeping too."""
    fetch = _two_device_graph()
    _plant(monkeypatch, dataflow.ExecutorState, "_complete", "_recv_b")
    _expect_internal_error(fetch, "_recv_b")


def test_tracing_bookkeeping_fails_the_inline_step(monkeypatch):
    x = tf.constant(3.0, name="x")
    y = tf.square(x, name="y")

    def record(self, op, *args):
        if op.name == "y":
            raise Planted("planted failure in record")
    monkeypatch.setattr(step_stats.StepStatsCollector, "record", record)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InternalError, match="Square op 'y'.*Planted") as info:
            sess.run(y, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=tf.RunMetadata())
    assert info.value.op is y.op


def _loop():
    i = tf.constant(0, name="i0")
    return tf.while_loop(lambda i: i < 5, lambda i: tf.add(i, 1, name="step"), [i],
                         name="loop")


def test_frame_bookkeeping_fails_the_step(monkeypatch):
    """A failure while moving a value to the next iteration (frame code under the lock)."""
    out = _loop()
    original = cfe.ExecutorState._next_iteration

    def raising(self, i, frame, it, value):
        if it.num == 2:
            raise Planted("planted failure in _next_iteration")
        return original(self, i, frame, it, value)
    monkeypatch.setattr(cfe.ExecutorState, "_next_iteration", raising)
    error = _expect_internal_error(out, "loop/NextIteration")
    assert error.op.type == "NextIteration"


def test_propagation_fails_the_control_flow_step(monkeypatch):
    out = _loop()
    original = cfe.ExecutorState._propagate

    def raising(self, i, node, frame, it, dead):
        if node.op.name == "loop/step":
            raise Planted("planted failure in _propagate")
        return original(self, i, node, frame, it, dead)
    monkeypatch.setattr(cfe.ExecutorState, "_propagate", raising)
    _expect_internal_error(out, "loop/step")


def test_async_completion_in_a_frame_fails_the_step(monkeypatch):
    with tf.device("/cpu:1"):
        x = tf.constant(2.0, name="x")
    with tf.device("/cpu:0"):
        out = tf.while_loop(lambda v: v < 100.0, lambda v: v * x, [tf.constant(1.0)])
    original = cfe.ExecutorState._finish_async

    def raising(self, call, i, node, *args):
        if node.op.type == "_Recv":
            raise Planted("planted failure in _finish_async")
        return original(self, call, i, node, *args)
    monkeypatch.setattr(cfe.ExecutorState, "_finish_async", raising)
    _expect_internal_error(out, "_recv_")


def test_kernel_exceptions_stay_invalid_argument_with_their_text():
    """The rule's other half: a kernel's own (non-OpError) exception is the op's error."""
    def bad(v):
        raise ValueError("the kernel's own words")
    with tf.device("/cpu:1"):
        y = tf.py_func(bad, [tf.constant(1.0)], tf.float32, name="bad")
    with tf.Session(config=_CONFIG) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="ValueError: the kernel's own words") as info:
            sess.run(y)
    assert info.value.op is y.op


# ---- abort callbacks and the pool -----------------------------------------------------------
def _step():
    return dataflow.Step([], dataflow.ThreadPool(1), 1)


def test_abort_callback_errors_are_logged_and_kept(caplog):
    step = _step()
    seen = []

    def broken(error):
        raise KeyError("callback bug")
    step.on_abort(broken)
    step.on_abort(seen.append)
    cause = tf.errors.CancelledError(None, None, "cancelled for the test")
    with caplog.at_level(logging.ERROR, logger="tensorflux"):
        step.fail(cause)
    assert step.finished.is_set() and step.error is cause
    assert seen == [cause]  # the broken callback did not stop the next one
    assert [type(e) for e in step.abort_errors] == [KeyError]
    assert any("callback bug" in r.getMessage() and "cancelled for the test" in r.getMessage()
               for r in caplog.records)
    step.on_abort(broken)  # after the abort: runs at once, reported the same way
    assert len(step.abort_errors) == 2


def test_a_failing_rendezvous_abort_still_ends_the_step(monkeypatch):
    step = _step()
    seen = []

    def start_abort(error):
        raise RuntimeError("rendezvous bug")
    monkeypatch.setattr(step.rendezvous, "start_abort", start_abort)
    step.on_abort(seen.append)
    step.fail(tf.errors.CancelledError(None, None, "x"))
    assert step.finished.is_set() and len(seen) == 1
    assert [str(e) for e in step.abort_errors] == ["rendezvous bug"]


def test_pool_tasks_that_raise_are_reported(caplog):
    pool = dataflow.ThreadPool(1)
    errors_seen, done = [], threading.Event()

    def on_error(e):
        errors_seen.append(e)
        done.set()
    try:
        pool.submit(lambda _: 1 / 0, None, on_error)
        assert done.wait(10)
        assert isinstance(errors_seen[0], ZeroDivisionError)
        logged = threading.Event()

        class Handler(logging.Handler):
            def emit(self, record):
                if "inter-op thread" in record.getMessage():
                    logged.set()
        handler = Handler()
        logging.getLogger("tensorflux").addHandler(handler)
        try:
            pool.submit(lambda _: [][1], None)
            assert logged.wait(10)
        finally:
            logging.getLogger("tensorflux").removeHandler(handler)
    finally:
        pool.shutdown()


def test_internal_error_names_the_op_and_says_it_is_a_bug():
    op = tf.constant(1.0, name="k").op
    error = executor.internal_error(op, AttributeError("no attribute 'x'"))
    assert isinstance(error, tf.errors.InternalError) and error.op is op
    assert "Const op 'k'" in error.message and "AttributeError: no attribute 'x'" in error.message
    passed = tf.errors.NotFoundError(None, op, "gone")
    assert isinstance(executor.internal_error(op, passed), tf.errors.NotFoundError)
