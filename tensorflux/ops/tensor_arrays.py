"""The run-time side of TensorArrays: the per-run array (TensorArrayStore) and its handles.

Each run of a TensorArray op makes a fresh store, named uniquely (the op's tensor_array_name or
name, then a counter, as TF uniquifies). The three op families hand it on differently:
TensorArrayV3 outputs the store itself (a resource); TensorArrayV2 outputs TF's string handle
[container, name], here a TensorArrayHandle array that also carries the store, so the handle
lives as long as the step holds it, like TF's per-step container; TF 0.9's TensorArray outputs
that handle in a reference. `store_of` finds the store behind any of them.
"""
import itertools
import threading
import weakref

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework.variable_ref import VariableRef

CONTAINER = "_tensor_arrays"  # TF's container name in a TensorArrayV2 handle
_COUNTER = itertools.count()
# unique name -> store while some handle to it lives: a handle that lost its store (a copy,
# a feed of a fetched handle within its step) is found by name.
_LIVE = weakref.WeakValueDictionary()
_CLEARED = object()


class TensorArrayStore:
    """The run-time array behind a TensorArray handle (one per step and TensorArrayV3 run)."""

    def __init__(self, dtype, size, dynamic_size, clear_after_read, element_shape, name,
                 aggregate=False, forward=None):
        self.dtype = dtype
        self.elements = [None] * int(size)
        self.shapes = {}  # index -> shape written there (kept after a clearing read)
        self.forward = forward  # a gradient array's forward array: its shapes give zeros
        self.dynamic_size = dynamic_size
        self.clear_after_read = clear_after_read
        self.element_shape = element_shape
        self.name = name
        self.aggregate = aggregate
        self.closed = False
        self.grads = {}
        self.lock = threading.Lock()

    def _check_open(self, op):
        if self.closed:
            raise errors.InvalidArgumentError(None, op, f"TensorArray {self.name} has already "
                                                        "been closed.")

    def _check_index(self, op, index, writing):
        index = int(index)
        if index < 0:
            raise errors.InvalidArgumentError(None, op, f"Tried to access TensorArray "
                                                        f"{self.name} at negative index {index}")
        if index >= len(self.elements):
            if writing and self.dynamic_size:
                self.elements.extend([None] * (index + 1 - len(self.elements)))
            else:
                what = "write to" if writing else "read from"
                raise errors.InvalidArgumentError(
                    None, op, f"Tried to {what} index {index} but array {self.name} is not "
                              f"{'resizeable' if writing else 'that large'} and size is: "
                              f"{len(self.elements)}")
        return index

    def write(self, op, index, value):
        with self.lock:
            self._check_open(op)
            index = self._check_index(op, index, True)
            self._check_shape(op, index, value)
            old = self.elements[index]
            if old is _CLEARED or (old is not None and not self.aggregate):
                raise errors.InvalidArgumentError(
                    None, op, f"Could not write to TensorArray {self.name} index {index} "
                              "because it has already been written to.")
            self.elements[index] = value if old is None else old + value
            self.shapes[index] = np.shape(value)

    def _check_shape(self, op, index, value):
        shape = getattr(value, "shape", None)
        if shape is None or self.dtype == np.object_:
            return
        if self.element_shape is not None and not self.element_shape.is_compatible_with(shape):
            raise errors.InvalidArgumentError(
                None, op, f"Could not write to TensorArray {self.name} index {index}: the "
                          f"value has shape {list(shape)}, required {self.element_shape}")

    def read(self, op, index):
        with self.lock:
            self._check_open(op)
            index = self._check_index(op, index, False)
            value = self.elements[index]
            if value is _CLEARED:
                raise errors.InvalidArgumentError(
                    None, op, f"Could not read index {index} twice because it was cleared "
                              "after a previous read (perhaps try setting clear_after_read = "
                              "false?)")
            if value is None:
                if self.aggregate:
                    return self._zeros(op, index)
                raise errors.InvalidArgumentError(
                    None, op, f"Could not read from TensorArray {self.name} index {index} "
                              "because it has not yet been written to.")
            if self.clear_after_read and not self.aggregate:
                self.elements[index] = _CLEARED
            return value

    def _zeros(self, op, index):
        """Zeros for an unwritten gradient element: shaped like what the forward array held
        there (or any element of this or the forward array, or the declared shape)."""
        shape = None
        for store in (self.forward, self):
            if store is not None and shape is None:
                shape = store.shapes.get(index) or next(iter(store.shapes.values()), None)
        if shape is None and self.element_shape is not None and \
                self.element_shape.is_fully_defined():
            shape = tuple(self.element_shape.as_list())
        if shape is None:
            raise errors.InvalidArgumentError(
                None, op, f"Could not read from gradient TensorArray {self.name} index {index}: "
                          "nothing was written and the element shape is unknown")
        return np.zeros(shape, self.dtype)

    def stacked(self, op, indices):
        values = [self.read(op, i) for i in np.asarray(indices).reshape(-1)]
        if values:
            return np.stack(values).astype(self.dtype, copy=False)
        if self.element_shape is None or not self.element_shape.is_fully_defined():
            raise errors.InvalidArgumentError(
                None, op, f"TensorArray {self.name}: cannot gather no elements when the element "
                          "shape is not fully known")
        return np.zeros([0] + self.element_shape.as_list(), self.dtype)

    def grad(self, source):
        with self.lock:
            found = self.grads.get(source)
            if found is None:
                found = self.grads[source] = TensorArrayStore(
                    self.dtype, len(self.elements), self.dynamic_size, False,
                    self.element_shape, f"{self.name}@{source}", aggregate=True, forward=self)
            return found




class TensorArrayHandle(np.ndarray):
    """TF's string handle of a TensorArray ([container, unique name]) carrying its store."""

    def __array_finalize__(self, obj):
        self.store = getattr(obj, "store", None)

    def copy(self, order="C"):
        """A plain string array: what Session.run hands out (a fetch copies its value)."""
        return np.array(self, order=order, subok=False)


def unique_name(base):
    """`base` made unique per run, as TF names each TensorArray it makes."""
    return f"{base}_{next(_COUNTER)}"


def string_handle(store):
    """The V2 handle of `store` (the V1 handle is this in a reference)."""
    handle = np.array([CONTAINER.encode(), store.name.encode()], dtype=object)
    handle = handle.view(TensorArrayHandle)
    handle.store = store
    _LIVE[store.name] = store
    return handle


def store_of(op, handle):
    """The TensorArrayStore behind a V3 (the store), V2 (string) or V1 (reference) handle."""
    if isinstance(handle, VariableRef):
        handle = handle.get()
    if isinstance(handle, TensorArrayStore):
        return handle
    store = getattr(handle, "store", None)
    if store is None and isinstance(handle, np.ndarray) and handle.shape == (2,):
        name = handle[1].decode() if isinstance(handle[1], bytes) else str(handle[1])
        store = _LIVE.get(name)
        if store is None:
            raise errors.NotFoundError(
                None, op, f"Resource {CONTAINER}/{name} does not exist: no TensorArray of "
                          "that name lives in this step")
    if not isinstance(store, TensorArrayStore):
        raise errors.InvalidArgumentError(None, op, f"Expected a TensorArray handle, got "
                                                    f"{type(handle).__name__}")
    return store
