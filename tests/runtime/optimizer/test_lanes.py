"""lanes: a big product whose result is read much later runs on a second thread beside the
steps in between. Same values as the plan without it; its switch (inter_op_parallelism_threads
= 1, L0, one CPU) turns it off; it never crosses a state write; errors come out as the
sequential order gives them, and every thread is joined."""
import threading
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.ops import blas_threads, lanes
from tensorflux.runtime import optimizer, plan_codegen

from tests.runtime.optimizer.opt_util import L0, assert_same, config, plan_of

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def two_lanes(monkeypatch):
    """Two lanes even where the test process may use one CPU."""
    monkeypatch.setattr(optimizer, "lane_width", lambda: 2)


def _graph(write=False):
    """A [256, 512] x [512, 512] product (67M multiply-adds), then 120 small products and
    tanh steps that do not need it (the window), then a sum reading both."""
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [256, 512], name="x")
    product = tf.matmul(x, tf.constant(rng.standard_normal((512, 512), np.float32)),
                        name="big_product")
    h = tf.placeholder(tf.float32, [16, 16], name="h")
    m = tf.constant(rng.standard_normal((16, 16), np.float32) * 0.3)
    counter = tf.Variable(0.0, name="counter")
    for i in range(120):
        h = tf.tanh(tf.matmul(h, m, name=f"small_{i}"))
        if write and i == 60:
            with tf.control_dependencies([tf.assign_add(counter, 1.0)]):
                h = tf.identity(h)
    total = tf.reduce_sum(product, name="sum_product") + tf.reduce_sum(h)
    feed = {x: rng.standard_normal((256, 512), np.float32),
            h.graph.get_tensor_by_name("h:0"): rng.standard_normal((16, 16), np.float32)}
    return total, feed, counter


def _run(fetch, feed, cfg, init=None):
    with tf.Session(config=cfg) as sess:
        if init is not None:
            sess.run(init)
            sess._plans.clear()
        values = [sess.run(fetch, feed) for _ in range(2)]
        return values, plan_of(sess)


def _inter_op(n):
    cfg = config()
    cfg.inter_op_parallelism_threads = n
    return cfg


def test_a_big_product_runs_beside_the_steps_that_do_not_need_it():
    total, feed, _ = _graph()
    laned, plan = _run(total, feed, config())
    plain, off = _run(total, feed, _inter_op(1))
    reference, _ = _run(total, feed, config(L0))
    assert plan.optimizer_stats["lanes"] == 1
    assert [plan.steps[k][1].op.name for k in plan.launches] == ["big_product"]
    assert "lanes" not in off.optimizer_stats and off.launches == ()
    assert_same(laned, plain, exact=False)
    assert_same(laned, reference, exact=False)
    assert laned[0] == laned[1]  # the same bits every run


def test_the_switch_and_one_cpu_turn_it_off(monkeypatch):
    total, feed, _ = _graph()
    _, plan = _run(total, feed, config(L0))
    assert plan.launches == () and "lanes" not in (plan.optimizer_stats or {})
    monkeypatch.setattr(optimizer, "lane_width", lambda: 1)
    _, plan = _run(total, feed, config())
    assert plan.launches == () and plan.optimizer_stats["lanes"] == 0


def test_no_launch_across_a_state_write():
    total, feed, counter = _graph(write=True)
    values, plan = _run(total, feed, config(), init=counter.initializer)
    assert plan.launches == ()
    plain, _ = _run(total, feed, config(L0), init=counter.initializer)
    assert_same(values, plain, exact=False)


def test_products_run_on_the_lanes_they_hold(monkeypatch):
    """The launched product on its own thread with one lane; the window's steps on the
    calling thread with one lane; after the join, two; after the run, none."""
    seen = []
    real = blas_threads.matmul

    def spy(x, y, threads=0):
        seen.append((x.shape[0] * x.shape[1] * y.shape[1], threading.current_thread().name,
                     lanes.current()))
        return real(x, y, threads)
    monkeypatch.setattr(blas_threads, "matmul", spy)
    x = tf.placeholder(tf.float32, [256, 512])
    w = tf.placeholder(tf.float32, [512, 512])
    big = tf.matmul(x, w, name="big")
    h = tf.placeholder(tf.float32, [16, 16])
    for _ in range(150):
        h = tf.tanh(tf.matmul(h, h))
    after = tf.matmul(big, w, name="after")  # after the join: split over the two lanes
    total = tf.reduce_sum(after) + tf.reduce_sum(h)
    rng = np.random.default_rng(1)
    feed = {x: rng.standard_normal((256, 512), np.float32) * 0.1,
            w: rng.standard_normal((512, 512), np.float32) * 0.1,
            h.graph.get_tensor_by_name("Placeholder_2:0"): np.eye(16, dtype=np.float32)}
    with tf.Session(config=config()) as sess:
        sess.run(total, feed)
        plan = plan_of(sess)
        assert [plan.steps[k][1].op.name for k in plan.launches] == ["big"]
        seen.clear()
        sess.run(total, feed)
    big = [s for s in seen if s[0] == 256 * 512 * 512]
    small = [s for s in seen if s[0] == 16 * 16 * 16]
    assert big[0][1] == "tensorflux-lane" and big[0][2] == 1
    assert big[1][1] == threading.current_thread().name and big[1][2] == 2
    assert {s[1:] for s in small} == {(threading.current_thread().name, 1)}
    assert lanes.current() == 0


# ---- failures: as the sequential order reports them, every thread joined ----------------
def _laned_plan():
    total, feed, _ = _graph()
    with tf.Session(config=config()) as sess:
        sess.run(total, feed)
        plan = plan_of(sess)
    assert len(plan.launches) == 1
    return plan, list(feed.values())  # in the order the session fed them


def _regenerate(plan, replace):
    steps = [list(s) for s in plan.steps]
    for k, fn in replace.items():
        steps[k][0] = fn
    return plan_codegen.generate([tuple(s) for s in steps], plan.template, plan.feed_slots,
                                 plan.fetch_slots, plan.fetch_deref, plan.launches)


def _window_step(plan):
    launched = plan.launches[0]
    return next(k for k in range(launched + 1, len(plan.steps))
                if plan.steps[k][1].op.name.startswith("small_"))


def _fails(message, delay=0.0, finished=None):
    def kernel(ctx, *args):
        time.sleep(delay)
        if finished is not None:
            finished.append(message)
        raise ValueError(message)
    return kernel


def _lane_is_idle():
    return lanes.submit(lambda: None).wait() is None  # nothing left queued before it


@pytest.mark.parametrize("case", ["launched", "window", "both"])
def test_a_failure_is_reported_as_in_order(case):
    plan, feeds = _laned_plan()
    launched, window = plan.launches[0], _window_step(plan)
    replace, finished = {}, []
    if case in ("launched", "both"):
        replace[launched] = _fails("launched failed", 0.2, finished)  # still running when...
    if case in ("window", "both"):
        replace[window] = _fails("window failed")  # ...this one fails
    run = _regenerate(plan, replace)
    with pytest.raises(errors.InvalidArgumentError) as failure:
        run(feeds)
    want = "big_product" if case != "window" else plan.steps[window][1].op.name
    assert f"'{want}'" in str(failure.value)
    assert ("launched failed" if case != "window" else "window failed") in str(failure.value)
    assert finished == ([] if case == "window" else ["launched failed"])  # waited for
    assert _lane_is_idle() and lanes.current() == 0


def test_the_loop_and_the_trace_compute_what_the_launch_computes():
    total, feed, _ = _graph()
    with tf.Session(config=config()) as sess:
        got = sess.run(total, feed)
        plan = plan_of(sess)
        looped = plan.run_loop(list(feed.values()))
        traced = sess.run(total, feed, options=tf.RunOptions(
            trace_level=tf.RunOptions.FULL_TRACE), run_metadata=tf.RunMetadata())
    assert got == looped[0] == traced


def test_laned_steps_of_several_threads_share_the_lane():
    """Two threads running the laned step at once (one lane thread serves both launches and
    splits, in order) get the values one thread gets."""
    total, feed, _ = _graph()
    with tf.Session(config=config()) as sess:
        want = sess.run(total, feed)
        assert len(plan_of(sess).launches) == 1
        got, failures = [], []

        def steps():
            try:
                for _ in range(5):
                    got.append(sess.run(total, feed))
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)
        threads = [threading.Thread(target=steps) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not failures and got == [want] * 10
