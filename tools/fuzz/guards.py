"""The case timer both fuzzers (tests/op_fuzz.py, tools/fuzz/readers.py) run each case under."""
import contextlib
import resource
import signal
import time

from tensorflux.framework import limits


class Hang(BaseException):
    """Raised by the case timer: a BaseException, so that neither a kernel's error wrapping nor
    a reader (both catch Exception only) can swallow it."""


@contextlib.contextmanager
def alarm(seconds):
    """Raises Hang in the block after `seconds`. The real-time timer is shared (pytest-timeout's
    signal method uses it too): an earlier timer is put back with the time it has left."""
    def ring(signum, frame):
        raise Hang(f"case ran over {seconds} s")
    previous = signal.signal(signal.SIGALRM, ring)
    start = time.monotonic()
    earlier, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier:
            signal.setitimer(signal.ITIMER_REAL, max(earlier - (time.monotonic() - start), 1e-3))


@contextlib.contextmanager
def guarded_memory(tensor_limit, extra_bytes=3 << 30):
    """Within the block the per-tensor cap is `tensor_limit` and the address space may grow by
    at most `extra_bytes`: an unguarded giant allocation is a quick MemoryError (reported)
    rather than a machine out of memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + extra_bytes if hard == resource.RLIM_INFINITY else min(hard, used + extra_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        with limits.max_tensor_bytes(tensor_limit):
            yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
