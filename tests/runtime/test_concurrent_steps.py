"""Concurrent steps of one graph share its kernels' contexts and its cached plan: random ops
must draw independent numbers from one stream, and lazily made per-kernel state must be made
once (tensorflux/runtime/executor.py KernelContext)."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.runtime import executor

pytestmark = pytest.mark.timeout(120)

_THREADS = 6
_STEPS = 5


def _slow(factory):
    """`factory` that takes 20 ms: widens the window in which two first steps could race to
    create a context's generator (each would then draw the same seeded numbers)."""
    def make(*args, **kwargs):
        time.sleep(0.02)
        return factory(*args, **kwargs)
    return make


def _run_concurrently(sess, fetch, threads=_THREADS, steps=_STEPS):
    """Runs `fetch` `steps` times in each of `threads` threads started together."""
    barrier = threading.Barrier(threads)
    results, failures = [], []

    def work():
        try:
            barrier.wait()
            for _ in range(steps):
                results.append(sess.run(fetch))
        except Exception as e:  # noqa: BLE001 - reported by the assert below
            failures.append(e)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not failures, failures
    assert len(results) == threads * steps
    return results


def _rows(values):
    return [tuple(np.ravel(v).tolist()) for v in values]


@pytest.mark.parametrize("devices", [1, 2], ids=["inline", "dataflow"])
def test_concurrent_steps_draw_independent_streams(monkeypatch, devices):
    monkeypatch.setattr(np.random, "PCG64", _slow(np.random.PCG64))
    monkeypatch.setattr(np.random, "default_rng", _slow(np.random.default_rng))
    with tf.Graph().as_default():
        with tf.device(f"/cpu:{devices - 1}"):
            unseeded = tf.random_uniform([8], name="unseeded")
            seeded = tf.random_uniform([8], seed=7, name="seeded")
            seeded_normal = tf.random_normal([8], seed=3, name="seeded_normal")
        out = tf.identity(unseeded) if devices == 1 else unseeded
        fetch = [out, seeded, seeded_normal]
        config = tf.ConfigProto(device_count={"CPU": devices})
        with tf.Session(config=config) as sess:
            results = _run_concurrently(sess, fetch)
        # The same graph, one step after another in a fresh session: the reference stream.
        with tf.Session(config=config) as sess:
            sequential = [sess.run(fetch) for _ in range(_THREADS * _STEPS)]
    for k, name in enumerate(["unseeded", "seeded", "seeded_normal"]):
        concurrent = _rows(r[k] for r in results)
        assert len(set(concurrent)) == len(concurrent), f"{name}: two steps drew the same numbers"
        if k:
            # A seeded op's draws over N steps are its stream's first N draws, however the
            # threads interleaved (the same multiset as N sequential steps).
            assert sorted(concurrent) == sorted(_rows(r[k] for r in sequential)), name


def test_seeded_op_sequence_is_reproducible_in_fresh_sessions():
    x = tf.random_uniform([3], seed=11)
    runs = []
    for _ in range(2):
        with tf.Session() as sess:
            runs.append(_rows(sess.run(x) for _ in range(4)))
    assert runs[0] == runs[1] and len(set(runs[0])) == 4


def test_per_kernel_state_is_created_once_under_races():
    op = tf.constant(0.0).op
    ctx = executor.KernelContext(op, "cpu", None, None)
    made, barrier = [], threading.Barrier(8)

    def create():
        time.sleep(0.02)
        made.append(object())
        return made[-1]

    seen = []

    def work():
        barrier.wait()
        seen.append(ctx.init_state(create))
    workers = [threading.Thread(target=work) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert len(made) == 1 and all(s is made[0] for s in seen) and len(seen) == 8


def test_concurrent_first_steps_share_one_variable_and_queue():
    """The VariableV2 and queue kernels cache their resource in ctx.state: racing first steps
    must end up with one buffer and one queue."""
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    q = tf.FIFOQueue(100, tf.float32)
    enq = q.enqueue(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        _run_concurrently(sess, [inc.op, enq], threads=4, steps=5)
        assert sess.run(q.size()) == 20
        assert sess.run(v) == 20.0


def test_control_flow_plan_keeps_no_step_state():
    i = tf.constant(0)
    out = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], parallel_iterations=3)
    with tf.Session() as sess:
        results = _run_concurrently(sess, out, threads=4, steps=3)
        plan = next(p for key, p in sess._plans.items() if out in key[1])
    assert results == [10] * 12
    assert 1 < max(plan.peak_iterations.values()) <= 3
    assert not hasattr(plan, "last_peak_iterations")
