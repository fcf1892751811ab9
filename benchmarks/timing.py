"""Timing one step, and the BLAS thread setting it ran under."""
import os
import time


def time_steps(step, min_time, warmup=10, min_steps=20):
    """(wall seconds, CPU seconds of this process) of each `step()` call, lists over at least
    `min_steps` calls and `min_time` seconds, after `warmup` untimed calls. On a shared machine
    the CPU time of a one-thread run is the steadier number: waiting for a core counts in wall
    time only."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    deadline = time.perf_counter() + min_time
    while len(wall) < min_steps or (time.perf_counter() < deadline and len(wall) < 100000):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def blas_threads():
    """The BLAS libraries loaded in this process and their thread counts, e.g. 'openblas: 2'
    (threadpoolctl when installed, else the environment variables that set them)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [f"{p.get('internal_api')}: {p.get('num_threads')}" for p in threadpool_info()
                 if p.get("user_api") == "blas"]
        if pools:
            return ", ".join(sorted(set(pools)))
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return ", ".join(f"{n}={os.environ[n]}" for n in names if n in os.environ) or "default"
