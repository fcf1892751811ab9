"""Resource limits: the most bytes one tensor may take.

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
"""
import contextlib
import os
import threading

import numpy as np

from tensorflux.framework import errors

DEFAULT_MAX_TENSOR_BYTES = 4 << 30
ENV_VAR = "TENSORFLUX_MAX_TENSOR_BYTES"

_lock = threading.Lock()


def _from_env():
    text = os.environ.get(ENV_VAR)
    if not text:
        return DEFAULT_MAX_TENSOR_BYTES
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be a whole number of bytes, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{ENV_VAR} must be positive, got {value}")
    return value


_max_tensor_bytes = _from_env()


def get_max_tensor_bytes():
    """The current per-tensor cap in bytes."""
    return _max_tensor_bytes


def set_max_tensor_bytes(limit):
    """Sets the per-tensor cap to `limit` bytes (a positive int); None restores the default
    (the environment variable's value, else DEFAULT_MAX_TENSOR_BYTES).

    Returns:
      The previous cap."""
    global _max_tensor_bytes
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit <= 0):
        raise ValueError(f"The tensor byte limit must be a positive int, got {limit!r}")
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
        return
    type_name = np.dtype(dtype).name if np.dtype(dtype) != object else "string"
    what = "" if op is None else f" for {op.type} op '{op.name}'"
    raise errors.ResourceExhaustedError(
        None, op, f"OOM when allocating tensor with shape{_shape_text(shape)} and type "
                  f"{type_name}{what}: {nbytes} bytes asked, the per-tensor limit is {limit} "
                  f"bytes (tensorflux.framework.limits, {ENV_VAR})")
