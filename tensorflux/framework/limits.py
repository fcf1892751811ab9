"""Resource limits: the most bytes one tensor may take, and one step may produce.

Kernels whose output size comes from an input's *values* rather than its size (Fill, Tile,
Range, OneHot, the image resizes, reader buffers) ask `check_allocation` before allocating, so
that `tf.range(2**31 - 1)` or `tf.fill([2**20] * 3, 0.)` fails at once with
ResourceExhaustedError naming the op and the bytes asked, instead of swapping the machine or
dying in NumPy's MemoryError half a minute later.

TensorFlow's ConfigProto has no field for this (TF relies on its allocators failing), and
tensorflux keeps TF's ConfigProto as it is so GraphDefs and configs carry over. The cap is
therefore process-wide:
  - the environment variable TENSORFLUX_MAX_TENSOR_BYTES, read at import (an integer, bytes);
  - `set_max_tensor_bytes(n)` at run time (None restores the default);
  - `max_tensor_bytes(n)`, a context manager for a block (tests, fuzzing).
The default, 4 GiB, is generous for the 2016 models tensorflux runs and far below what would
take a laptop down.

The per-step cap (off by default) bounds the bytes one `Session.run` produces: every op's
outputs are charged to a StepBudget as they are made (the session runs capped steps through
the executors' recording path, so uncapped steps pay nothing), and the value-sized allocators
above refuse *before* allocating when their tensor would take the step past the cap. It is
process-wide too: TENSORFLUX_MAX_STEP_BYTES, `set_max_step_bytes(n)`, `max_step_bytes(n)`.
"""
import contextlib
import os
import threading

import numpy as np

from tensorflux.framework import errors

DEFAULT_MAX_TENSOR_BYTES = 4 << 30
ENV_VAR = "TENSORFLUX_MAX_TENSOR_BYTES"
STEP_ENV_VAR = "TENSORFLUX_MAX_STEP_BYTES"

_lock = threading.Lock()


def _from_env(var=ENV_VAR, default=DEFAULT_MAX_TENSOR_BYTES):
    text = os.environ.get(var)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{var} must be a whole number of bytes, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{var} must be positive, got {value}")
    return value


_max_tensor_bytes = _from_env()
_max_step_bytes = _from_env(STEP_ENV_VAR, None)
_current = threading.local()  # .budget: the StepBudget of the step running in this thread


def _check_limit(limit, what):
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit <= 0):
        raise ValueError(f"The {what} byte limit must be a positive int, got {limit!r}")


def get_max_tensor_bytes():
    """The current per-tensor cap in bytes."""
    return _max_tensor_bytes


def set_max_tensor_bytes(limit):
    """Sets the per-tensor cap to `limit` bytes (a positive int); None restores the default
    (the environment variable's value, else DEFAULT_MAX_TENSOR_BYTES).

    Returns:
      The previous cap."""
    global _max_tensor_bytes
    _check_limit(limit, "tensor")
    with _lock:
        previous = _max_tensor_bytes
        _max_tensor_bytes = _from_env() if limit is None else int(limit)
    return previous


@contextlib.contextmanager
def max_tensor_bytes(limit):
    """Within the block, the per-tensor cap is `limit` bytes."""
    previous = set_max_tensor_bytes(limit)
    try:
        yield
    finally:
        set_max_tensor_bytes(previous)


def get_max_step_bytes():
    """The current per-step cap in bytes, or None when steps are not capped (the default)."""
    return _max_step_bytes


def set_max_step_bytes(limit):
    """Caps the bytes one Session.run step may produce at `limit` (a positive int); None
    restores the default (TENSORFLUX_MAX_STEP_BYTES if set, else no cap).

    Returns:
      The previous cap."""
    global _max_step_bytes
    _check_limit(limit, "step")
    with _lock:
        previous = _max_step_bytes
        _max_step_bytes = _from_env(STEP_ENV_VAR, None) if limit is None else int(limit)
    return previous


@contextlib.contextmanager
def max_step_bytes(limit):
    """Within the block, steps that start may produce at most `limit` bytes."""
    previous = set_max_step_bytes(limit)
    try:
        yield
    finally:
        set_max_step_bytes(previous)


class StepBudget:
    """The bytes one step has produced so far, against the cap it started with.

    Kernels of one step may run in several threads: `charge` adds under a lock. A value is
    charged when the op that made it finishes; views of another array (reshapes, slices) and
    variable buffers cost nothing. Values freed during the step are not given back, so the
    count bounds the step's live bytes from above."""

    __slots__ = ("limit", "used", "closed", "_lock")

    def __init__(self, limit):
        self.limit = limit
        self.used = 0
        self.closed = False
        self._lock = threading.Lock()

    def enter(self):
        """Makes this the budget that value-sized allocations in this thread check."""
        _current.budget = self

    def close(self):
        """Ends the step: allocations in threads that still point here are no longer checked."""
        self.closed = True
        if getattr(_current, "budget", None) is self:
            _current.budget = None

    def charge(self, op, outputs):
        """Adds the bytes of `op`'s output arrays; ResourceExhaustedError past the cap."""
        nbytes = 0
        for value in outputs:
            if isinstance(value, np.ndarray) and value.base is None:
                nbytes += value.nbytes
        if not nbytes:
            return
        with self._lock:
            self.used += nbytes
            used = self.used
        if used > self.limit:
            raise _step_error(op, "the outputs", nbytes, used, self.limit)

    def check(self, op, shape, dtype, nbytes):
        """Raises before `op` allocates `nbytes` if that would take the step past the cap."""
        if self.used + nbytes > self.limit:
            what = f"tensor with shape{_shape_text(shape)} and type {_type_name(dtype)}"
            raise _step_error(op, what, nbytes, self.used + nbytes, self.limit)


def _step_error(op, what, nbytes, total, limit):
    where = "" if op is None else f" for {op.type} op '{op.name}'"
    return errors.ResourceExhaustedError(
        None, op, f"OOM when allocating {what}{where}: {nbytes} bytes asked, the step would "
                  f"then hold {total} bytes and the per-step limit is {limit} bytes "
                  f"(tensorflux.framework.limits, {STEP_ENV_VAR})")


def _type_name(dtype):
    return np.dtype(dtype).name if np.dtype(dtype) != object else "string"


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def check_allocation(op, shape, dtype):
    """Raises ResourceExhaustedError naming `op` when a tensor of `shape` and `dtype` would
    exceed the cap. Sizes are Python ints, so products of huge dimensions cannot wrap.

    Args:
      op: the Operation about to allocate (its type and name go in the message), or None.
      shape: the output shape (ints; negative ones are the caller's to reject).
      dtype: a NumPy dtype or anything np.dtype accepts; object (string) tensors count 8 bytes
        an element, the pointer size."""
    elements = 1
    for d in shape:
        elements *= max(int(d), 0)
    nbytes = elements * np.dtype(dtype).itemsize
    limit = _max_tensor_bytes
    if nbytes <= limit:
        budget = getattr(_current, "budget", None)
        if budget is not None and not budget.closed:
            budget.check(op, shape, dtype, nbytes)
        return
    type_name = _type_name(dtype)
    what = "" if op is None else f" for {op.type} op '{op.name}'"
    raise errors.ResourceExhaustedError(
        None, op, f"OOM when allocating tensor with shape{_shape_text(shape)} and type "
                  f"{type_name}{what}: {nbytes} bytes asked, the per-tensor limit is {limit} "
                  f"bytes (tensorflux.framework.limits, {ENV_VAR})")
