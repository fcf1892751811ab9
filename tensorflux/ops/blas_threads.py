"""Small matrix products on one BLAS thread.

OpenBLAS's threads spin while they wait for one another. When other processes keep the cores
busy, a product split over threads waits for whichever thread was descheduled: on this project's
2-core machine under load, a 100x784x256 float32 product took 58 ms on two OpenBLAS threads and
3 ms on one, and word2vec's step (three 128x128x64 products) 459 ms against 1.7 ms. Threads
only pay off on large products, so `matmul` runs products below SMALL_MACS multiply-adds with
the BLAS limited to one thread and leaves larger ones (and every other BLAS caller) alone.

The BLAS is found once through threadpoolctl's list of loaded libraries (optional: without it,
or with a BLAS other than a pthreads OpenBLAS, or one thread already, nothing changes); its
get/set functions are then called directly through ctypes (well under a microsecond). The
thread count is process-wide, so it is read before and restored after each small product,
keeping whatever limit the user set (OPENBLAS_NUM_THREADS, threadpool_limits).
"""
import itertools
import threading

import numpy as np

SMALL_MACS = 1 << 26  # ~67M multiply-adds: a few milliseconds on one core
_lock = threading.Lock()
_blas = None  # [(get, set)] once looked up; [] when there is nothing to control


def matmul(x, y):
    """np.matmul(x, y) of two matrices, on one BLAS thread when the product is small."""
    if x.shape[0] * x.shape[1] * y.shape[-1] >= SMALL_MACS or x.dtype.kind not in "fc":
        return np.matmul(x, y)
    funcs = _blas if _blas is not None else _find_blas()
    if not funcs:
        return np.matmul(x, y)
    with _lock:  # one small product at a time changes the process-wide setting
        before = [get() for get, _ in funcs]
        for (_, set_threads), n in zip(funcs, before):
            if n > 1:
                set_threads(1)
        try:
            return np.matmul(x, y)
        finally:
            for (_, set_threads), n in zip(funcs, before):
                if n > 1:
                    set_threads(n)


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
