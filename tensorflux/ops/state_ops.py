"""State ops: variables (VariableV2) and the Assign family that updates them in place.

A VariableV2 op outputs a reference (`float32_ref`); its value lives in the session's
ResourceMgr as a VariableRef. Ops taking `Ref(T)` inputs receive the VariableRef itself.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.framework.variable_ref import VariableRef

__all__ = [
    "assign",
    "assign_add",
    "assign_sub",
    "is_variable_initialized",
]

VariableV2 = registry.register_op(
    "VariableV2", outputs=["ref: Ref(dtype)"],
    attrs={"shape": "shape", "dtype": "type", "container": "", "shared_name": ""},
    stateful=True)
VariableV2.not_differentiable()


@VariableV2.shape
def _variable_shape(op):
    return op.get_attr("shape")


@VariableV2.kernel("CPU")
def _variable_kernel(ctx):
    if ctx.state is None:
        name = ctx.attrs["shared_name"] or ctx.op.name
        ctx.state = ctx.resources.lookup_or_create(ctx.attrs["container"], name,
                                                   lambda: VariableRef(ctx.op.name))
    return ctx.state


def variable_op(shape, dtype, name="Variable", container="", shared_name=""):
    return apply_op("VariableV2", name=name, shape=tensor_shape.as_shape(shape),
                    dtype=dtypes.as_dtype(dtype), container=container, shared_name=shared_name)


# ---- Assign -----------------------------------------------------------------------------
Assign = registry.register_op(
    "Assign", inputs=["ref: Ref(T)", "value: T"], outputs=["output_ref: Ref(T)"],
    attrs={"validate_shape": True, "use_locking": True}, stateful=True)


@Assign.shape
def _assign_shape(op):
    if not op.get_attr("validate_shape"):
        return op.inputs[1].get_shape()
    ref, value = op.inputs[0].get_shape(), op.inputs[1].get_shape()
    if not ref.is_compatible_with(value):
        raise ValueError(f"shapes must be equal to assign, got ref {ref} and value {value}")
    return ref.merge_with(value)


@Assign.gradient
def _assign_grad(op, grad):
    return [None, None]


@Assign.kernel("CPU")
def _assign_kernel(ctx, ref, value):
    value = np.asarray(value)
    if ctx.attrs["validate_shape"] and ref.value is not None and ref.value.shape != value.shape:
        raise ValueError(f"Assign requires shapes of both tensors to match. lhs shape= "
                         f"{list(ref.value.shape)} rhs shape= {list(value.shape)}")
    ref.value = np.array(value, copy=True)  # the variable owns its buffer
    return ref


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Stores `value` in the variable `ref`; returns the ref after the assignment."""
    return apply_op("Assign", ref, value, validate_shape=validate_shape,
                    use_locking=use_locking, name=name)


def _update_op(name, numpy_update):
    op_def = registry.register_op(
        name, inputs=["ref: Ref(T)", "value: T"], outputs=["output_ref: Ref(T)"],
        attrs={"T": common.NUMBERS, "use_locking": False}, stateful=True)
    op_def.shape(lambda op: op.inputs[0].get_shape().merge_with(op.inputs[1].get_shape()))
    op_def.not_differentiable()

    def kernel(ctx, ref, value):
        current = ref.get()
        if current.shape != np.shape(value):
            raise ValueError(f"{name} requires shapes of both tensors to match. lhs shape= "
                             f"{list(current.shape)} rhs shape= {list(np.shape(value))}")
        numpy_update(current, value)
        return ref
    op_def.kernel("CPU")(kernel)
    return op_def


AssignAdd = _update_op("AssignAdd", lambda cur, v: np.add(cur, v, out=cur))
AssignSub = _update_op("AssignSub", lambda cur, v: np.subtract(cur, v, out=cur))


def assign_add(ref, value, use_locking=None, name=None):
    return apply_op("AssignAdd", ref, value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    return apply_op("AssignSub", ref, value, use_locking=use_locking, name=name)


IsVariableInitialized = registry.register_op(
    "IsVariableInitialized", inputs=["ref: Ref(dtype)"], outputs=["is_initialized: bool"],
    attrs={"dtype": "type"}, stateful=True)
IsVariableInitialized.shape(common.scalar_shape)
IsVariableInitialized.not_differentiable()


@IsVariableInitialized.kernel("CPU")
def _is_initialized_kernel(ctx, ref):
    return np.array(ref.is_initialized)


def is_variable_initialized(ref, name=None):
    return apply_op("IsVariableInitialized", ref, name=name)
