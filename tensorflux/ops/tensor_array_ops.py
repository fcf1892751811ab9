"""TensorArray: a per-step array of tensors, written and read inside while loops.

Three op families, one kernel per verb (the store is tensorflux/ops/tensor_arrays.py):
TF 0.9's TensorArray, TensorArrayWrite, ... (a `Ref(string)` handle; also TensorArrayPack and
TensorArrayUnpack), TF 0.11-1.0's TensorArrayV2 family (a string handle [container, name]) and
TF >= 1.2's TensorArrayV3 family (a resource handle, and a flow output from the constructor).
The Python class builds the V2 ops: its `handle` is a string tensor, as TF 1.0's was, and
TF 2.21 still imports them at our GraphDef version. Each run of a constructor makes a fresh
array. The `flow` float scalar orders the operations: each write returns a new flow, each read
takes one; in a while loop the TensorArray travels as its flow. Gradients follow TensorFlow:
the gradient of a read is a write into the array's gradient array (TensorArrayGrad*, made once
per gradient computation `source`; writes to one index add up) and the gradient of a write is
a read from it.
"""
import contextlib

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.framework.variable_ref import VariableRef
from tensorflux.ops import tensor_arrays
from tensorflux.ops.tensor_arrays import TensorArrayStore, store_of

__all__ = ["TensorArray"]

_VERBS = ("Write", "Read", "Gather", "Scatter", "Concat", "Split", "Size", "Close", "Grad")
# Op types per family, by verb ("" is the constructor); V1 adds 0.9's Pack and Unpack.
FAMILIES = {
    version: dict({"": "TensorArray" + suffix, "version": version},
                  **{verb: f"TensorArray{verb}{suffix}" for verb in _VERBS})
    for version, suffix in ((1, ""), (2, "V2"), (3, "V3"))}
FAMILIES[1].update(Pack="TensorArrayPack", Unpack="TensorArrayUnpack")
_HANDLE_TYPES = {1: "Ref(string)", 2: "string", 3: "resource"}
_FAMILY_OF_DTYPE = {dtypes.string_ref: FAMILIES[1], dtypes.string: FAMILIES[2],
                    dtypes.resource: FAMILIES[3]}
_SHAPE = registry.Attr("shape", None)


def family_of(handle):
    """The op types for a TensorArray `handle` tensor (by its dtype, as TF told them apart)."""
    family = _FAMILY_OF_DTYPE.get(handle.dtype)
    if family is None:
        raise TypeError(f"A TensorArray handle is a string_ref, string or resource tensor; got "
                        f"{handle.dtype.name} {handle}")
    return family


def _flow():
    return np.zeros((), np.float32)


def _scalar(op):
    return tensor_shape.scalar()


def _handles_shape(version):
    """The shape fn of a constructor or Grad op: V3's (handle, flow) scalars, or the string
    handle [container, name]."""
    if version == 3:
        return lambda op: [tensor_shape.scalar(), tensor_shape.scalar()]
    return lambda op: tensor_shape.vector(2)


def _store(ctx, handle):
    return store_of(ctx.op, handle)


def _out_handle(version, store, ctx):
    """How a constructor hands `store` on: itself (V3), its string handle (V2) or that handle
    in a reference (V1)."""
    if version == 3:
        return store
    handle = tensor_arrays.string_handle(store)
    if version == 2:
        return handle
    ref = VariableRef(ctx.op.name)
    ref.value = handle
    return ref


def _grad_source():
    scope = ops.get_default_graph().get_name_scope()
    return scope.split("/")[0] if scope else "gradients"


def _grad_array(family, handle, flow):
    """(handle, flow) of the gradient array of the array behind `handle`."""
    if family["version"] == 3:
        return apply_op(family["Grad"], handle, flow, source=_grad_source(), name="grad")
    from tensorflux.ops import array_ops
    grad_handle = apply_op(family["Grad"], handle, flow, source=_grad_source(), name="grad")
    with ops.control_dependencies([grad_handle]):  # the flow orders after the array's making
        return grad_handle, array_ops.identity(flow, name="gradient_flow")


# ---- kernels (one per verb, shared by the families) -------------------------------------------
def _create_kernel(version):
    def kernel(ctx, size):
        attrs = ctx.attrs
        shape = attrs["element_shape"]
        if shape is not None and shape.ndims is None:
            shape = None
        name = attrs["tensor_array_name"]
        name = name.decode() if isinstance(name, bytes) else name
        store = TensorArrayStore(attrs["dtype"].as_numpy_dtype, size, attrs["dynamic_size"],
                                 attrs["clear_after_read"], shape,
                                 tensor_arrays.unique_name(name or ctx.op.name))
        out = _out_handle(version, store, ctx)
        return (out, _flow()) if version == 3 else out
    return kernel


def _grad_kernel(version):
    def kernel(ctx, handle, flow):
        source = ctx.attrs["source"]
        source = source.decode() if isinstance(source, bytes) else source
        out = _out_handle(version, _store(ctx, handle).grad(source), ctx)
        return (out, _flow()) if version == 3 else out
    return kernel


def _write_kernel(ctx, handle, index, value, flow):
    _store(ctx, handle).write(ctx.op, index, value)
    return _flow()


def _read_kernel(ctx, handle, index, flow):
    return _store(ctx, handle).read(ctx.op, index)


def _gather_kernel(ctx, handle, indices, flow):
    return _store(ctx, handle).stacked(ctx.op, indices)


def _pack_kernel(ctx, handle, flow):
    store = _store(ctx, handle)
    return store.stacked(ctx.op, np.arange(len(store.elements)))


def _scatter_kernel(ctx, handle, indices, value, flow):
    store = _store(ctx, handle)
    indices = np.asarray(indices).reshape(-1)
    if len(value) != len(indices):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Scatter: {len(indices)} indices but the value has "
                          f"{len(value)} rows")
    for i, row in zip(indices, value):
        store.write(ctx.op, i, row)
    return _flow()


def _unpack_kernel(ctx, handle, value, flow):
    return _scatter_kernel(ctx, handle, np.arange(np.shape(value)[0]), value, flow)


def _concat_kernel(ctx, handle, flow):
    store = _store(ctx, handle)
    values = [store.read(ctx.op, i) for i in range(len(store.elements))]
    lengths = np.array([np.shape(v)[0] for v in values], np.int64)
    if not values:
        rest = ctx.attrs["element_shape_except0"]
        dims = rest.as_list() if rest is not None and rest.is_fully_defined() else []
        return np.zeros([0] + dims, store.dtype), lengths
    return np.concatenate(values).astype(store.dtype, copy=False), lengths


def _split_kernel(ctx, handle, value, lengths, flow):
    store = _store(ctx, handle)
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


def _size_kernel(ctx, handle, flow):
    return np.int32(len(_store(ctx, handle).elements))


def _close_kernel(ctx, handle):
    store = _store(ctx, handle)
    with store.lock:
        store.closed = True
        store.elements = []


# ---- shapes ------------------------------------------------------------------------------------
def _gather_shape(op):
    element = op.get_attr("element_shape")
    if element is None or element.ndims is None:
        return tensor_shape.unknown_shape()
    return tensor_shape.TensorShape([op.inputs[1].get_shape().num_elements()] +
                                    element.as_list())


def _pack_shape(op):
    element = op.get_attr("element_shape")
    if element is None or element.ndims is None:
        return tensor_shape.unknown_shape()
    return tensor_shape.TensorShape([None] + element.as_list())


def _concat_shape(op):
    rest = op.get_attr("element_shape_except0")
    if rest is None or rest.ndims is None:
        return [tensor_shape.unknown_shape(), tensor_shape.TensorShape([None])]
    return [tensor_shape.TensorShape([None] + rest.as_list()), tensor_shape.TensorShape([None])]


# ---- gradients (each builds the ops of its op's family) ----------------------------------------
def _write_grad(reader):
    """The gradient of Write/Scatter: the `reader` verb (Read/Gather) of the gradient array at
    the same index(es)."""
    def maker(family):
        def grad(op, flow_grad):
            handle, where, value, _ = op.inputs
            grad_handle, grad_flow = _grad_array(family, handle, flow_grad)
            value_grad = apply_op(family[reader], grad_handle, where, grad_flow,
                                  dtype=op.get_attr("T"))
            value_grad.set_shape(value.get_shape())
            return [None, None, value_grad, flow_grad]
        return grad
    return maker


def _read_grad(writer):
    """The gradient of Read/Gather: the `writer` verb (Write/Scatter) of the incoming gradient
    into the gradient array at the same index(es)."""
    def maker(family):
        def grad(op, grad):
            handle, where, flow = op.inputs
            grad_handle, grad_flow = _grad_array(family, handle, flow)
            return [None, None, apply_op(family[writer], grad_handle, where, grad, grad_flow)]
        return grad
    return maker


def _concat_grad(family):
    def grad(op, grad, _):
        handle, flow = op.inputs
        grad_handle, grad_flow = _grad_array(family, handle, flow)
        return [None, apply_op(family["Split"], grad_handle, grad, op.outputs[1], grad_flow)]
    return grad


def _split_grad(family):
    def grad(op, flow_grad):
        handle, value, _, _ = op.inputs
        grad_handle, grad_flow = _grad_array(family, handle, flow_grad)
        value_grad = apply_op(family["Concat"], grad_handle, grad_flow,
                              dtype=op.get_attr("T"))[0]
        value_grad.set_shape(value.get_shape())
        return [None, value_grad, None, flow_grad]
    return grad


def _pack_grad(family):
    def grad(op, grad):
        handle, flow = op.inputs
        grad_handle, grad_flow = _grad_array(family, handle, flow)
        return [None, apply_op(family["Unpack"], grad_handle, grad, grad_flow)]
    return grad


def _unpack_grad(family):
    def grad(op, flow_grad):
        handle, value, _ = op.inputs
        grad_handle, grad_flow = _grad_array(family, handle, flow_grad)
        value_grad = apply_op(family["Pack"], grad_handle, grad_flow, dtype=op.get_attr("T"))
        value_grad.set_shape(value.get_shape())
        return [None, value_grad, flow_grad]
    return grad


def _colocated(grad_fn):
    """`grad_fn` making its ops with the forward op's array (see _with_handle)."""
    def grad(op, *grads):
        with _with_handle(op.inputs[0]):
            return grad_fn(op, *grads)
    return grad


# ---- registration ------------------------------------------------------------------------------
# verb: (inputs after the handle, outputs, attrs, shape fn, kernel, gradient maker or None)
_VERB_TABLE = {
    "Write": (["index: int32", "value: T", "flow_in: float"], ["flow_out: float"], {},
              _scalar, _write_kernel, _write_grad("Read")),
    "Read": (["index: int32", "flow_in: float"], ["value: dtype"], {"dtype": "type"},
             lambda op: tensor_shape.unknown_shape(), _read_kernel, _read_grad("Write")),
    "Gather": (["indices: int32", "flow_in: float"], ["value: dtype"],
               {"dtype": "type", "element_shape": _SHAPE}, _gather_shape, _gather_kernel,
               _read_grad("Scatter")),
    "Scatter": (["indices: int32", "value: T", "flow_in: float"], ["flow_out: float"], {},
                _scalar, _scatter_kernel, _write_grad("Gather")),
    "Concat": (["flow_in: float"], ["value: dtype", "lengths: int64"],
               {"dtype": "type", "element_shape_except0": _SHAPE}, _concat_shape,
               _concat_kernel, _concat_grad),
    "Split": (["value: T", "lengths: int64", "flow_in: float"], ["flow_out: float"], {},
              _scalar, _split_kernel, _split_grad),
    "Size": (["flow_in: float"], ["size: int32"], {}, _scalar, _size_kernel, None),
    "Close": ([], [], {}, lambda op: [], _close_kernel, None),
    "Pack": (["flow_in: float"], ["value: dtype"], {"dtype": "type", "element_shape": _SHAPE},
             _pack_shape, _pack_kernel, _pack_grad),
    "Unpack": (["value: T", "flow_in: float"], ["flow_out: float"], {}, _scalar,
               _unpack_kernel, _unpack_grad),
}


def _register_family(family):
    version = family["version"]
    handle = _HANDLE_TYPES[version]
    flow_out = ["flow: float"] if version == 3 else []
    create = registry.register_op(
        family[""], inputs=["size: int32"], outputs=[f"handle: {handle}"] + flow_out,
        attrs=dict({"dtype": "type", "element_shape": _SHAPE, "dynamic_size": False,
                    "clear_after_read": True, "tensor_array_name": ""},
                   **({"identical_element_shapes": False} if version == 3 else {})),
        stateful=True)
    grad = registry.register_op(
        family["Grad"], inputs=[f"handle: {'string' if version == 1 else handle}",
                                "flow_in: float"],
        outputs=[f"grad_handle: {handle}"] + (["flow_out: float"] if version == 3 else []),
        attrs={"source": "string"}, stateful=True)
    for op_def, kernel in ((create, _create_kernel(version)), (grad, _grad_kernel(version))):
        op_def.not_differentiable()
        op_def.shape(_handles_shape(version))
        op_def.kernel("CPU")(kernel)
    for verb in _VERBS[:-1] + (("Pack", "Unpack") if version == 1 else ()):
        inputs, outputs, attrs, shape, kernel, make_grad = _VERB_TABLE[verb]
        op_def = registry.register_op(family[verb], inputs=[f"handle: {handle}"] + inputs,
                                      outputs=outputs, attrs=dict(attrs), stateful=True)
        op_def.shape(shape)
        op_def.kernel("CPU")(kernel)
        if make_grad is None:
            op_def.not_differentiable()
        else:
            op_def.gradient(_colocated(make_grad(family)))


for _family in FAMILIES.values():
    _register_family(_family)


# ---- the Python class --------------------------------------------------------------------------
class TensorArray:
    """A TensorArray of `dtype` (TF 1.x API; TF 0.9's pack/unpack names work too).

    Built fresh it makes a TensorArrayV2 op (a string `handle`, TF 1.0's); built from a handle
    it uses that handle's family: string_ref (TF 0.9), string (V2) or resource (V3). Each
    write/scatter/split returns a new TensorArray whose `flow` follows the write; use the
    returned object, as in TensorFlow.
    """

    _is_tensor_array = True

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._infer_shape = infer_shape
        shape = tensor_shape.unknown_shape() if element_shape is None else \
            tensor_shape.as_shape(element_shape)
        self._shape_box = [shape]
        if handle is not None:
            self._ops = family_of(handle)
            if flow is None and self._ops["version"] == 3:
                raise ValueError("TensorArray from a resource handle requires its flow")
            self._handle = handle
            self._flow = flow if flow is not None else _initial_flow(handle)
            return
        if size is None:
            raise ValueError("TensorArray requires a size (or a handle and flow)")
        self._ops = FAMILIES[2]
        with ops.name_scope(name, "TensorArray", [size]) as scope:
            self._handle = apply_op(
                "TensorArrayV2", ops.convert_to_tensor(size, dtype=dtypes.int32),
                dtype=self._dtype, element_shape=shape, dynamic_size=bool(dynamic_size),
                clear_after_read=True if clear_after_read is None else bool(clear_after_read),
                tensor_array_name=tensor_array_name or "", name=scope)
            self._flow = _initial_flow(self._handle)

    handle = property(lambda self: self._handle)
    flow = property(lambda self: self._flow)
    dtype = property(lambda self: self._dtype)

    @property
    def element_shape(self):
        return self._shape_box[0]

    def _with_flow(self, flow):
        ta = TensorArray.__new__(TensorArray)
        ta.__dict__.update(self.__dict__)
        ta._flow = flow
        return ta

    def _merge_shape(self, shape):
        if not self._infer_shape:
            return
        current = self._shape_box[0]
        if not current.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {current} "
                             "(and infer_shape=True)")
        self._shape_box[0] = current.merge_with(shape)

    def _op(self, verb, *inputs, name=None, **attrs):
        op_type = self._ops[verb]
        with _with_handle(self._handle):
            return apply_op(op_type, self._handle, *inputs, name=name or op_type, **attrs)

    def read(self, index, name=None):
        """The element at `index`."""
        value = self._op("Read", ops.convert_to_tensor(index, dtype=dtypes.int32), self._flow,
                         dtype=self._dtype, name=name)
        if self._infer_shape:
            value.set_shape(self._shape_box[0])
        return value

    def write(self, index, value, name=None):
        """A TensorArray with `value` written at `index`."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        self._merge_shape(value.get_shape())
        flow = self._op("Write", ops.convert_to_tensor(index, dtype=dtypes.int32), value,
                        self._flow, name=name or "TensorArrayWrite")
        return self._with_flow(flow)

    def gather(self, indices, name=None):
        """The elements at `indices`, stacked."""
        return self._op("Gather", ops.convert_to_tensor(indices, dtype=dtypes.int32),
                        self._flow, dtype=self._dtype, element_shape=self._shape_box[0],
                        name=name)

    def stack(self, name=None):
        """All elements stacked along a new first dimension (0.9's TensorArrayPack)."""
        if "Pack" in self._ops:
            return self._op("Pack", self._flow, dtype=self._dtype,
                            element_shape=self._shape_box[0], name=name)
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
        flow = self._op("Scatter", ops.convert_to_tensor(indices, dtype=dtypes.int32), value,
                        self._flow, name=name or "TensorArrayScatter")
        return self._with_flow(flow)

    def unstack(self, value, name=None):
        """A TensorArray holding value[0], value[1], ... (0.9's TensorArrayUnpack)."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        if "Unpack" in self._ops:
            if value.get_shape().ndims:
                self._merge_shape(value.get_shape()[1:])
            return self._with_flow(self._op("Unpack", value, self._flow, name=name))
        with ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            from tensorflux.ops import array_ops
            indices = array_ops.range(0, array_ops.shape(value)[0])
            return self.scatter(indices, value, name=name)

    unpack = unstack

    def concat(self, name=None):
        """All elements concatenated along their first dimension."""
        rest = self._shape_box[0][1:] if self._shape_box[0].ndims else \
            tensor_shape.unknown_shape()
        return self._op("Concat", self._flow, dtype=self._dtype, element_shape_except0=rest,
                        name=name or "TensorArrayConcat")[0]

    def split(self, value, lengths, name=None):
        """A TensorArray holding pieces of `value` split along dimension 0 by `lengths`."""
        value = ops.convert_to_tensor(value, dtype=self._dtype, name="value")
        lengths = ops.convert_to_tensor(lengths, dtype=dtypes.int64, name="lengths")
        flow = self._op("Split", value, lengths, self._flow, name=name or "TensorArraySplit")
        return self._with_flow(flow)

    def size(self, name=None):
        """The number of elements (int32 scalar)."""
        return self._op("Size", self._flow, name=name)

    def close(self, name=None):
        """An op closing the array (later reads and writes fail)."""
        return self._op("Close", name=name or "TensorArrayClose")

    def grad(self, source, flow=None, name=None):
        """The gradient TensorArray of this one for gradient computation `source`."""
        flow = self._flow if flow is None else flow
        out = self._op("Grad", flow, source=source, name=name or "TensorArrayGrad")
        if self._ops["version"] == 3:
            handle, flow = out
        else:
            from tensorflux.ops import array_ops
            handle = out
            with ops.control_dependencies([handle]):
                flow = array_ops.identity(flow, name="gradient_flow")
        return TensorArray(self._dtype, handle=handle, flow=flow,
                           element_shape=self._shape_box[0])


def _with_handle(handle):
    """Where an op on `handle` is made: with the handle's op for a string handle (TF's Python
    colocated them; the placer keeps reference and resource consumers with their producers
    by itself), so the array never has to cross devices."""
    if handle.dtype == dtypes.string:
        return ops.colocate_with(handle)
    return contextlib.nullcontext()


def _initial_flow(handle):
    """The flow of a fresh V1/V2 array: a zero made with the handle (TF's Python did this; the
    V3 constructor outputs it)."""
    from tensorflux.ops import constant_op
    with ops.colocate_with(handle):
        return constant_op.constant(0.0, dtype=dtypes.float32, name="flow")


def read(handle, index, flow, dtype, name=None):
    """A raw read in `handle`'s family (for accumulators built by the loop gradient)."""
    with _with_handle(handle):
        return apply_op(family_of(handle)["Read"], handle, index, flow, dtype=dtype, name=name)


def write(handle, index, value, flow, name=None):
    """A raw write in `handle`'s family; returns the new flow."""
    with _with_handle(handle):
        return apply_op(family_of(handle)["Write"], handle, index, value, flow, name=name)


def new_accumulator(dtype, name="acc"):
    """(handle, flow) of a dynamically sized TensorArrayV2 that keeps values after reads."""
    handle = apply_op("TensorArrayV2", ops.convert_to_tensor(0, dtype=dtypes.int32),
                      dtype=dtype, element_shape=tensor_shape.unknown_shape(), dynamic_size=True,
                      clear_after_read=False, tensor_array_name="", name=name)
    return handle, _initial_flow(handle)
