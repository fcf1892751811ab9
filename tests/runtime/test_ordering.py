"""Ordering the runtime must guarantee, observed over many steps on a three-CPU session:
control dependencies across devices (one edge, fan-out to several devices), colocation of ops
added after the first run, and graphs extended between runs.

Side effects are observed through py_funcs writing to and reading from a Python box; the writer
sleeps a little, so an executor that lets a control dependent run early is caught in (nearly)
every step rather than once in a while."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(120)

_REPEATS = 50
_DEVICES = ("/cpu:0", "/cpu:1", "/cpu:2")


def _config():
    return tf.ConfigProto(device_count={"CPU": 3}, operation_timeout_in_ms=20000)


class Box:
    """Shared state the py_funcs write and read; `events` records the order they ran in."""

    def __init__(self):
        self.value = np.float32(0)
        self.events = []
        self.lock = threading.Lock()

    def writer(self, name, delay=0.002):
        def write(k):
            time.sleep(delay)  # a dependent that does not wait for us would now run first
            with self.lock:
                self.value = np.float32(k)
                self.events.append(name)
            return np.float32(k)
        return write

    def reader(self, name):
        def read():
            with self.lock:
                self.events.append(name)
                return np.float32(self.value)
        return read


def _with_loop(fetches, use_loop):
    """Adds a trivial while loop to the fetches, so the control-flow plan runs the step."""
    if not use_loop:
        return fetches
    loop = tf.while_loop(lambda i: i < 2, lambda i: i + 1, [tf.constant(0)])
    return list(fetches) + [loop]


@pytest.mark.parametrize("use_loop", [False, True], ids=["dataflow", "control_flow"])
@pytest.mark.parametrize("src,dst", [(0, 1), (2, 0)], ids=["0to1", "2to0"])
def test_cross_device_control_dependency_orders_every_step(use_loop, src, dst):
    """Both directions: the control-flow executor drives ready nodes from one thread in
    partition order, so only a dependent on an earlier device can run too early there."""
    box = Box()
    k = tf.placeholder(tf.float32, [])
    with tf.device(_DEVICES[src]):
        write = tf.py_func(box.writer("write"), [k], tf.float32, name="write")
    with tf.device(_DEVICES[dst]):
        with tf.control_dependencies([write]):
            read = tf.py_func(box.reader("read"), [], tf.float32, name="read")
    fetches = _with_loop([read], use_loop)
    with tf.Session(config=_config()) as sess:
        for step in range(_REPEATS):
            box.events.clear()
            got = sess.run(fetches, {k: float(step + 1)})[0]
            assert box.events == ["write", "read"], f"step {step}: {box.events}"
            assert got == step + 1, f"step {step}: the read saw {got}"


def test_assign_on_one_device_happens_before_a_dependent_read_on_another():
    """A variable assigned on CPU:0; a py_func on CPU:1 that depends on the assign reads the
    value the step assigned (through a read colocated with the variable, as TF requires)."""
    k = tf.placeholder(tf.float32, [])
    with tf.device("/cpu:0"):
        v = tf.Variable(0.0, name="v")
        assign = tf.assign(v, k)
        with tf.control_dependencies([assign]):
            value = v.read_value()
    with tf.device("/cpu:1"):
        with tf.control_dependencies([assign]):
            seen = tf.py_func(lambda x: x, [value], tf.float32)
    with tf.Session(config=_config()) as sess:
        sess.run(v.initializer)
        for step in range(_REPEATS):
            got = sess.run(seen, {k: float(step + 1)})
            assert got == step + 1, f"step {step}: read {got}"


def test_control_edges_fan_out_to_every_device():
    box = Box()
    k = tf.placeholder(tf.float32, [])
    with tf.device("/cpu:0"):
        write = tf.py_func(box.writer("write"), [k], tf.float32, name="write")
    reads = []
    for d, device in enumerate(_DEVICES):
        with tf.device(device), tf.control_dependencies([write]):
            for j in range(2):  # two dependents per device share one control _Recv
                reads.append(tf.py_func(box.reader(f"read{d}{j}"), [], tf.float32,
                                        name=f"read{d}{j}"))
    with tf.Session(config=_config()) as sess:
        for step in range(_REPEATS):
            box.events.clear()
            got = sess.run(reads, {k: float(step + 1)})
            assert box.events[0] == "write" and len(box.events) == 7, box.events
            assert got == [step + 1] * 6, f"step {step}: {got}"


def test_op_with_control_dependents_on_two_devices():
    """One source, dependents on CPU:1 and CPU:2: each device needs its own control _Recv."""
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0)
        inc = tf.assign_add(v, 1.0)
    outs = []
    for device in _DEVICES[1:]:
        with tf.device(device), tf.control_dependencies([inc]):
            outs.append(tf.constant(2.0) * 3.0)
    with tf.Session(config=_config()) as sess:
        sess.run(v.initializer)
        for _ in range(3):
            assert sess.run(outs) == [6.0, 6.0]
        assert sess.run(v) == 4.0
        placed = {op.name: dev.name for op, dev in sess._placer.assignment.items()}
    assert placed[outs[0].op.name].endswith("CPU:1") and placed[outs[1].op.name].endswith("CPU:2")


def test_colocated_op_built_after_the_first_run_goes_with_its_variable():
    with tf.device("/cpu:2"):
        v = tf.Variable(1.0, name="v")
    elsewhere = tf.constant(5.0, name="elsewhere")
    with tf.Session(config=_config()) as sess:
        sess.run(v.initializer)
        assert sess.run(v) == 1.0
        assert sess.run(elsewhere) == 5.0
        inc = tf.assign_add(v, 2.0)  # no device: must join v's colocation group
        with tf.colocate_with(v):
            doubled = tf.multiply(v.read_value(), 2.0, name="doubled")
        assert sess.run(inc) == 3.0
        assert sess.run(doubled) == 6.0
        assert sess.run(v) == 3.0
        placed = sess._placer.assignment
        assert placed[inc.op] is placed[v.op] and placed[v.op].name.endswith("CPU:2")
        assert placed[doubled.op] is placed[v.op]


def test_graph_extended_between_runs_keeps_old_plans_and_orders_new_ops():
    box = Box()
    k = tf.placeholder(tf.float32, [])
    with tf.device("/cpu:0"):
        write = tf.py_func(box.writer("write"), [k], tf.float32, name="write")
        v = tf.Variable(10.0)
    with tf.Session(config=_config()) as sess:
        sess.run(v.initializer)
        assert sess.run(write, {k: 1.0}) == 1.0
        # Extend: new dependents of the already-compiled `write`, on other devices.
        with tf.device("/cpu:1"), tf.control_dependencies([write]):
            read1 = tf.py_func(box.reader("read1"), [], tf.float32)
        with tf.device("/cpu:2"), tf.control_dependencies([write]):
            read2 = tf.py_func(box.reader("read2"), [], tf.float32) + v
        for step in range(_REPEATS // 5):
            box.events.clear()
            assert sess.run([read1, read2], {k: float(step)}) == [step, step + 10.0]
            assert box.events[0] == "write", box.events
        # Extend again, with an op added to v's group and a new consumer across devices.
        inc = tf.assign_add(v, 1.0)
        with tf.device("/cpu:1"):
            after = tf.identity(inc) * 2.0
        assert sess.run(after) == 22.0
        assert sess.run(write, {k: 3.0}) == 3.0  # the first plan still runs
        assert sess.run(v) == 11.0
