"""glibc malloc settings for a step's big temporaries, applied once, when the first Session is
made.

A step allocates and frees the same large buffers every time (a PTB step's 400x10000 logits,
their gradient, conv columns). glibc serves blocks above its mmap threshold with fresh mmaps
and gives freed heap tops back to the OS above its trim threshold, so each step pays page
faults to get the same memory again (about 1,100 faults, 6-8 ms, on a PTB step). Raising both
thresholds (32 MB for mmap, glibc's own dynamic maximum; 128 MB for trimming) keeps those
buffers in the heap between steps; peak RSS is unchanged, and at most 128 MB of freed memory
stays with the process. TensorFlow gets the same effect from its own CPU allocator.

Nothing is changed off glibc, when the user set glibc's MALLOC_*_ variables (theirs win), or
with TENSORFLUX_MALLOC_TUNING=0.
"""
import ctypes
import ctypes.util
import os
import sys
import threading

M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20

_lock = threading.Lock()
_done = None  # None: not tried yet; then True (tuned) or False (left alone)


def _user_choice():
    if os.environ.get("TENSORFLUX_MALLOC_TUNING", "1") == "0":
        return True
    return any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                         "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"))


def tune_once():
    """Sets the thresholds the first time it is called; returns whether they are set."""
    global _done
    with _lock:
        if _done is None:
            _done = False
            if sys.platform.startswith("linux") and not _user_choice():
                try:
                    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                    mallopt = libc.mallopt  # absent on musl: AttributeError
                except (OSError, AttributeError):
                    return _done
                _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                             and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        return _done
