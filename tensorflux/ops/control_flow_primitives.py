"""The control-flow primitives, as TensorFlow defines them and the papers describe them.

Switch forwards `data` to output_true or output_false (the other output is dead), Merge
forwards its first live input, Enter / Exit move a value into / out of a while-loop frame,
NextIteration passes it to the next iteration and LoopCond marks the loop predicate. The
executor implements their semantics (tensorflux/runtime/control_flow_executor.py);
tf.cond and tf.while_loop (control_flow_ops.py) build graphs of them.
"""
from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import math_ops

__all__ = []


def _identity_kernel(ctx, x):
    return x


def _scalar_pred(shape, what):
    if not shape.is_compatible_with(tensor_shape.scalar()):
        raise ValueError(f"{what} must be a scalar, got shape {shape}")


Switch = registry.register_op("Switch", inputs=["data: T", "pred: bool"],
                              outputs=["output_false: T", "output_true: T"])


@Switch.shape
def _switch_shape(op):
    _scalar_pred(op.inputs[1].get_shape(), "Switch's pred")
    shape = op.inputs[0].get_shape()
    return [shape, shape]


@Switch.gradient
def _switch_grad(op, grad_false, grad_true):
    """Merge of the two output gradients; a missing one is zeros on its own branch."""
    data, pred = op.inputs
    grads = [grad_false, grad_true]
    if all(g is None for g in grads):
        return None, None
    for k in (0, 1):
        if grads[k] is None:
            grads[k] = switch(array_ops.zeros_like(data), pred)[k]
        elif isinstance(grads[k], ops.IndexedSlices):
            grads[k] = ops.convert_to_tensor(grads[k])
    return merge(grads, name="cond_grad")[0], None


@Switch.kernel("CPU")
def _switch_kernel(ctx, data, pred):  # the executor marks the untaken output dead
    return data, data


# A variable's reference through a cond branch (an assign in tf.cond): the kernel forwards the
# variable's buffer, so the branch's Assign updates the variable itself.
RefSwitch = registry.register_op("RefSwitch", inputs=["data: Ref(T)", "pred: bool"],
                                 outputs=["output_false: Ref(T)", "output_true: Ref(T)"])
RefSwitch.shape(_switch_shape)
RefSwitch.gradient(_switch_grad)
RefSwitch.kernel("CPU")(_switch_kernel)


Merge = registry.register_op("Merge", inputs=["inputs: N * T"],
                             outputs=["output: T", "value_index: int32"])


@Merge.shape
def _merge_shape(op):
    shape = op.inputs[0].get_shape()
    for t in op.inputs[1:]:
        shape = _most_specific_compatible(shape, t.get_shape())
    return [shape, tensor_shape.scalar()]


def _most_specific_compatible(a, b):
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return tensor_shape.unknown_shape()
    return tensor_shape.TensorShape([x if x == y else None
                                     for x, y in zip(a.as_list(), b.as_list())])


@Merge.gradient
def _merge_grad(op, grad, _):
    """Routes the gradient back to the input that was live (a Switch on the cond predicate)."""
    pred = getattr(op, "_cf_cond_pred", None)
    if pred is not None and len(op.inputs) == 2:
        return list(switch(grad, pred))
    index = op.outputs[1]
    return [switch(grad, math_ops.equal(index, k))[1] for k in range(len(op.inputs))]


@Merge.kernel("CPU")
def _merge_kernel(ctx, *inputs):  # the executor picks the live input
    import numpy as np
    return inputs[0], np.int32(0)


# TF 0.9's RefSelect: one of several variables' references, picked by a run-time index, so an
# assign through the result updates the chosen variable. TF spells the list "Ref(N * T)".
RefSelect = registry.register_op("RefSelect", inputs=["index: int32", "inputs: N * Ref(T)"],
                                 outputs=["output: Ref(T)"])
RefSelect.not_differentiable()


@RefSelect.shape
def _ref_select_shape(op):
    _scalar_pred(op.inputs[0].get_shape(), "RefSelect's index")
    shape = op.inputs[1].get_shape()
    for t in op.inputs[2:]:  # variables of other shapes may be picked: dims that differ unknown
        shape = _most_specific_compatible(shape, t.get_shape())
    return shape


@RefSelect.kernel("CPU")
def _ref_select_kernel(ctx, index, *inputs):
    if index.ndim != 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Index must be a scalar, but it has shape {list(index.shape)}")
    if not 0 <= index < len(inputs):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Index must be in the range [0, {len(inputs)}) but got {int(index)}")
    return inputs[int(index)]


def _frame_op(name, extra_attrs=None):
    op_def = registry.register_op(name, inputs=["data: T"], outputs=["output: T"],
                                  attrs=extra_attrs or {})
    op_def.shape(common.unchanged_shape)
    op_def.kernel("CPU")(_identity_kernel)
    return op_def


Enter = _frame_op("Enter", {"frame_name": "string", "is_constant": False,
                            "parallel_iterations": 10})
# A variable's reference entering a loop as a constant (an assign in a while body).
RefEnter = registry.register_op("RefEnter", inputs=["data: Ref(T)"], outputs=["output: Ref(T)"],
                                attrs={"frame_name": "string", "is_constant": False,
                                       "parallel_iterations": 10})
RefEnter.shape(common.unchanged_shape)
RefEnter.kernel("CPU")(_identity_kernel)
Exit = _frame_op("Exit")
NextIteration = _frame_op("NextIteration")


@Enter.gradient
def _enter_grad(op, grad):  # loops are differentiated as a whole (control_flow_grad)
    return grad


RefEnter.gradient(_enter_grad)


@Exit.gradient
def _exit_grad(op, grad):
    return grad


@NextIteration.gradient
def _next_iteration_grad(op, grad):
    return grad


LoopCond = registry.register_op("LoopCond", inputs=["input: bool"], outputs=["output: bool"])
LoopCond.not_differentiable()
LoopCond.kernel("CPU")(_identity_kernel)


@LoopCond.shape
def _loop_cond_shape(op):
    _scalar_pred(op.inputs[0].get_shape(), "LoopCond's input")
    return tensor_shape.scalar()


def switch(data, pred, name=None):
    """(output_false, output_true): `data` on the side `pred` selects; the other is dead."""
    with ops.name_scope(name, "Switch", [data, pred]) as scope:
        data = ops.convert_to_tensor_or_indexed_slices(data, name="data")
        pred = ops.convert_to_tensor(pred, dtype=dtypes.bool, name="pred")
        if isinstance(data, ops.IndexedSlices):
            vf, vt = switch(data.values, pred)
            if_, it = switch(data.indices, pred)
            return (ops.IndexedSlices(vf, if_, data.dense_shape),
                    ops.IndexedSlices(vt, it, data.dense_shape))
        if data.dtype._is_ref_dtype:  # as TF's cond: a variable's ref stays a ref
            return apply_op("RefSwitch", data, pred, name=scope)
        return apply_op("Switch", data, pred, name=scope)


def ref_switch(data, pred, name=None):
    """Switch of a variable's reference (RefSwitch)."""
    return apply_op("RefSwitch", data, pred, name=name or "RefSwitch")


def ref_select(index, inputs, name=None):
    """The reference `inputs[index]`, chosen when the graph runs (RefSelect; TF 0.9's
    QueueBase.from_list picks a queue handle this way); assigning through it updates that
    variable."""
    index = ops.convert_to_tensor(index, dtype=dtypes.int32)
    return apply_op("RefSelect", index, list(inputs), name=name or "RefSelect")


def merge(inputs, name=None):
    """(output, value_index): the value of the first live input and its index."""
    inputs = [ops.convert_to_tensor(t) for t in inputs]  # IndexedSlices become dense
    return apply_op("Merge", inputs, name=name or "Merge")


def loop_cond(input, name=None):  # noqa: A002 - TF's argument name
    """Marks `input` (a bool scalar) as the predicate of a while loop."""
    return apply_op("LoopCond", input, name=name)


def _enter(data, frame_name, is_constant=False, parallel_iterations=10, name=None):
    ref = is_constant and isinstance(data, ops.Tensor) and data.dtype._is_ref_dtype
    return apply_op("RefEnter" if ref else "Enter", data, frame_name=frame_name,
                    is_constant=is_constant,
                    parallel_iterations=parallel_iterations, name=name or "Enter")
