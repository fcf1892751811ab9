"""TensorArray: a per-step array of tensors, written and read inside while loops.

The ops are TensorFlow's V3 family (TensorArrayV3, TensorArrayWriteV3, ReadV3, GatherV3,
ScatterV3, ConcatV3, SplitV3, SizeV3, CloseV3, GradV3). TensorArrayV3 makes a fresh array each
step; its `handle` output is the array itself (a resource) and its `flow` output a float scalar
that orders the operations: each write returns a new flow, each read takes one. In a while
loop the TensorArray travels as its flow. Gradients follow TensorFlow: the gradient of a read
is a write into the array's gradient array (TensorArrayGradV3, made once per gradient
computation; writes to one index add up) and the gradient of a write is a read from it.
"""
import threading

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op

__all__ = ["TensorArray"]

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


def _flow():
    return np.zeros((), np.float32)


def _scalar(op):
    return tensor_shape.scalar()


def _handle_store(ctx, handle):
    if not isinstance(handle, TensorArrayStore):
        raise errors.InvalidArgumentError(None, ctx.op, f"Expected a TensorArray handle, got "
                                                        f"{type(handle).__name__}")
    return handle


def _grad_source():
    scope = ops.get_default_graph().get_name_scope()
    return scope.split("/")[0] if scope else "gradients"


def _grad_array(handle, flow):
    return apply_op("TensorArrayGradV3", handle, flow, source=_grad_source(), name="grad")


# ---- TensorArrayV3 -----------------------------------------------------------------------------
TensorArrayV3 = registry.register_op(
    "TensorArrayV3", inputs=["size: int32"], outputs=["handle: resource", "flow: float"],
    attrs={"dtype": "type", "element_shape": registry.Attr("shape", None),
           "dynamic_size": False, "clear_after_read": True, "identical_element_shapes": False,
           "tensor_array_name": ""}, stateful=True)
TensorArrayV3.not_differentiable()
TensorArrayV3.shape(lambda op: [tensor_shape.scalar(), tensor_shape.scalar()])


@TensorArrayV3.kernel("CPU")
def _tensor_array_kernel(ctx, size):
    attrs = ctx.attrs
    shape = attrs["element_shape"]
    if shape is not None and shape.ndims is None:
        shape = None
    store = TensorArrayStore(attrs["dtype"].as_numpy_dtype, size, attrs["dynamic_size"],
                             attrs["clear_after_read"], shape,
                             attrs["tensor_array_name"] or ctx.op.name)
    return store, _flow()


TensorArrayGradV3 = registry.register_op(
    "TensorArrayGradV3", inputs=["handle: resource", "flow_in: float"],
    outputs=["grad_handle: resource", "flow_out: float"], attrs={"source": "string"},
    stateful=True)
TensorArrayGradV3.not_differentiable()
TensorArrayGradV3.shape(lambda op: [tensor_shape.scalar(), tensor_shape.scalar()])


@TensorArrayGradV3.kernel("CPU")
def _grad_kernel(ctx, handle, flow):
    return _handle_store(ctx, handle).grad(ctx.attrs["source"]), _flow()


# ---- write / read ------------------------------------------------------------------------------
TensorArrayWriteV3 = registry.register_op(
    "TensorArrayWriteV3", inputs=["handle: resource", "index: int32", "value: T",
                                  "flow_in: float"], outputs=["flow_out: float"], stateful=True)
TensorArrayWriteV3.shape(_scalar)


@TensorArrayWriteV3.gradient
def _write_grad(op, flow_grad):
    handle, index, _, _ = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow_grad)
    value_grad = apply_op("TensorArrayReadV3", grad_handle, index, grad_flow,
                          dtype=op.get_attr("T"))
    value_grad.set_shape(op.inputs[2].get_shape())
    return [None, None, value_grad, flow_grad]


@TensorArrayWriteV3.kernel("CPU")
def _write_kernel(ctx, handle, index, value, flow):
    _handle_store(ctx, handle).write(ctx.op, index, value)
    return _flow()


TensorArrayReadV3 = registry.register_op(
    "TensorArrayReadV3", inputs=["handle: resource", "index: int32", "flow_in: float"],
    outputs=["value: dtype"], attrs={"dtype": "type"}, stateful=True)
TensorArrayReadV3.shape(lambda op: tensor_shape.unknown_shape())


@TensorArrayReadV3.gradient
def _read_grad(op, grad):
    handle, index, flow = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow)
    return [None, None, apply_op("TensorArrayWriteV3", grad_handle, index, grad, grad_flow)]


@TensorArrayReadV3.kernel("CPU")
def _read_kernel(ctx, handle, index, flow):
    return _handle_store(ctx, handle).read(ctx.op, index)


# ---- gather / scatter --------------------------------------------------------------------------
TensorArrayGatherV3 = registry.register_op(
    "TensorArrayGatherV3", inputs=["handle: resource", "indices: int32", "flow_in: float"],
    outputs=["value: dtype"], attrs={"dtype": "type",
                                     "element_shape": registry.Attr("shape", None)},
    stateful=True)


@TensorArrayGatherV3.shape
def _gather_shape(op):
    element = op.get_attr("element_shape")
    if element is None or element.ndims is None:
        return tensor_shape.unknown_shape()
    return tensor_shape.TensorShape([op.inputs[1].get_shape().num_elements()] +
                                    element.as_list())


@TensorArrayGatherV3.gradient
def _gather_grad(op, grad):
    handle, indices, flow = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow)
    return [None, None, apply_op("TensorArrayScatterV3", grad_handle, indices, grad, grad_flow)]


@TensorArrayGatherV3.kernel("CPU")
def _gather_kernel(ctx, handle, indices, flow):
    return _handle_store(ctx, handle).stacked(ctx.op, indices)


TensorArrayScatterV3 = registry.register_op(
    "TensorArrayScatterV3", inputs=["handle: resource", "indices: int32", "value: T",
                                    "flow_in: float"], outputs=["flow_out: float"],
    stateful=True)
TensorArrayScatterV3.shape(_scalar)


@TensorArrayScatterV3.gradient
def _scatter_grad(op, flow_grad):
    handle, indices, value, _ = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow_grad)
    value_grad = apply_op("TensorArrayGatherV3", grad_handle, indices, grad_flow,
                          dtype=op.get_attr("T"))
    value_grad.set_shape(value.get_shape())
    return [None, None, value_grad, flow_grad]


@TensorArrayScatterV3.kernel("CPU")
def _scatter_kernel(ctx, handle, indices, value, flow):
    store = _handle_store(ctx, handle)
    indices = np.asarray(indices).reshape(-1)
    if len(value) != len(indices):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Scatter: {len(indices)} indices but the value has "
                          f"{len(value)} rows")
    for i, row in zip(indices, value):
        store.write(ctx.op, i, row)
    return _flow()


# ---- concat / split ----------------------------------------------------------------------------
TensorArrayConcatV3 = registry.register_op(
    "TensorArrayConcatV3", inputs=["handle: resource", "flow_in: float"],
    outputs=["value: dtype", "lengths: int64"],
    attrs={"dtype": "type", "element_shape_except0": registry.Attr("shape", None)},
    stateful=True)


@TensorArrayConcatV3.shape
def _concat_shape(op):
    rest = op.get_attr("element_shape_except0")
    if rest is None or rest.ndims is None:
        return [tensor_shape.unknown_shape(), tensor_shape.TensorShape([None])]
    return [tensor_shape.TensorShape([None] + rest.as_list()), tensor_shape.TensorShape([None])]


@TensorArrayConcatV3.gradient
def _concat_grad(op, grad, _):
    handle, flow = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow)
    return [None, apply_op("TensorArraySplitV3", grad_handle, grad, op.outputs[1], grad_flow)]


@TensorArrayConcatV3.kernel("CPU")
def _concat_kernel(ctx, handle, flow):
    store = _handle_store(ctx, handle)
    values = [store.read(ctx.op, i) for i in range(len(store.elements))]
    lengths = np.array([np.shape(v)[0] for v in values], np.int64)
    if not values:
        rest = ctx.attrs["element_shape_except0"]
        dims = rest.as_list() if rest is not None and rest.is_fully_defined() else []
        return np.zeros([0] + dims, store.dtype), lengths
    return np.concatenate(values).astype(store.dtype, copy=False), lengths


TensorArraySplitV3 = registry.register_op(
    "TensorArraySplitV3", inputs=["handle: resource", "value: T", "lengths: int64",
                                  "flow_in: float"], outputs=["flow_out: float"], stateful=True)
TensorArraySplitV3.shape(_scalar)


@TensorArraySplitV3.gradient
def _split_grad(op, flow_grad):
    handle, value, _, _ = op.inputs
    grad_handle, grad_flow = _grad_array(handle, flow_grad)
    value_grad = apply_op("TensorArrayConcatV3", grad_handle, grad_flow,
                          dtype=op.get_attr("T"))[0]
    value_grad.set_shape(value.get_shape())
    return [None, value_grad, None, flow_grad]


@TensorArraySplitV3.kernel("CPU")
def _split_kernel(ctx, handle, value, lengths, flow):
    store = _handle_store(ctx, handle)
    lengths = np.asarray(lengths, np.int64).reshape(-1)
    if lengths.sum() != np.shape(value)[0]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Split: lengths sum to {int(lengths.sum())}, required the value's "
                          f"first dimension {np.shape(value)[0]}")
    start = 0
    for i, n in enumerate(lengths):
        store.write(ctx.op, i, value[start:start + n])
        start += n
    return _flow()


# ---- size / close ------------------------------------------------------------------------------
TensorArraySizeV3 = registry.register_op(
    "TensorArraySizeV3", inputs=["handle: resource", "flow_in: float"],
    outputs=["size: int32"], stateful=True)
TensorArraySizeV3.not_differentiable()
TensorArraySizeV3.shape(_scalar)


@TensorArraySizeV3.kernel("CPU")
def _size_kernel(ctx, handle, flow):
    return np.int32(len(_handle_store(ctx, handle).elements))


TensorArrayCloseV3 = registry.register_op("TensorArrayCloseV3", inputs=["handle: resource"],
                                          stateful=True)
TensorArrayCloseV3.not_differentiable()
TensorArrayCloseV3.shape(lambda op: [])


@TensorArrayCloseV3.kernel("CPU")
def _close_kernel(ctx, handle):
    store = _handle_store(ctx, handle)
    with store.lock:
        store.closed = True
        store.elements = []


# ---- the Python class --------------------------------------------------------------------------
class TensorArray:
    """A TensorArray of `dtype` (TF 1.x API; TF 0.9's pack/unpack names work too).

    Each write/scatter/split returns a new TensorArray whose `flow` follows the write; use
    the returned object, as in TensorFlow.
    """

    _is_tensor_array = True

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._infer_shape = infer_shape
        if handle is not None:
            if flow is None:
                raise ValueError("TensorArray from a handle requires its flow")
            self._handle, self._flow = handle, flow
            self._shape_box = [tensor_shape.as_shape(element_shape)
                               if element_shape is not None else tensor_shape.unknown_shape()]
            return
        if size is None:
            raise ValueError("TensorArray requires a size (or a handle and flow)")
        shape = tensor_shape.unknown_shape() if element_shape is None else \
            tensor_shape.as_shape(element_shape)
        with ops.name_scope(name, "TensorArray", [size]) as scope:
            self._handle, self._flow = apply_op(
                "TensorArrayV3", ops.convert_to_tensor(size, dtype=dtypes.int32),
                dtype=self._dtype, element_shape=shape, dynamic_size=bool(dynamic_size),
                clear_after_read=True if clear_after_read is None else bool(clear_after_read),
                tensor_array_name=tensor_array_name or "", name=scope)
        self._shape_box = [shape]

    handle = property(lambda self: self._handle)
    flow = property(lambda self: self._flow)
    dtype = property(lambda self: self._dtype)

    @property
    def element_shape(self):
        return self._shape_box[0]

    def _with_flow(self, flow):
        ta = TensorArray.__new__(TensorArray)
        ta._dtype, ta._infer_shape, ta._handle = self._dtype, self._infer_shape, self._handle
        ta._flow, ta._shape_box = flow, self._shape_box
        return ta

    def _merge_shape(self, shape):
        if not self._infer_shape:
            return
        current = self._shape_box[0]
        if not current.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {current} "
                             "(and infer_shape=True)")
        self._shape_box[0] = current.merge_with(shape)

    def read(self, index, name=None):
        """The element at `index`."""
        value = apply_op("TensorArrayReadV3", self._handle,
                         ops.convert_to_tensor(index, dtype=dtypes.int32), self._flow,
                         dtype=self._dtype, name=name or "TensorArrayReadV3")
        if self._infer_shape:
            value.set_shape(self._shape_box[0])
        return value

    def write(self, index, value, name=None):
        """A TensorArray with `value` written at `index`."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        self._merge_shape(value.get_shape())
        flow = apply_op("TensorArrayWriteV3", self._handle,
                        ops.convert_to_tensor(index, dtype=dtypes.int32), value, self._flow,
                        name=name or "TensorArrayWrite")
        return self._with_flow(flow)

    def gather(self, indices, name=None):
        """The elements at `indices`, stacked."""
        value = apply_op("TensorArrayGatherV3", self._handle,
                         ops.convert_to_tensor(indices, dtype=dtypes.int32), self._flow,
                         dtype=self._dtype, element_shape=self._shape_box[0],
                         name=name or "TensorArrayGatherV3")
        return value

    def stack(self, name=None):
        """All elements stacked along a new first dimension."""
        with ops.name_scope(name, "TensorArrayStack", [self._handle]):
            from tensorflux.ops import array_ops
            size = self.size()
            return self.gather(array_ops.range(0, size), name=name)

    pack = stack

    def scatter(self, indices, value, name=None):
        """A TensorArray with value[k] written at indices[k]."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        if value.get_shape().ndims:
            self._merge_shape(value.get_shape()[1:])
        flow = apply_op("TensorArrayScatterV3", self._handle,
                        ops.convert_to_tensor(indices, dtype=dtypes.int32), value, self._flow,
                        name=name or "TensorArrayScatter")
        return self._with_flow(flow)

    def unstack(self, value, name=None):
        """A TensorArray holding value[0], value[1], ... as its elements."""
        with ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            from tensorflux.ops import array_ops
            value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
            indices = array_ops.range(0, array_ops.shape(value)[0])
            return self.scatter(indices, value, name=name)

    unpack = unstack

    def concat(self, name=None):
        """All elements concatenated along their first dimension."""
        rest = self._shape_box[0][1:] if self._shape_box[0].ndims else \
            tensor_shape.unknown_shape()
        return apply_op("TensorArrayConcatV3", self._handle, self._flow, dtype=self._dtype,
                        element_shape_except0=rest, name=name or "TensorArrayConcat")[0]

    def split(self, value, lengths, name=None):
        """A TensorArray holding pieces of `value` split along dimension 0 by `lengths`."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        lengths = ops.convert_to_tensor(lengths, dtype=dtypes.int64, name="lengths")
        flow = apply_op("TensorArraySplitV3", self._handle, value, lengths, self._flow,
                        name=name or "TensorArraySplit")
        return self._with_flow(flow)

    def size(self, name=None):
        """The number of elements (int32 scalar)."""
        return apply_op("TensorArraySizeV3", self._handle, self._flow,
                        name=name or "TensorArraySizeV3")

    def close(self, name=None):
        """An op closing the array (later reads and writes fail)."""
        return apply_op("TensorArrayCloseV3", self._handle, name=name or "TensorArrayClose")

    def grad(self, source, flow=None, name=None):
        """The gradient TensorArray of this one for gradient computation `source`."""
        handle, flow_out = apply_op("TensorArrayGradV3", self._handle,
                                    self._flow if flow is None else flow, source=source,
                                    name=name or "TensorArrayGrad")
        return TensorArray(self._dtype, handle=handle, flow=flow_out,
                           element_shape=self._shape_box[0])


def read(handle, index, flow, dtype, name=None):
    """A raw TensorArrayReadV3 (for accumulators built by the loop gradient)."""
    return apply_op("TensorArrayReadV3", handle, index, flow, dtype=dtype, name=name)


def write(handle, index, value, flow, name=None):
    """A raw TensorArrayWriteV3; returns the new flow."""
    return apply_op("TensorArrayWriteV3", handle, index, value, flow, name=name)


def new_accumulator(dtype, name="acc"):
    """(handle, flow) of a dynamically sized array that keeps values after reads."""
    return apply_op("TensorArrayV3", ops.convert_to_tensor(0, dtype=dtypes.int32), dtype=dtype,
                    element_shape=tensor_shape.unknown_shape(), dynamic_size=True,
                    clear_after_read=False, tensor_array_name="", name=name)
