"""How many threads the kernel running in this thread may use, when an inline plan runs its
step on lanes of its own (runtime/optimizer/lanes.py, runtime/plan_codegen.py).

Inside such a step the cores belong to the plan's threads, not to the BLAS: every product runs
on one BLAS thread (blas_threads.matmul), so OpenBLAS's workers never wake, and never spin for
the ~0.1 s after each product during which they would keep a core from the plan's other thread.
The parallelism is the plan's own: a big product or a kernel's chunks split over the lanes this
thread holds (2 on a step's main thread), and while one product runs asynchronously on a second
thread, both threads hold one lane each.

`current()` is 0 outside such a step: kernels then behave as they always do.
"""
import threading

_local = threading.local()


def current():
    """The lanes this thread holds: 0 outside a laned step, else 1 or 2."""
    return getattr(_local, "lanes", 0)


class use:
    """A context manager: this thread holds `lanes` lanes in its block (restored after)."""

    __slots__ = ("lanes", "before")

    def __init__(self, lanes):
        self.lanes = lanes

    def __enter__(self):
        self.before = getattr(_local, "lanes", 0)
        _local.lanes = self.lanes
        return self

    def __exit__(self, *exc):
        _local.lanes = self.before


def set_current(lanes):
    """Sets this thread's lanes; returns what they were (for the generated plan code, which
    restores them in a `finally`)."""
    before = getattr(_local, "lanes", 0)
    _local.lanes = lanes
    return before
