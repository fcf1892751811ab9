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
import os
import queue
import threading


STEP_LANES = 2  # the lanes a laned step's calling thread holds (one is the lane thread)


class _Local(threading.local):
    lanes = 0  # (a class default: reading it never raises AttributeError, which costs ~1 µs)
    task = None  # on the lane thread, the Task it runs


_local = _Local()


def current():
    """The lanes this thread holds: 0 outside a laned step, else 1 or 2."""
    return _local.lanes


class use:
    """A context manager: this thread holds `lanes` lanes in its block (restored after)."""

    __slots__ = ("lanes", "before")

    def __init__(self, lanes):
        self.lanes = lanes

    def __enter__(self):
        self.before = _local.lanes
        _local.lanes = self.lanes
        return self

    def __exit__(self, *exc):
        _local.lanes = self.before


def set_current(lanes):
    """Sets this thread's lanes; returns what they were (for the generated plan code, which
    restores them in a `finally`)."""
    before = _local.lanes
    _local.lanes = lanes
    return before


# ---- the second lane: one thread per process, kept ------------------------------------------
# A thread made per use costs more than its start: OpenBLAS gives each thread that calls it a
# work buffer of its own, made and faulted in on its first product (measured: a [400, 200] x
# [200, 10000] product split over a new thread took 12.2 ms, over a kept one 11.1 ms; two
# threads of OpenBLAS's own, 10.4 ms). So the second lane is one daemon thread, started on first
# use and kept (made anew after a fork), running what it is given in order. What runs there
# holds one lane, so it never gives the lane work of its own to wait for.
_helper_lock = threading.Lock()
_helper = None  # (thread, queue)


class Task:
    """A call running on the lane thread; wait() gives its result or raises its exception.

    `assist`: set by the call while it runs (a product in blocks, ops/blas_threads.py), work
    the thread waiting for it can share; wait() does it before waiting."""

    __slots__ = ("fn", "args", "result", "error", "assist", "_done")

    def __init__(self, fn, args):
        self.fn, self.args, self.result, self.error = fn, args, None, None
        self.assist = None
        self._done = threading.Event()

    def run(self):
        _local.task = self
        try:
            self.result = self.fn(*self.args)
        except BaseException as e:  # noqa: BLE001 - raised by wait() in the submitting thread
            self.error = e
        finally:
            self.fn = self.args = self.assist = _local.task = None
            self._done.set()

    def wait(self):
        assist = self.assist
        if assist is not None and not self._done.is_set():
            assist()
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.result



def running_task():
    """The Task this thread (the lane thread) is running, else None."""
    return _local.task


def submit(fn, *args):
    """Runs fn(*args) on the lane thread, after what was submitted before; returns its Task."""
    task = Task(fn, args)
    _lane_queue().put(task)
    return task


def _lane_queue():
    global _helper
    helper = _helper
    if helper is None or not helper[0].is_alive():
        with _helper_lock:
            helper = _helper
            if helper is None or not helper[0].is_alive():
                tasks = queue.SimpleQueue()
                thread = threading.Thread(target=_serve, args=(tasks,), daemon=True,
                                          name="tensorflux-lane")
                thread.start()
                _helper = helper = (thread, tasks)
    return helper[1]


def _serve(tasks):
    _local.lanes = 1
    while True:
        tasks.get().run()


def _forget_the_lane():
    """In a forked child: the parent's lane thread is not there, and its lock may have been
    held by a thread that is not there either."""
    global _helper, _helper_lock
    _helper, _helper_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_the_lane)
