"""blas_threads.matmul: NumPy's product, small ones on one BLAS thread, a session's
intra_op_parallelism_threads capping the rest, the count restored."""
import threading
import time

import numpy as np
import pytest

from tensorflux.ops import blas_threads

pytestmark = pytest.mark.timeout(60)


class _FakeBlas:
    def __init__(self, threads):
        self.threads = threads
        self.calls = []

    def get(self):
        return self.threads

    def set(self, n):
        self.calls.append(n)
        self.threads = n


@pytest.fixture
def fake_blas(monkeypatch):
    """A 4-thread BLAS whose thread count each np.matmul call records in `seen`."""
    fake = _FakeBlas(4)
    fake.seen = []
    monkeypatch.setattr(blas_threads, "_blas", [(fake.get, fake.set)])
    real = np.matmul
    monkeypatch.setattr(blas_threads.np, "matmul", lambda a, b: fake.seen.append(fake.threads)
                        or real(a, b))
    return fake


@pytest.mark.parametrize("shape,threads,used", [
    ((30, 40, 50), 0, 4),      # tiny: OpenBLAS keeps it on one thread itself, left alone
    ((64, 64, 64), 1, 4),
    ((80, 80, 80), 0, 1),      # small: one thread
    ((128, 128, 64), 0, 1),    # word2vec's products: still small
    ((100, 784, 256), 0, 4),   # the MLP's first layer: the BLAS's own threads
    ((1024, 256, 256), 0, 4),
    ((100, 784, 256), 1, 1),   # intra_op_parallelism_threads=1: one thread for everything
    ((100, 784, 256), 2, 2),   # =2: at most two
    ((100, 784, 256), 8, 4),   # above the BLAS's own count: left as it is
    ((80, 80, 80), 2, 1)])
def test_products_run_on_the_threads_their_size_and_session_allow(fake_blas, shape, threads,
                                                                    used):
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    got = blas_threads.matmul(a, b.T.copy().T, threads)  # an F-ordered operand too
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-4)
    assert fake_blas.seen[0] == used and fake_blas.threads == 4
    assert fake_blas.calls == ([used, 4] if used != 4 else [])


def test_limited_block_runs_on_fewer_threads_and_restores(fake_blas):
    with blas_threads.limited(1):
        assert fake_blas.threads == 1
        blas_threads.matmul(np.ones((300, 300)), np.ones((300, 300)))  # nested: reentrant
        assert fake_blas.threads == 1
    assert fake_blas.threads == 4
    with blas_threads.limited(0):
        assert fake_blas.threads == 4
    assert fake_blas.calls == [1, 4]


def test_session_intra_op_threads_reach_the_matmul_kernel(fake_blas):
    import tensorflux as tf
    a = np.ones((100, 784), np.float32)
    b = np.ones((784, 256), np.float32)
    for threads, used in ((0, 4), (1, 1)):
        fake_blas.seen.clear()
        with tf.Graph().as_default():
            product = tf.matmul(tf.constant(a), tf.placeholder(tf.float32, [784, 256]))
            config = tf.ConfigProto(intra_op_parallelism_threads=threads)
            with tf.Session(config=config) as sess:
                np.testing.assert_array_equal(sess.run(product, {product.op.inputs[1]: b}),
                                              np.full((100, 256), 784.0, np.float32))
        assert fake_blas.seen == [used]


def test_user_limit_of_one_thread_is_left_alone(monkeypatch):
    fake = _FakeBlas(1)
    monkeypatch.setattr(blas_threads, "_blas", [(fake.get, fake.set)])
    a = np.ones((3, 4))
    np.testing.assert_array_equal(blas_threads.matmul(a, a.T), np.full((3, 3), 4.0))
    assert fake.calls == []


def test_the_real_blas_is_restored():
    funcs = blas_threads._find_blas()
    before = [get() for get, _ in funcs]
    a = np.random.default_rng(1).standard_normal((64, 64)).astype(np.float32)
    np.testing.assert_allclose(blas_threads.matmul(a, a), a @ a, rtol=1e-5, atol=1e-4)
    assert [get() for get, _ in funcs] == before


@pytest.mark.parametrize("shape", [(600, 300, 200), (200, 300, 600)])  # rows, then columns
def test_a_laned_step_computes_a_big_product_in_blocks_both_lanes_take(monkeypatch, shape):
    """The same blocks, so the same bits, whether both lanes take them, one thread computes
    them all (one lane held; intra_op_parallelism_threads=1), or the thread waiting for a
    launched step helps."""
    from tensorflux.ops import lanes
    m, k, n = shape
    rng = np.random.default_rng(2)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = np.asfortranarray(rng.standard_normal((k, n)).astype(np.float32))
    assert m * k * n >= blas_threads.SPLIT_MACS
    handed = []
    real_submit = lanes.submit
    monkeypatch.setattr(lanes, "submit", lambda fn, *args: handed.append(fn) or real_submit(
        fn, *args))
    with lanes.use(2):
        both = blas_threads.matmul(a, b)
        assert len(handed) == 1
        alone = blas_threads.matmul(a, b, threads=1)
        with lanes.use(1):
            one_lane = blas_threads.matmul(a, b)
    assert len(handed) == 1
    launched = real_submit(lambda: blas_threads.matmul(a, b))  # on the lane thread, with
    time.sleep(0.001)                                          # the waiting thread helping
    helped = launched.wait()
    np.testing.assert_allclose(both, a @ b, rtol=1e-4, atol=1e-3)
    for other in (alone, one_lane, helped):
        np.testing.assert_array_equal(both, other)
    assert lanes.current() == 0


def test_blocks_cover_the_product_once_whoever_takes_them():
    from tensorflux.ops import lanes
    rng = np.random.default_rng(3)
    a = rng.standard_normal((64, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 4096)).astype(np.float32)
    product = blas_threads._Chunked(a, b)
    assert [blk[2].shape[1] for blk in product.blocks] == [2048] * blas_threads.BLOCKS
    takers = [lanes.submit(product.work) for _ in range(3)]
    got = product.result()
    for t in takers:
        t.wait()
    np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-3)


def test_blocks_of_one_count_run_together_and_others_wait(monkeypatch):
    fake = _FakeBlas(4)
    monkeypatch.setattr(blas_threads, "_blas", [(fake.get, fake.set)])
    both_in = threading.Barrier(2, timeout=10)
    inside = threading.Event()
    seen = {}

    def one_thread_block(name):
        with blas_threads.limited(1):
            both_in.wait()  # both blocks of count 1 are inside at once
            seen[name] = fake.threads
            inside.set()
            time.sleep(0.1)

    def two_thread_block():
        inside.wait(10)
        with blas_threads.limited(2):  # waits for the blocks of count 1 to leave
            seen["two"] = fake.threads
    threads = [threading.Thread(target=one_thread_block, args=(n,)) for n in "ab"]
    threads.append(threading.Thread(target=two_thread_block))
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"a": 1, "b": 1, "two": 2}
    assert fake.threads == 4 and fake.calls == [1, 4, 2, 4]


def test_a_forked_child_gets_its_own_lane_thread_and_gate():
    import os
    from tensorflux.ops import lanes
    rng = np.random.default_rng(4)
    a = rng.standard_normal((300, 300)).astype(np.float32)
    b = rng.standard_normal((300, 400)).astype(np.float32)
    with lanes.use(2):
        want = blas_threads.matmul(a, b)  # the lane thread is running now
    pid = os.fork()
    if pid == 0:  # the child: no lane thread of the parent's, and a gate of its own
        code = 1
        try:
            with lanes.use(2):
                got = blas_threads.matmul(a, b)
            code = 0 if np.array_equal(got, want) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
