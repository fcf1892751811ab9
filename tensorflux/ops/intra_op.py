"""Intra-op parallelism for the big NumPy kernels (convolutions): independent batch chunks
split over short-lived threads, coordinated with BLAS's own threads.

NumPy releases the GIL in GEMMs and copies, so two threads each running im2col + GEMM on half
of the chunks use two cores. That is only worth it when BLAS runs single-threaded
(OPENBLAS_NUM_THREADS=1, the setting for shared machines): the kernel then gets
cpus // blas_threads workers, so the cores are never oversubscribed; with BLAS at its default
(one thread per core) each GEMM is parallel already and the chunks run in the calling thread.
Unlike OpenBLAS's workers, these threads never spin: a worker that waits is blocked, which is
what keeps a loaded machine usable. Threads are started per call and joined before it returns
(a few tens of microseconds, against kernels of milliseconds: see MIN_FLOPS), so none outlive a
kernel. Work is split the same way every time and partial results are combined in a fixed
order, so results do not depend on thread timing.

A session's ConfigProto.intra_op_parallelism_threads (0: the CPUs) caps the threads of the
kernels it runs: the kernel wraps its work in `limit(n)`, which run_split reads; chunks run
in the calling thread then get the BLAS limited to n threads too.

In a laned step (ops/lanes.py) the chunks split over the lanes the calling thread holds
instead, each thread's products on one BLAS thread.
"""
import contextlib
import os
import threading

from tensorflux.ops import blas_threads as _blas_threads
from tensorflux.ops import lanes as _lanes

MIN_FLOPS = 2e7  # smaller kernels run in the calling thread
max_threads = None  # None: the CPUs this process may use; set 1 to turn the splitting off

_blas = None
_local = threading.local()  # .threads: the limit of the kernel running in this thread


def limit(threads):
    """A context manager: kernels in its block split over at most `threads` threads (0: no
    limit of their own)."""
    return _Limit(threads) if threads else _NO_LIMIT


class _Limit:
    def __init__(self, threads):
        self.threads = threads

    def __enter__(self):
        self.before = getattr(_local, "threads", 0)
        _local.threads = self.threads

    def __exit__(self, *exc):
        _local.threads = self.before


_NO_LIMIT = contextlib.nullcontext()


def cpus():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def budget():
    """The threads kernels may split over: max_threads, else the CPUs."""
    return cpus() if max_threads is None else max_threads


def blas_threads():
    """The thread count of the BLAS behind NumPy (threadpoolctl when installed, else the
    environment variables OpenBLAS and OpenMP read, else one per CPU)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            _blas = ThreadpoolController().select(user_api="blas").lib_controllers
        except ImportError:
            _blas = []
    if _blas:
        return max(c.num_threads for c in _blas)
    env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    return int(env) if env and env.isdigit() else cpus()


def workers(flops, blas=True):
    """How many threads a kernel doing `flops` of work should split its chunks over: the
    CPUs, divided by BLAS's threads when the work is GEMMs (blas=False: element-wise work,
    during which BLAS's threads are idle)."""
    if flops < MIN_FLOPS:
        return 1
    n = getattr(_local, "threads", 0) or budget()
    return max(1, n // max(1, blas_threads() if blas else 1))


def run_split(fn, parts, flops, blas=True):
    """fn(k, parts[k::n]) for k in range(n), n = workers(flops, blas) (at most len(parts));
    the calling thread runs k = 0. The first exception raised by any part is re-raised."""
    lanes = _lanes.current()
    if lanes:
        return _run_laned(fn, parts, flops, blas, lanes)
    n = min(workers(flops, blas), len(parts))
    if n <= 1:
        cap = getattr(_local, "threads", 0) if blas else 0
        if cap:  # the session's cap holds for the chunks' GEMMs too
            with _blas_threads.limited(cap):
                fn(0, parts)
        else:
            fn(0, parts)
        return
    _run_threads(fn, parts, n)


def _run_laned(fn, parts, flops, blas, lanes):
    """run_split in a laned step: over the lanes this thread holds (at most the session's
    cap), the second on the lane thread; every part's products on one BLAS thread."""
    cap = getattr(_local, "threads", 0)
    n = min(lanes if flops >= MIN_FLOPS else 1, cap or lanes, len(parts), 2)

    def part(k, mine):
        with _lanes.use(1), (_blas_threads.limited(1) if blas else _NO_LIMIT):
            fn(k, mine)
    if n <= 1:
        part(0, parts)
        return
    second = _lanes.submit(part, 1, parts[1::2])
    try:
        part(0, parts[0::2])
    finally:
        second.wait()


def _run_threads(fn, parts, n):
    """fn(k, parts[k::n]) on n threads, k = 0 in the calling thread."""
    errors = [None] * n

    def work(k):
        try:
            fn(k, parts[k::n])
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread below
            errors[k] = e
    threads = [threading.Thread(target=work, args=(k,), name=f"tensorflux-intra-op-{k}",
                                daemon=True) for k in range(1, n)]
    for t in threads:
        t.start()
    try:
        work(0)
    finally:
        for t in threads:
            t.join()
    for e in errors:
        if e is not None:
            raise e
