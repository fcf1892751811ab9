"""The resources behind the conditional accumulator ops: dense and sparse gradient accumulators.

An accumulator lives in a session's ResourceMgr and outlives steps. It sums the gradients
applied to it, dropping those computed for an older global step (stale: their local_step is
below the accumulator's global step), and hands their average (or sum) to a taker once
`num_required` of them are there; a take then resets the sum and advances the global step.

A take that cannot finish at once leaves a waiter and returns, as queue dequeues do (see
tensorflux/ops/queues.py): it holds no thread, and the step's cancellation (a deadline,
Session.close) withdraws it. Takers are served in arrival order. Callbacks run outside the
accumulator's lock.
"""
import collections
import threading

import numpy as np

from tensorflux.framework import errors, tensor_shape
from tensorflux.platform import tf_logging as logging

REDUCTION_TYPES = ("MEAN", "SUM")


class _Taker:
    __slots__ = ("callback", "n", "done")

    def __init__(self, callback, n):
        self.callback = callback
        self.n = n
        self.done = False


class ConditionalAccumulator:
    """Sums dense gradients of one dtype and shape; see the module docstring."""

    kind = "ConditionalAccumulator"

    def __init__(self, name, dtype, shape, reduction_type="MEAN"):
        if reduction_type not in REDUCTION_TYPES:
            raise errors.InvalidArgumentError(
                None, None, f"reduction_type must be one of {list(REDUCTION_TYPES)}, got "
                            f"'{reduction_type}' (accumulator '{name}')")
        self.name = name
        self.dtype = dtype
        self.shape = tensor_shape.as_shape(shape)
        self.reduction_type = reduction_type
        self.global_step = 0
        self._lock = threading.Lock()
        self._takers = collections.deque()
        self._count = 0
        self._closed = False
        self._reset()

    # ---- identity ------------------------------------------------------------------------
    def signature(self):
        """What two accumulator ops sharing one accumulator must agree on."""
        dims = None if self.shape.ndims is None else self.shape.as_list()
        return (self.kind, self.dtype.name, dims, self.reduction_type)

    def __repr__(self):
        return (f"<{self.kind} '{self.name}' global_step={self.global_step} "
                f"accumulated={self._count}>")

    # ---- operations ----------------------------------------------------------------------
    def num_accumulated(self):
        with self._lock:
            return self._count

    def set_global_step(self, new_global_step):
        """Sets the step gradients must be computed at (a lower one is allowed, and logged)."""
        with self._lock:
            if new_global_step < self.global_step:
                logging.warning("Attempting to set the global step of accumulator '%s' to %d, "
                                "lower than its current step %d", self.name, new_global_step,
                                self.global_step)
            self.global_step = int(new_global_step)

    def apply(self, local_step, *gradient):
        """Adds a gradient computed at `local_step`; a stale one is dropped. Returns whether
        it was accumulated."""
        fire = []
        with self._lock:
            self._check_open()
            if local_step < self.global_step:
                logging.vlog(1, "Stale gradient for accumulator '%s' dropped: local_step %d < "
                                "global_step %d", self.name, local_step, self.global_step)
                return False
            self._add(*gradient)
            self._count += 1
            self._serve(fire)
        _fire(fire)
        return True

    def take(self, n, callback):
        """Calls `callback(error, value)` once `n` gradients are there; returns the waiter if
        it has to wait."""
        if n < 1:
            raise errors.InvalidArgumentError(
                None, None, f"Argument num_required must be positive, but was {n} "
                            f"(accumulator '{self.name}')")
        taker = _Taker(callback, n)
        fire = []
        with self._lock:
            self._check_open()
            self._takers.append(taker)
            self._serve(fire)
        _fire(fire)
        return None if taker.done else taker

    def cancel(self, taker, error):
        """Withdraws a pending take; True if it was still pending (its callback is not run)."""
        with self._lock:
            if taker.done:
                return False
            taker.done = True
            self._takers.remove(taker)
            return True

    def cancel_takers(self, error):
        """Fails every pending take with `error`; the accumulator stays usable."""
        fire = []
        with self._lock:
            while self._takers:
                taker = self._takers.popleft()
                taker.done = True
                fire.append((taker.callback, error, None))
        _fire(fire)

    def close_resource(self):
        """Called when the owning session closes: pending takes fail with CancelledError."""
        with self._lock:
            self._closed = True
        self.cancel_takers(self._closed_error())

    # ---- the scheduler -------------------------------------------------------------------
    def _check_open(self):
        if self._closed:
            raise self._closed_error()

    def _closed_error(self):
        return errors.CancelledError(None, None, f"{self.kind} '{self.name}' was destroyed: "
                                                  "its session has been closed.")

    def _serve(self, fire):
        """Finishes the first taker if enough gradients are there (called with the lock)."""
        if self._takers and self._count >= self._takers[0].n:
            taker = self._takers.popleft()
            taker.done = True
            value = self._result()
            self._reset()
            self._count = 0
            self.global_step += 1
            fire.append((taker.callback, None, value))

    # ---- dense storage (the sparse accumulator overrides these) ---------------------------
    def _reset(self):
        self._sum = None

    def _add(self, gradient):
        gradient = np.asarray(gradient, dtype=self.dtype.as_numpy_dtype)
        want = self.shape if self._sum is None else tensor_shape.TensorShape(self._sum.shape)
        if not want.is_compatible_with(tensor_shape.TensorShape(gradient.shape)):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch: expected {_dims(want)}, got "
                            f"{list(gradient.shape)} (accumulator '{self.name}')")
        self._sum = gradient.copy() if self._sum is None else self._sum + gradient

    def _result(self):
        return _reduce(self._sum, self._count, self.reduction_type, self.dtype)


class SparseConditionalAccumulator(ConditionalAccumulator):
    """Sums sparse gradients (IndexedSlices) row by row; a MEAN divides each row by the number
    of gradients that had it."""

    kind = "SparseConditionalAccumulator"

    def _reset(self):
        self._rows = {}  # index -> [sum of values, number of gradients with this index]
        self._dense_shape = None
        self._row_shape = None

    def _add(self, indices, values, dense_shape):
        indices, values = _check_sparse(self, indices, values, dense_shape)
        unique, inverse = np.unique(indices, return_inverse=True)
        summed = np.zeros((len(unique),) + values.shape[1:], values.dtype)
        np.add.at(summed, inverse.reshape(-1), values)  # duplicates within one gradient add up
        for index, row in zip(unique.tolist(), summed):
            entry = self._rows.get(index)
            if entry is None:
                self._rows[index] = [row, 1]
            else:
                entry[0] = entry[0] + row
                entry[1] += 1
        self._row_shape = values.shape[1:]
        if dense_shape is not None:
            self._dense_shape = np.asarray(dense_shape, np.int64)

    def _result(self):
        order = sorted(self._rows)
        indices = np.asarray(order, np.int64)
        np_dtype = self.dtype.as_numpy_dtype
        rows = [_reduce(self._rows[i][0], self._rows[i][1], self.reduction_type, self.dtype)
                for i in order]
        values = (np.stack(rows) if rows else np.zeros((0,) + self._row_shape, np_dtype))
        return indices, values.astype(np_dtype, copy=False), self._output_shape(indices)

    def _output_shape(self, indices):
        """The dense shape given with the gradients, else the declared one (-1 if unknown)."""
        if self._dense_shape is not None:
            return self._dense_shape.copy()
        dims = self.shape.as_list() if self.shape.ndims else [None] + list(self._row_shape)
        return np.asarray([-1 if d is None else d for d in dims], np.int64)


def _check_sparse(acc, indices, values, dense_shape):
    """Validates one sparse gradient against the accumulator; returns (indices, values)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    values = np.asarray(values, acc.dtype.as_numpy_dtype)
    where = f"(accumulator '{acc.name}')"
    if values.ndim == 0 or values.shape[0] != len(indices):
        raise errors.InvalidArgumentError(
            None, None, f"Shape mismatch: gradient_indices has {len(indices)} elements but "
                        f"gradient_values has shape {list(values.shape)} {where}")
    # A rank-0 declared shape says nothing (TF's SyncReplicasOptimizer passes shape=()).
    declared = acc.shape if acc.shape.ndims else tensor_shape.unknown_shape()
    want_row = declared[1:] if declared.ndims is not None else tensor_shape.unknown_shape()
    if acc._row_shape is not None:
        want_row = tensor_shape.TensorShape(acc._row_shape)
    if not want_row.is_compatible_with(tensor_shape.TensorShape(values.shape[1:])):
        raise errors.InvalidArgumentError(
            None, None, f"Shape mismatch: expected rows of shape {_dims(want_row)}, got "
                        f"gradient_values of shape {list(values.shape)} {where}")
    if dense_shape is not None:
        _check_dense_shape(acc, declared, [int(d) for d in dense_shape], indices, values, where)
    return indices, values


def _check_dense_shape(acc, declared, full, indices, values, where):
    want = declared if acc._dense_shape is None else \
        tensor_shape.TensorShape(acc._dense_shape.tolist())
    if not want.is_compatible_with(tensor_shape.TensorShape(full)) or \
            full[1:] != list(values.shape[1:]):
        raise errors.InvalidArgumentError(
            None, None, f"Shape mismatch: expected dense shape {_dims(want)} with rows of "
                        f"shape {list(values.shape[1:])}, got {full} {where}")
    if len(indices) and (indices.min() < 0 or indices.max() >= full[0]):
        raise errors.InvalidArgumentError(
            None, None, f"Index out of range: gradient_indices must be in [0, {full[0]}), "
                        f"got values from {indices.min()} to {indices.max()} {where}")


def _reduce(total, count, reduction_type, dtype):
    """The MEAN (sum / count, truncated for integers) or SUM of `count` gradients."""
    if reduction_type == "SUM":
        return total.copy()
    if dtype.is_integer:
        return (total / count).astype(total.dtype)
    return (total / np.asarray(count, total.dtype)).astype(total.dtype)


def _dims(shape):
    """A static shape as TensorFlow prints it: [2,?] (or <unknown>)."""
    if shape.ndims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _fire(fire):
    for callback, error, value in fire:
        callback(error, value)
