"""Constant folding: evaluates, once at plan compile time, what every step would compute the same.

A tensor is constant when its op is a Const, when its op is a pure op whose inputs are all
constant (evaluated with the op's registered CPU kernel), or when its op is Shape, Size, Rank or
ShapeN of a tensor whose static shape is fully known (the shape arithmetic gradient graphs are
full of; BroadcastGradientArgs, Reshape, Fill, ... on those then fold too), or ZerosLike or
OnesLike of a numeric tensor whose static shape is fully known (nce_loss's label matrix).
What folding may never touch:
  * fed tensors (a fed tensor is not constant) and the ops of fetched tensors and targets (they
    keep their names and are computed as before, from folded inputs);
  * stateful ops, asynchronous kernels, ops of modules with side effects or session state
    (variables, queues, readers, random numbers, Send/Recv), reference and resource tensors,
    control flow (Enter, Switch, Merge, ...: so nothing inside a while-loop frame folds), and
    ops waiting on a control input that is not itself folded;
  * values over the size cap (`max_folded_constant_in_bytes`, 10 MiB by default), checked on the
    static shape before evaluating when it is known;
  * ops whose kernel fails: the step then raises the op's error as it always did.
The result is the folded tensors the rest of the plan reads: the plan treats them as fed, with
read-only arrays as values, so their producers are pruned away.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.runtime import kernel_binding

_CONTROL_FLOW = frozenset((
    "Enter", "RefEnter", "Exit", "RefExit", "Switch", "RefSwitch", "Merge", "RefMerge",
    "NextIteration", "RefNextIteration", "LoopCond", "ControlTrigger"))
_NEVER = _CONTROL_FLOW | frozenset((
    "NoOp", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "PyFunc",
    "PyFuncStateless", "ReadFile", "WriteFile", "MatchingFiles", "_Send", "_Recv"))
# Modules whose kernels reach session state or the outside world, stateful flag or not.
_STATEFUL_MODULES = frozenset(
    "tensorflux.ops." + m for m in ("sendrecv_ops", "data_flow_ops", "state_ops", "random_ops",
                                    "candidate_sampling_ops", "reader_ops", "io_ops"))
_STATE_NAMES = frozenset(("rng", "resources", "session", "state", "init_state"))
_SHAPE_OPS = frozenset(("Shape", "Size", "Rank", "ShapeN"))
_LIKE_OPS = {"ZerosLike": 0, "OnesLike": 1}  # their value: the fill


def fold(order, fed, fetches, targets, max_bytes, make_context):
    """The folded tensors of the ops in `order` that the rest of the step reads.

    Args:
      order: the step's ops in topological order; fed: the fed tensors; fetches, targets: the
        step's fetched tensors and target ops; max_bytes: the size cap of one folded op's
        outputs; make_context(op): a KernelContext to evaluate `op` with.

    Returns:
      {tensor: read-only ndarray}: every output of a folded op read by an op that is not
      folded (all outputs of one a kept op waits on through a control edge).
    """
    keep = set(targets) | {t.op for t in fetches}
    values, folded = {}, set()
    for op in order:
        if op in keep or not _may_fold(op, fed, values, folded):
            continue
        outputs = _evaluate(op, values, max_bytes, make_context)
        if outputs is not None:
            folded.add(op)
            values.update(zip(op._outputs, outputs))
    return _frontier(order, folded, values)


def _frontier(order, folded, values):
    result = {}
    for op in order:
        if op in folded:
            continue
        for t in op._inputs:
            if t.op in folded:
                result[t] = values[t]
        for c in op._control_inputs:
            if c in folded:
                result.update((t, values[t]) for t in c._outputs)
    return result


def pure(op):
    """Whether `op` computes its outputs from its inputs alone with a synchronous CPU kernel:
    not stateful, no control flow, no kernel reaching session state or the outside world, no
    reference, resource or variant outputs."""
    op_def = op._op_def
    if op_def.is_stateful or op.type in _NEVER or not op._outputs:
        return False
    kernel = op_def.kernels.get("CPU")
    return (kernel is not None and not kernel.is_async and not _touches_state(kernel.fn)
            and not any(_special(t.dtype) for t in op._outputs))


def _may_fold(op, fed, values, folded):
    if not pure(op) or any(t in fed for t in op._outputs):
        return False
    if any(c not in folded for c in op._control_inputs):
        return False
    if op.type in _SHAPE_OPS:  # a fed value has its tensor's static shape when fully known
        return all(not _special(t.dtype) for t in op._inputs) and all(
            t in values or t.get_shape().is_fully_defined() for t in op._inputs)
    if op.type in _LIKE_OPS and op._inputs[0] not in values:
        x = op._inputs[0]
        return (x.get_shape().is_fully_defined() and not _special(x.dtype)
                and x.dtype.base_dtype != dtypes.string)
    if not op._inputs:
        return op.type in ("Const", "HostConst")
    return all(t in values for t in op._inputs)


def _touches_state(fn):
    code = getattr(fn, "__code__", None)
    names = set(code.co_names) if code is not None else set()
    return fn.__module__ in _STATEFUL_MODULES or bool(names & _STATE_NAMES)


def _special(dtype):
    return dtype._is_ref_dtype or dtype.base_dtype in (dtypes.resource, dtypes.variant)


def _evaluate(op, values, max_bytes, make_context):
    """The op's outputs as read-only arrays, or None when it must not or cannot fold."""
    if _static_bytes(op) > max_bytes:
        return None
    if op.type in _SHAPE_OPS and not all(t in values for t in op._inputs):
        outputs = _shape_values(op)
    elif op.type in _LIKE_OPS and op._inputs[0] not in values:
        x = op._inputs[0]
        outputs = [np.full(x.get_shape().as_list(), _LIKE_OPS[op.type],
                           dtype=x.dtype.base_dtype.as_numpy_dtype)]
    else:
        try:
            result = kernel_binding.kernel_def(op, None).fn(make_context(op),
                                                           *[values[t] for t in op._inputs])
        except Exception:  # noqa: BLE001 - left to the step, which raises the op's error
            return None
        outputs = [result] if len(op._outputs) == 1 else list(result)
    arrays = []
    for t, value in zip(op._outputs, outputs):
        array = np.array(value, dtype=t.dtype.as_numpy_dtype)  # a private copy
        array.setflags(write=False)
        arrays.append(array)
    if len(arrays) != len(op._outputs) or sum(a.nbytes for a in arrays) > max_bytes:
        return None
    return arrays


def _shape_values(op):
    shapes = [t.get_shape().as_list() for t in op._inputs]
    out_type = op._attrs.get("out_type", dtypes.int32).as_numpy_dtype
    if op.type == "Rank":
        return [np.int32(len(shapes[0]))]
    if op.type == "Size":
        return [out_type(int(np.prod(shapes[0], dtype=np.int64)))]
    return [np.array(s, dtype=out_type) for s in shapes]


def _static_bytes(op):
    """The outputs' size from their static shapes (0 when unknown: checked after evaluating)."""
    total = 0
    for t in op._outputs:
        shape = t.get_shape()
        if not shape.is_fully_defined() or t.dtype.base_dtype == dtypes.string:
            return 0
        total += int(np.prod(shape.as_list(), dtype=np.int64)) * t.dtype.base_dtype.size
    return total
