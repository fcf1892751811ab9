"""The dataflow executor: deadlines, cancellation on close, async kernels holding no thread,
values freed after their last consumer, dead values, concurrent steps."""
import gc
import threading
import time
import weakref

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import registry
from tensorflux.ops import sendrecv_ops

pytestmark = pytest.mark.timeout(30)

LOCAL = "/job:localhost/replica:0/task:0/device:CPU:%d"


def _config(n=2, **kwargs):
    return tf.ConfigProto(device_count={"CPU": n}, **kwargs)


def _never_received():
    return sendrecv_ops.recv(tf.float32, "never_sent", LOCAL % 1, 1, LOCAL % 0)


def _op(op_def, inputs=(), out_types=(tf.float32,), name=None):
    """Adds an op of an unregistered (test-only) OpDef to the default graph."""
    op = tf.get_default_graph().create_op(op_def.name, list(inputs), list(out_types),
                                          name=name or op_def.name, op_def=op_def)
    return op.outputs[0] if op.outputs else op


def test_recv_that_never_gets_its_value_hits_the_run_deadline():
    recv = _never_received()
    ok = tf.constant(2.0)
    with tf.Session() as sess:
        start = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError, match="Recv") as info:
            sess.run(recv, options=tf.RunOptions(timeout_in_ms=100))
        assert time.monotonic() - start < 3
        assert "100 ms" in str(info.value)
        assert sess.run(ok) == 2.0  # the session still works


def test_operation_timeout_from_config():
    recv = _never_received()
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=80)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out.*Recv"):
            sess.run(recv)


def test_close_cancels_a_blocked_step():
    recv = _never_received()
    sess = tf.Session()
    outcome = []

    def run():
        try:
            sess.run(recv)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not sess._active_steps and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sess._active_steps, "the step never started"
    sess.close()
    thread.join(5)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], tf.errors.CancelledError)
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(recv)


def test_kernel_errors_name_the_op_and_end_the_step():
    with tf.device("/cpu:1"):
        v = tf.Variable(np.float32(1.0), name="never_initialized")
    with tf.device("/cpu:0"):
        out = v * 2.0
    with tf.Session(config=_config()) as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized"):
            sess.run(out, options=tf.RunOptions(timeout_in_ms=5000))
        sess.run(v.initializer)
        assert sess.run(out) == 2.0


def _chain_over_devices(n):
    x = tf.placeholder(tf.float32, [3])
    y = x
    for d in range(n):
        with tf.device("/cpu:%d" % d):
            y = tf.tanh(y * 1.5 + float(d))
    return x, y


def test_one_inter_op_thread_is_enough_for_many_partitions():
    x, y = _chain_over_devices(4)
    value = np.array([0.1, -0.2, 0.3], np.float32)
    want = value
    for d in range(4):
        want = np.tanh(want * np.float32(1.5) + np.float32(d))
    config = _config(4, inter_op_parallelism_threads=1)
    with tf.Session(config=config) as sess:
        np.testing.assert_array_equal(sess.run(y, {x: value}), want)


def test_concurrent_steps_of_one_session():
    x, y = _chain_over_devices(3)
    with tf.Session(config=_config(3)) as sess:
        inputs = [np.full(3, k, np.float32) for k in range(8)]
        want = [sess.run(y, {x: v}) for v in inputs]
        got = [None] * len(inputs)

        def run(k):
            for _ in range(5):
                got[k] = sess.run(y, {x: inputs[k]})
        threads = [threading.Thread(target=run, args=(k,)) for k in range(len(inputs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


_SLEEP = registry.OpDef("TestAsyncSleep", [], ["y: float"], {}, True, "test")
_EVENTS = []


@_SLEEP.kernel("CPU", is_async=True)
def _sleep_kernel(ctx, call):
    _EVENTS.append("start")

    def finish():
        _EVENTS.append("done")
        call.done(np.float32(1.0))
    threading.Timer(0.3, finish).start()


def test_async_kernels_do_not_hold_a_thread():
    a = _op(_SLEEP, name="a")
    b = _op(_SLEEP, name="b")
    total = a + b
    with tf.Session(config=_config(1, inter_op_parallelism_threads=1)) as sess:
        del _EVENTS[:]
        assert sess.run(total) == 2.0
    # On one inter-op thread, both waits began before either ended.
    assert _EVENTS == ["start", "start", "done", "done"]


_LIVE = []
_MAKE = registry.OpDef("TestMakeBig", [], ["y: float"], {}, True, "test")
_CHECK = registry.OpDef("TestCheckFreed", [], ["y: bool"], {}, True, "test")


@_MAKE.kernel("CPU")
def _make_kernel(ctx):
    value = np.ones(1000, np.float32)
    _LIVE.append(weakref.ref(value))
    return value


@_CHECK.kernel("CPU")
def _check_kernel(ctx):
    gc.collect()
    return np.bool_(_LIVE[-1]() is None)


@pytest.mark.parametrize("devices", [1, 2])
def test_values_are_freed_after_their_last_consumer(devices):
    big = _op(_MAKE, name="big")
    with tf.device("/cpu:%d" % (devices - 1)):
        total = tf.reduce_sum(big, name="total")
    with tf.control_dependencies([total.op]):
        freed = _op(_CHECK, out_types=[tf.bool], name="freed")
    with tf.Session(config=_config(devices)) as sess:
        got_total, got_freed = sess.run([total, freed])
        plan = next(iter(sess._plans.values()))
    assert got_total == 1000.0
    assert got_freed, "the big intermediate value was still alive after its last consumer"
    assert plan.inline == (devices == 1)


_DEAD = registry.OpDef("TestDeadValue", [], ["y: float"], {}, True, "test")


@_DEAD.kernel("CPU", is_async=True)
def _dead_kernel(ctx, call):
    call.done(None, is_dead=True)


def test_dead_values_propagate_across_devices():
    dead = _op(_DEAD, name="dead")
    with tf.device("/cpu:1"):
        downstream = tf.negative(dead, name="downstream")
    alive = tf.constant(1.0)
    with tf.Session(config=_config()) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="downstream:0 is dead"):
            sess.run(downstream, options=tf.RunOptions(timeout_in_ms=5000))
        assert sess.run(alive) == 1.0


def test_graph_extension_after_a_multi_device_run():
    x, y = _chain_over_devices(2)
    with tf.Session(config=_config()) as sess:
        first = sess.run(y, {x: np.zeros(3, np.float32)})
        with tf.device("/cpu:1"):
            z = y * 2.0
        np.testing.assert_array_equal(sess.run(z, {x: np.zeros(3, np.float32)}), first * 2)


def test_a_control_input_from_a_dead_node_makes_the_node_dead():
    dead = _op(_DEAD, name="dead")
    with tf.control_dependencies([dead]):
        waits = tf.identity(tf.constant(2.0), name="waits")
    with tf.Session(config=_config()) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="waits:0 is dead"):
            sess.run(waits)


@pytest.mark.parametrize("devices", [1, 2])
def test_multi_output_kernels_store_each_output_in_its_own_slot(devices):
    parts = tf.unstack(tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), name="parts")
    with tf.device("/cpu:%d" % (devices - 1)):
        joined = tf.stack([parts[2], parts[0], parts[1]], name="joined")
    after = tf.identity(joined * 10.0, name="after")
    with tf.Session(config=_config(devices)) as sess:
        got = sess.run([joined, after, parts[0]], options=tf.RunOptions(
            output_partition_graphs=True), run_metadata=tf.RunMetadata())
    np.testing.assert_array_equal(got[0], [[5.0, 6.0], [1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(got[1], [[50.0, 60.0], [10.0, 20.0], [30.0, 40.0]])
    np.testing.assert_array_equal(got[2], [1.0, 2.0])


_WAITS = registry.OpDef("TestWaitsUntilCancelled", [], ["y: float"], {}, True, "test")
_BOOM = registry.OpDef("TestBoom", [], ["y: float"], {}, True, "test")


@_WAITS.kernel("CPU", is_async=True)
def _waits_kernel(ctx, call):
    # Fails only when the step is aborted, with an error of its own (as a cancelled queue or
    # _Recv does): that later error must not replace the one that caused the abort.
    call.on_cancel(lambda error: call.fail(tf.errors.CancelledError(
        None, None, "cancelled because the step was aborted")))


@_BOOM.kernel("CPU")
def _boom_kernel(ctx):
    raise tf.errors.InvalidArgumentError(None, None, "boom: the first failure")


def test_the_first_error_of_a_step_is_the_one_reported():
    waits = _op(_WAITS, name="waits")
    with tf.device("/cpu:1"):
        boom = _op(_BOOM, name="boom")
    with tf.Session(config=_config()) as sess:
        for _ in range(5):
            with pytest.raises(tf.errors.InvalidArgumentError, match="boom: the first failure"):
                sess.run([waits, boom])
