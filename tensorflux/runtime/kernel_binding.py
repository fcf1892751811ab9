"""What every executor shares, below them all: binding an op to its kernel, the errors a step
raises, and which inputs are variable buffers to read.

The inline plan (executor.py), the dataflow plan and executor (dataflow_plan.py, dataflow.py)
and the control-flow plan (control_flow_plan.py) import this module; it imports none of them,
so they no longer import each other in a circle.
"""
import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.variable_ref import VariableRef
from tensorflux.runtime import partition

DEFAULT_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def kernel_def(op, device):
    """The KernelDef running `op` on `device` (None: CPU); NotFoundError if none is registered."""
    device_type = "CPU" if device is None else device.device_type
    kernel = op._op_def.kernels.get(device_type)
    if kernel is None:
        raise errors.NotFoundError(
            None, op, f"No {device_type} kernel registered for op {op.type} ('{op.name}'); "
                      f"kernels exist for {sorted(op._op_def.kernels) or 'no device'}. "
                      f"{op._created_at_text()}")
    return kernel


def deref_mask(op, inputs, fed):
    """Which inputs are variable references the op reads as plain values (None if none)."""
    if not any(t.dtype._is_ref_dtype for t in inputs):
        return None
    mask = tuple(t.dtype._is_ref_dtype and not is_ref and t not in fed
                 for t, is_ref in zip(inputs, registry.input_ref_flags(op)))
    return mask if any(mask) else None


def bind_kernel(node, pnode, device, slots, out_slot, fed, context_for):
    """Fills what every executor's node needs: kernel, context, input/output slots, which
    inputs are variable buffers to read, and the names step tracing reports."""
    op = pnode.op
    kernel = kernel_def(op, device)
    node.op = op
    node.fn = kernel.fn
    node.ctx = context_for(op, device)
    node.is_async = kernel.is_async
    node.ins = tuple(slots[t] for t in pnode.inputs)
    node.out = out_slot[op]
    node.n_out = len(op._outputs)
    node.deref = deref_mask(op, pnode.inputs, fed)
    node.forwards_dead = op.type == "_Send"
    node.device_name = device.name if device is not None else DEFAULT_DEVICE
    node.input_names = input_names(pnode.inputs)
    if op.type == "_Recv":
        node.input_names = [(partition.send_name_of(op), 0)]
    return node


def input_names(inputs):
    return [(t.op.name, t.value_index) for t in inputs]


def describe_values(values):
    parts = []
    for v in values:
        if isinstance(v, VariableRef):
            parts.append(f"ref {v.name}")
        else:
            arr = np.asarray(v) if not isinstance(v, np.ndarray) else v
            # TF prints kernel shapes as [2,3] (TensorShape::DebugString)
            parts.append(f"{arr.dtype}[{','.join(map(str, arr.shape))}]")
    return ", ".join(parts) or "none"


def member_error(op, exc, inputs):
    """op_error for an op run inside a fused or grouped step: marked so that the step's own
    op_error passes it through, naming `op` rather than the step's op."""
    error = op_error(op, exc, inputs)
    error._tfx_named = True
    return error


def internal_error(op, exc):
    """`exc`, raised by the executors' own code while running `op` (None if unknown), as an
    InternalError naming the op; an OpError passes through (as op_error when `op` is known)."""
    if isinstance(exc, errors.OpError):
        return exc if op is None else op_error(op, exc, [])
    what = "an executor task" if op is None else f"{op.type} op '{op.name}'"
    where = "" if op is None else f" {op._created_at_text()}"
    return errors.InternalError(
        None, op, f"Internal error in the executor while running {what}: "
                  f"{type(exc).__name__}: {exc}. This is a bug in tensorflux, not in the "
                  f"graph or its inputs.{where}")


def op_error(op, exc, inputs):
    """Wraps an exception raised by `op`'s kernel as a TF error naming the op and its inputs.

    An error a fused kernel (runtime/optimizer/fusion.py) already made for one of the ops it
    runs passes through unchanged, so it names that op rather than the fused step's."""
    if getattr(exc, "_tfx_named", False):
        return exc
    where = op._created_at_text()
    detail = f"[[{op.type} op '{op.name}' on inputs ({describe_values(inputs)})]] {where}"
    if isinstance(exc, errors.OpError):
        message = exc.message if f"'{op.name}'" in exc.message else f"{exc.message}\n\t{detail}"
        if type(exc) is errors.OpError:
            return errors.OpError(None, op, message, exc.error_code)
        return type(exc)(None, op, message)
    return errors.InvalidArgumentError(None, op, f"{type(exc).__name__}: {exc}\n\t{detail}")
