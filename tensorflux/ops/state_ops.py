"""State ops: variables (VariableV2) and the Assign family that updates them in place.

A VariableV2 op outputs a reference (`float32_ref`); its value lives in the session's
ResourceMgr as a VariableRef. Ops taking `Ref(T)` inputs receive the VariableRef itself.
"""
import functools

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.ops import row_sums
from tensorflux.framework.variable_ref import VariableRef

__all__ = [
    "assign",
    "assign_add",
    "assign_sub",
    "scatter_update",
    "scatter_add",
    "scatter_sub",
    "count_up_to",
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
    state = ctx.state
    if state is None:
        name = ctx.attrs["shared_name"] or ctx.op.name
        state = ctx.init_state(lambda: ctx.resources.lookup_or_create(
            ctx.attrs["container"], name, lambda: VariableRef(ctx.op.name)))
    return state


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


Assign.not_differentiable()


@Assign.kernel("CPU")
def _assign_kernel(ctx, ref, value):
    value = np.asarray(value)
    if ctx.attrs["validate_shape"] and ref.value is not None and ref.value.shape != value.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Assign requires shapes of both tensors to match. lhs shape= "
                          f"{common.shape_text(ref.value.shape)} rhs shape= "
                          f"{common.shape_text(value.shape)}")
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
        with ref.lock:
            numpy_update(current, value, out=current, casting="unsafe")
        return ref
    op_def.kernel("CPU")(kernel)
    return op_def


# Updates write into the variable's buffer, as TensorFlow's kernels do; Session.run hands out
# copies, so fetched values never change afterwards.
AssignAdd = _update_op("AssignAdd", np.add)
AssignSub = _update_op("AssignSub", np.subtract)


def assign_add(ref, value, use_locking=None, name=None):
    """Adds `value` to the variable `ref` in place; returns the updated ref."""
    return apply_op("AssignAdd", ref, value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Subtracts `value` from the variable `ref` in place; returns the updated ref."""
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
    """A bool scalar: whether the variable `ref` has been initialized."""
    return apply_op("IsVariableInitialized", ref, name=name)


# ---- Scatter updates ----------------------------------------------------------------------
def check_indices(op_name, indices, limit):
    """InvalidArgumentError naming `op_name` and the first index outside [0, limit)."""
    indices = np.asarray(indices)
    # two reductions in the common case; the mask only when some index is out of range
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        pos = tuple(int(i) for i in np.argwhere((indices < 0) | (indices >= limit))[0])
        raise errors.InvalidArgumentError(
            None, None, f"indices[{','.join(map(str, pos))}] = {int(indices[pos])} is not in "
                        f"[0, {limit}) ({op_name})")
    return indices


def _scatter_shape(op):
    ref, indices, updates = (t.get_shape() for t in op.inputs)
    if ref.ndims is not None and indices.ndims is not None and updates.ndims is not None:
        want = indices.concatenate(ref[1:]) if ref.ndims else None
        if want is None or not updates.is_compatible_with(want):
            raise ValueError(f"Shapes of updates ({updates}) must equal indices.shape + "
                             f"ref.shape[1:] for ref {ref} and indices {indices}")
    return ref


def _scatter_op(name, numpy_update, use_locking_default):
    op_def = registry.register_op(
        name, inputs=["ref: Ref(T)", "indices: Tindices", "updates: T"],
        outputs=["output_ref: Ref(T)"],
        attrs={"T": common.NUMBERS, "Tindices": common.INDEX,
               "use_locking": use_locking_default}, stateful=True)
    op_def.shape(_scatter_shape)
    op_def.not_differentiable()

    def kernel(ctx, ref, indices, updates):
        with ref.lock:
            current = ref.get()
            if current.ndim == 0:
                raise errors.InvalidArgumentError(
                    None, None, f"{name} requires a ref of rank >= 1, got a scalar")
            indices = check_indices(f"{name} '{ctx.op.name}'", indices, current.shape[0])
            want = indices.shape + current.shape[1:]
            if np.shape(updates) != want:
                raise errors.InvalidArgumentError(
                    None, None, f"{name} '{ctx.op.name}': updates must have shape indices.shape"
                                f" + ref.shape[1:] = {list(want)}, got {list(np.shape(updates))}")
            numpy_update(current, indices, np.asarray(updates, dtype=current.dtype))
        return ref
    op_def.kernel("CPU")(kernel)
    return op_def


def _scatter_set(target, indices, updates):
    target[indices] = updates


ScatterUpdate = _scatter_op("ScatterUpdate", _scatter_set, True)
ScatterAdd = _scatter_op("ScatterAdd", row_sums.add_rows, False)
ScatterSub = _scatter_op("ScatterSub", functools.partial(row_sums.add_rows, subtract=True),
                         False)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    """ref[indices, ...] = updates; returns the ref after the update."""
    return apply_op("ScatterUpdate", ref, indices, updates, use_locking=use_locking, name=name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] += updates (repeated indices add up); returns the updated ref."""
    return apply_op("ScatterAdd", ref, indices, updates, use_locking=use_locking, name=name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    """ref[indices, ...] -= updates (repeated indices add up); returns the updated ref."""
    return apply_op("ScatterSub", ref, indices, updates, use_locking=use_locking, name=name)


# ---- CountUpTo ---------------------------------------------------------------------------
CountUpTo = registry.register_op(
    "CountUpTo", inputs=["ref: Ref(T)"], outputs=["output: T"],
    attrs={"limit": "int", "T": common.INDEX}, stateful=True)
CountUpTo.not_differentiable()


@CountUpTo.shape
def _count_up_to_shape(op):
    shape = op.inputs[0].get_shape()
    if shape.ndims not in (None, 0):
        raise ValueError(f"CountUpTo requires a scalar ref, got shape {shape}")
    return tensor_shape.scalar()


@CountUpTo.kernel("CPU")
def _count_up_to_kernel(ctx, ref):
    limit = ctx.attrs["limit"]
    with ref.lock:
        before = ref.get()
        if before >= limit:
            raise errors.OutOfRangeError(None, None, f"Reached limit of {limit}")
        ref.value = np.asarray(before + 1, dtype=before.dtype)
    return before


def count_up_to(ref, limit, name=None):
    """Increments the int variable `ref` until `limit`; returns the value before the increment.

    Raises OutOfRangeError when run with the value already at `limit`.
    """
    return apply_op("CountUpTo", ref, limit=limit, name=name)
