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
"""
import contextlib
import itertools
import threading

import numpy as np

SMALL_MACS = 1 << 22  # ~4M multiply-adds: below, two threads lose to one (measured: 128x128x64)
# OpenBLAS runs products of at most 65536 * GEMM_MULTITHREAD_THRESHOLD (4) multiply-adds on the
# calling thread by itself: those skip the get/set calls (~4 µs against a 1.5 µs product).
TINY_MACS = 1 << 18
_lock = threading.RLock()  # reentrant: a limited block may call matmul
_blas = None  # [(get, set)] once looked up; [] when there is nothing to control


def matmul(x, y, threads=0):
    """np.matmul(x, y) of two matrices, on one BLAS thread when the product is small.

    threads: the session's intra_op_parallelism_threads: 0 leaves larger products to the BLAS's
    own threads, n > 0 runs every product on at most n."""
    macs = x.shape[0] * x.shape[1] * y.shape[-1]
    if x.dtype.kind not in "fc" or macs <= TINY_MACS:
        return np.matmul(x, y)
    limit = 1 if macs < SMALL_MACS else threads
    if not limit:
        return np.matmul(x, y)
    funcs = _blas if _blas is not None else _find_blas()
    if not funcs:
        return np.matmul(x, y)
    with _Limit(limit, funcs):
        return np.matmul(x, y)


def limited(threads):
    """A context manager running its block with the BLAS on at most `threads` threads (0: as it
    is). Other limited products wait for the block to end: the setting is process-wide."""
    funcs = (_blas if _blas is not None else _find_blas()) if threads else []
    return _Limit(threads, funcs) if funcs else contextlib.nullcontext()


class _Limit:
    """Holds the lock (one limited block at a time changes the process-wide setting), lowers
    each BLAS's thread count to `threads` and restores it on the way out."""

    __slots__ = ("threads", "funcs", "before")

    def __init__(self, threads, funcs):
        self.threads, self.funcs = threads, funcs

    def __enter__(self):
        _lock.acquire()
        try:
            self.before = [get() for get, _ in self.funcs]
            for (_, set_threads), n in zip(self.funcs, self.before):
                if n > self.threads:
                    set_threads(self.threads)
        except BaseException:
            _lock.release()
            raise

    def __exit__(self, *exc):
        try:
            for (_, set_threads), n in zip(self.funcs, self.before):
                if n > self.threads:
                    set_threads(n)
        finally:
            _lock.release()


def _find_blas():
    global _blas
    with _lock:
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
