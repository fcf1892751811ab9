"""The per-step byte cap (tensorflux/framework/limits.py StepBudget): a step whose ops produce
more than the cap ends at once with ResourceExhaustedError naming the op and the bytes; the
value-sized allocators refuse before allocating. Off by default."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import limits

pytestmark = pytest.mark.timeout(60)

_MIB = 1 << 20


def _chain(n, size=_MIB // 4):
    """n float32 tensors of `size` elements (1 MiB each), each made by its own op."""
    x = tf.placeholder(tf.float32, [size])
    outs = [x]
    for i in range(n):
        outs.append(tf.multiply(outs[-1], 2.0, name=f"mul{i}"))
    return x, tf.reduce_sum(outs[-1])


def _config(devices=1):
    """Unoptimized plans: fusion would run a chain as one step that allocates once, and these
    tests count each op's outputs."""
    return tf.ConfigProto(device_count={"CPU": devices}, graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))


def _run(fetch, feed, devices=1):
    config = _config(devices)
    with tf.Session(config=config) as sess:
        return sess.run(fetch, feed)


def test_off_by_default_and_setter():
    assert limits.get_max_step_bytes() is None
    with limits.max_step_bytes(123):
        assert limits.get_max_step_bytes() == 123
    assert limits.get_max_step_bytes() is None
    for bad in (0, -1, 1.5, "1"):
        with pytest.raises(ValueError):
            limits.set_max_step_bytes(bad)


def test_step_under_the_cap_runs():
    x, out = _chain(4)
    with limits.max_step_bytes(6 * _MIB):
        value = _run(out, {x: np.ones(_MIB // 4, np.float32)})
    assert value == pytest.approx(16.0 * _MIB // 4)


@pytest.mark.parametrize("devices", [1, 2], ids=["inline", "dataflow"])
def test_step_over_the_cap_names_the_op(devices):
    x, out = _chain(8)
    if devices == 2:
        with tf.device("/cpu:1"):
            out = tf.identity(out)
    with limits.max_step_bytes(int(4.5 * _MIB)):
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            _run(out, {x: np.ones(_MIB // 4, np.float32)}, devices)
    text = str(info.value)
    assert text.startswith("OOM when allocating the outputs for Mul op 'mul4': 1048576 bytes "
                           "asked"), text
    assert "per-step limit is 4718592 bytes" in text and info.value.op.name == "mul4", text
    # The same step without the cap runs: the cap was the only reason.
    assert _run(out, {x: np.ones(_MIB // 4, np.float32)}, devices) > 0


def test_value_sized_allocation_refused_before_allocating(monkeypatch):
    made = []
    real_zeros = np.zeros
    monkeypatch.setattr(np, "full", lambda *a, **k: made.append(a) or real_zeros(1))
    shape = tf.placeholder(tf.int32, [2])
    big = tf.fill(shape, 1.0, name="big")
    small = tf.ones([1024], name="small")  # 4 KiB produced first
    with tf.control_dependencies([small]):
        out = tf.reduce_sum(big)
    with limits.max_step_bytes(1 << 20):
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            _run([out, small], {shape: [1024, 512]})
    text = str(info.value)
    assert text.startswith("OOM when allocating tensor with shape[1024,512] and type float32 "
                           "for Fill op 'big': 2097152 bytes asked"), text
    assert made and all(list(shape) != [1024, 512] for shape, *_ in made), \
        f"Fill allocated before the step cap refused it: {made}"


def test_while_loop_step_is_capped():
    i0 = tf.constant(0)
    x0 = tf.zeros([_MIB // 4])
    _, x = tf.while_loop(lambda i, x: i < 20, lambda i, x: (i + 1, x + 1.0), [i0, x0])
    with limits.max_step_bytes(8 * _MIB):
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            _run(x, None)
    assert "per-step limit is 8388608 bytes" in str(info.value)
    assert info.value.op is not None


def test_cap_with_tracing_still_fills_run_metadata():
    x, out = _chain(2)
    meta = tf.RunMetadata()
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    with limits.max_step_bytes(8 * _MIB):
        with tf.Session(config=_config()) as sess:
            sess.run(out, {x: np.ones(_MIB // 4, np.float32)}, options=opts, run_metadata=meta)
    names = {n.node_name for d in meta.step_stats.dev_stats for n in d.node_stats}
    assert {"mul0", "mul1"} <= names


def test_each_step_has_its_own_budget():
    x, out = _chain(3)
    with limits.max_step_bytes(4 * _MIB):
        with tf.Session(config=_config()) as sess:
            for _ in range(5):  # 3 MiB a step: five steps would be 15 MiB if the count leaked
                sess.run(out, {x: np.ones(_MIB // 4, np.float32)})
