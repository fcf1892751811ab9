"""Matrix products on the right number of BLAS threads.

Products below SMALL_MACS multiply-adds run with the BLAS limited to one thread: there the
threads cost more than they gain, and OpenBLAS's threads spin while they wait for one another,
so on a busy machine a small product split over threads waits for whichever thread was
descheduled (on this project's 2-core machine under load, word2vec's step, three 128x128x64
products, took 459 ms on two OpenBLAS threads and 1.7 ms on one). Larger products run on the
BLAS's own threads, as TensorFlow runs its on every core: on an idle machine two threads
compute a 100x784x256 product (the MLP's first layer) in 0.33 ms against 0.45 ms on one.

On a shared machine, give the session `ConfigProto(intra_op_parallelism_threads=1)` (every
product and every intra-op split of that session's kernels on one thread) or set
OPENBLAS_NUM_THREADS=1 for the whole process: measured under load (two busy processes on the
2 cores), the MLP step took 6.6 ms with two BLAS threads and 2.5 ms with one, TensorFlow's
4.9 ms and PyTorch's 6.3 ms.

The thread count chosen depends only on the product's shape and the session's setting, never on
timing, so a given configuration computes the same bits every time. The BLAS is found once
through threadpoolctl's list of loaded libraries (optional: without it, or with a BLAS other
than a pthreads OpenBLAS, nothing changes); its get/set functions are then called directly
through ctypes (well under a microsecond). The thread count is process-wide, so it is read
before and restored after each limited product, keeping whatever limit the user set
(OPENBLAS_NUM_THREADS, threadpool_limits).

Products of the same thread count run at once (threads of one session, or of several); one
that needs another count waits until they are done, so no product ever runs on a count that
another thread set for itself. Inside a laned step (ops/lanes.py) every product runs on one
BLAS thread, and a big one in two blocks of rows or columns that either of the step's lanes
takes: the same blocks for the same shapes, so the same bits, whichever thread computes them.
"""
import contextlib
import itertools
import os
import threading

import numpy as np

from tensorflux.ops import lanes as _lanes

SMALL_MACS = 1 << 22  # ~4M multiply-adds: below, two threads lose to one (measured: 128x128x64)
# OpenBLAS runs products of at most 65536 * GEMM_MULTITHREAD_THRESHOLD (4) multiply-adds on the
# calling thread by itself: those skip the get/set calls (~4 µs against a 1.5 µs product).
TINY_MACS = 1 << 18
# In a laned step, products from here on go in column (or row) blocks, which both lanes take in
# turn (~1 ms and up on one core: handing work to the lane thread costs tens of µs). Two blocks:
# every block packs one operand again and runs its own BLAS call, and on ptb_small's
# 400x200x10000 products 4 blocks took 4-6% longer than 2, 8 blocks 10-30% (measured).
SPLIT_MACS = 1 << 25
BLOCKS = 2
_blas = None  # [(get, set)] once looked up; [] when there is nothing to control


def matmul(x, y, threads=0):
    """np.matmul(x, y) of two matrices, on one BLAS thread when the product is small.

    threads: the session's intra_op_parallelism_threads: 0 leaves larger products to the BLAS's
    own threads, n > 0 runs every product on at most n."""
    macs = x.shape[0] * x.shape[1] * y.shape[-1]
    if x.dtype.kind not in "fc" or macs <= TINY_MACS:
        return np.matmul(x, y)
    lanes = _lanes.current()
    if lanes:
        if macs >= SPLIT_MACS:
            return _chunked(x, y, lanes > 1 and threads != 1)
        limit = 1
    else:
        limit = 1 if macs < SMALL_MACS else threads
    funcs = _blas if _blas is not None else _find_blas()
    if not funcs:
        return np.matmul(x, y)
    with _Limit(limit, funcs):
        return np.matmul(x, y)


def limited(threads):
    """A context manager running its block with the BLAS on at most `threads` threads (0: as it
    is). Products needing another count wait for the block to end: the setting is
    process-wide."""
    funcs = (_blas if _blas is not None else _find_blas()) if threads else []
    return _Limit(threads, funcs) if funcs else contextlib.nullcontext()


def _chunked(x, y, split):
    """x @ y in a laned step, in blocks of one-thread products. split: the lane thread takes
    blocks too; else, when this is a launched step running on the lane thread, the thread that
    waits for it does (ops/lanes.py Task.assist); else this thread computes every block. The
    blocks depend on the shapes only, so the result is the same bits whoever computes them, and
    a lane held up (a busy lane thread, a core another process took) leaves its block to the
    other."""
    product = _Chunked(x, y)
    if split:
        _lanes.submit(product.work)
    else:
        task = _lanes.running_task()
        if task is not None:
            task.assist = product.work
    return product.result()


class _Chunked:
    """A product cut into column blocks (row blocks when the result is taller than wide: the
    operand each block packs again is then the smaller one), which any thread calling work()
    computes, each block once."""

    __slots__ = ("out", "blocks", "error", "_next", "_lock", "_left", "_done")

    def __init__(self, x, y):
        rows, cols = x.shape[0], y.shape[1]
        self.out = out = np.empty((rows, cols), np.result_type(x, y))
        by_rows = cols < rows
        size = rows if by_rows else cols
        n = max(1, min(size, BLOCKS))
        edges = [size * i // n for i in range(n + 1)]
        self.blocks = [(x[a:b], y, out[a:b]) if by_rows else (x, y[:, a:b], out[:, a:b])
                       for a, b in zip(edges, edges[1:])]
        self.error = None
        self._next = itertools.count()
        self._lock = threading.Lock()
        self._left = n
        self._done = threading.Event()

    def work(self):
        """Computes blocks nobody has taken, until none is left."""
        funcs = _blas if _blas is not None else _find_blas()
        with _lanes.use(1), _Limit(1, funcs):
            while True:
                k = next(self._next)  # (atomic under the GIL)
                if k >= len(self.blocks):
                    return
                a, b, into = self.blocks[k]
                try:
                    np.matmul(a, b, out=into)
                except BaseException as e:  # noqa: BLE001 - raised by result()
                    self.error = self.error or e
                finally:
                    with self._lock:
                        self._left -= 1
                        if not self._left:
                            self._done.set()

    def result(self):
        """Helps with the blocks left, waits for those other threads took, returns x @ y."""
        self.work()
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.out


class _Depth(threading.local):
    depth = 0  # how many gate blocks this thread is in


class _Gate:
    """The process-wide BLAS thread count, shared by the blocks that want the same count.

    The first block to enter sets the count (when it lowers it) and the last to leave restores
    what it found; a block wanting another count waits until none is left. A block nested in
    one its thread already holds runs on the outer block's count (never waits for itself)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.local = _Depth()
        self.threads = 0   # the count the active blocks asked for (0: the BLAS's own)
        self.active = 0
        self.waiting = 0
        self.saved = []


_gate = _Gate()


def _new_gate():
    """In a forked child: a gate of its own (the parent's lock may have been held by a thread
    the child does not have, and its counts describe the parent's threads)."""
    global _gate
    _gate = _Gate()


os.register_at_fork(after_in_child=_new_gate)


class _Limit:
    """A block of products on at most `threads` BLAS threads (0: the BLAS's own count), through
    the gate (plain lock calls: this runs around every product of a few microseconds)."""

    __slots__ = ("threads", "funcs")

    def __init__(self, threads, funcs):
        self.threads, self.funcs = threads, funcs

    def __enter__(self):
        gate, threads = _gate, self.threads
        depth = gate.local.depth
        gate.lock.acquire()
        try:
            while depth == 0 and gate.active and gate.threads != threads:
                gate.waiting += 1
                try:
                    gate.cond.wait()
                finally:
                    gate.waiting -= 1
            if not gate.active:
                gate.saved = saved = [get() for get, _ in self.funcs]
                if threads:
                    for (_, set_threads), n in zip(self.funcs, saved):
                        if n > threads:
                            set_threads(threads)
                gate.threads = threads
            gate.active += 1
        finally:
            gate.lock.release()
        gate.local.depth = depth + 1

    def __exit__(self, *exc):
        gate = _gate
        gate.local.depth -= 1
        gate.lock.acquire()
        try:
            gate.active -= 1
            threads = gate.threads
            if not gate.active and threads:
                for (_, set_threads), n in zip(self.funcs, gate.saved):
                    if n > threads:
                        set_threads(n)
        finally:
            if gate.waiting and not gate.active:
                gate.cond.notify_all()
            gate.lock.release()


_find_lock = threading.Lock()


def _find_blas():
    global _blas
    with _find_lock:
        if _blas is None:
            _blas = _openblas_functions()
    return _blas


def _openblas_functions():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    funcs = []
    for lib in ThreadpoolController().lib_controllers:
        if lib.internal_api != "openblas" or getattr(lib, "threading_layer", "") != "pthreads":
            continue
        for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
            get = getattr(lib.dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                funcs.append((get, set_))
                break
    return funcs
