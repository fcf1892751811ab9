"""intra_op: chunks split over threads only when BLAS is single-threaded, errors reach the
caller, no thread outlives a call, and split convolutions match the serial ones."""
import threading

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import window_kernels
from tensorflux.ops import intra_op

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def split_everything(monkeypatch):
    monkeypatch.setattr(intra_op, "MIN_FLOPS", 0)
    monkeypatch.setattr(intra_op, "max_threads", 3)
    monkeypatch.setattr(intra_op, "blas_threads", lambda: 1)


def test_workers_share_the_cpus_with_blas_threads(monkeypatch):
    monkeypatch.setattr(intra_op, "max_threads", 4)
    monkeypatch.setattr(intra_op, "blas_threads", lambda: 1)
    assert intra_op.workers(1e9) == 4 and intra_op.workers(1e3) == 1
    monkeypatch.setattr(intra_op, "blas_threads", lambda: 2)
    assert intra_op.workers(1e9) == 2
    monkeypatch.setattr(intra_op, "blas_threads", lambda: 8)
    assert intra_op.workers(1e9) == 1


def test_run_split_covers_every_part_once_and_reraises(split_everything):
    seen, threads = {}, set()

    def record(k, parts):
        seen[k] = list(parts)
        threads.add(threading.current_thread().name)
    before = threading.active_count()
    intra_op.run_split(record, list(range(7)), 1e9)
    assert sorted(p for parts in seen.values() for p in parts) == list(range(7))
    assert len(seen) == 3 and len(threads) == 3
    assert threading.active_count() == before

    def fail(k, parts):
        if k == 2:
            raise ValueError("part 2 failed")
    with pytest.raises(ValueError, match="part 2 failed"):
        intra_op.run_split(fail, list(range(7)), 1e9)
    assert threading.active_count() == before


def test_split_convolutions_match_serial_and_are_deterministic(split_everything, monkeypatch):
    monkeypatch.setattr(window_kernels, "CHUNK_ELEMENTS", 64)  # one image a chunk: 5 chunks
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 7, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    dy = rng.standard_normal((5, 3, 4, 4)).astype(np.float32)

    def run():
        xt, wt = tf.constant(x), tf.constant(w)
        y = tf.nn.conv2d(xt, wt, [1, 2, 2, 1], "SAME")
        with tf.Session() as sess:
            return sess.run([y] + tf.gradients(y, [xt, wt], tf.constant(dy)))
    split = run()
    np.testing.assert_array_equal(run()[2], split[2])  # the same sums in the same order
    monkeypatch.setattr(intra_op, "max_threads", 1)
    for got, want in zip(split, run()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_sessions_limit_caps_the_split(split_everything, monkeypatch):
    from tensorflux.ops import blas_threads
    seen_blas = []
    monkeypatch.setattr(blas_threads, "limited",
                        lambda n: seen_blas.append(n) or intra_op.limit(0))
    for threads, workers in ((0, 3), (2, 2), (1, 1)):
        used = set()
        with intra_op.limit(threads):
            intra_op.run_split(lambda k, parts: used.add(k), list(range(7)), 1e9)
        assert len(used) == workers
    assert seen_blas == [1]  # with one thread in all, the chunks' GEMMs get one BLAS thread too
    assert intra_op.workers(1e9) == 3  # the limit ended with its block


def test_conv_kernels_run_under_the_sessions_limit(monkeypatch):
    limits = []
    real = intra_op.limit
    monkeypatch.setattr(intra_op, "limit", lambda n: limits.append(n) or real(n))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    with tf.Graph().as_default():
        xt = tf.placeholder(tf.float32, x.shape)
        wt = tf.constant(w)
        y = tf.nn.conv2d(xt, wt, [1, 1, 1, 1], "SAME")
        grads = tf.gradients(tf.reduce_sum(y), [xt, wt])
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
            sess.run([y] + grads, {xt: x})
    assert limits == [1, 1, 1]  # Conv2D and both backprops


@pytest.mark.parametrize("held,cap,used", [(2, 0, 2), (1, 0, 1), (2, 1, 1)])
def test_a_laned_step_splits_over_the_lanes_its_thread_holds(monkeypatch, held, cap, used):
    """Whatever the BLAS's threads: in a laned step the parts go over the lanes (at most the
    session's cap), each on one lane and one BLAS thread."""
    from tensorflux.ops import blas_threads, lanes
    monkeypatch.setattr(intra_op, "blas_threads", lambda: 8)
    fake = []
    monkeypatch.setattr(blas_threads, "_blas", [(lambda: 4, fake.append)])
    seen = {}

    def record(k, parts):
        seen[k] = (list(parts), lanes.current(), threading.current_thread().name)
    with lanes.use(held), intra_op.limit(cap):
        intra_op.run_split(record, list(range(5)), 1e9)
    assert len(seen) == used and {s[1] for s in seen.values()} == {1}
    assert sorted(p for s in seen.values() for p in s[0]) == list(range(5))
    assert fake and set(fake) == {1, 4}  # limited to one BLAS thread, restored after
    assert lanes.current() == 0
