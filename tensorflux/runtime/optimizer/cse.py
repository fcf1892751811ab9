"""Common-subexpression elimination: of two nodes with the same op type, inputs, control inputs
and attrs (in an inline plan: the same device), the later one reads the earlier one's outputs.

Never for stateful ops, asynchronous kernels, reference or resource tensors (two reads of a
variable or two dequeues are not one), nor for an op whose outputs are fetched (it keeps its
name and still computes its value), nor across a node that writes state (a value read from a
variable's buffer before an assignment is not the one read after it).
"""
import numpy as np

from tensorflux.runtime.optimizer import constant_folding


_SMALL = 1024  # folded constants up to this many bytes are merged by value


def run(graph):
    """Merges duplicate nodes of `graph` (a PlanGraph); returns how many were removed."""
    _merge_equal_constants(graph)
    seen, kept, count = {}, [], 0
    for node in graph.nodes:
        node.inputs = [graph.resolve(t) for t in node.inputs]
        if graph.writes(node):
            seen.clear()
        key = _key(node) if _eligible(node) else None
        first = seen.get(key) if key is not None else None
        if first is None or graph.keeps(node.op):
            if key is not None and first is None:
                seen[key] = node
            kept.append(node)
            continue
        for mine, theirs in zip(node.outputs, first.outputs):
            graph.replace(mine, theirs)
        count += 1
    graph.nodes = kept
    graph.rewire()
    return count


def _merge_equal_constants(graph):
    """Readers of equal small folded constants (each `x * 0.9` makes its own Const) read one."""
    first = {}
    for tensor, value in graph.constants.items():
        if value.nbytes <= _SMALL and value.dtype != object:
            key = (value.dtype.str, value.shape, value.tobytes())
            if key in first:
                graph.replace(tensor, first[key])
            else:
                first[key] = tensor


def _eligible(node):
    op = node.op
    if node.fn is not None or op._op_def.is_stateful or not op._outputs:
        return False
    if op.type in constant_folding._NEVER:
        return False
    kernel = op._op_def.kernels.get("CPU")
    if kernel is None or kernel.is_async:
        return False
    special = constant_folding._special
    return not any(special(t.dtype) for t in list(node.inputs) + list(op._outputs))


def _key(node):
    op = node.op
    try:
        attrs = tuple(sorted((name, _freeze(value)) for name, value in op._attrs.items()))
        controls = tuple(sorted(c._id for c in op._control_inputs))
        key = (op.type, tuple(node.inputs), controls, attrs, op.device)
        hash(key)
    except TypeError:  # an attr we cannot compare: never merged
        return None
    return key


def _freeze(value):
    """A hashable stand-in for an attr value that compares equal exactly when the values do."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if hasattr(value, "SerializeToString"):
        return (type(value).__name__, value.SerializeToString(deterministic=True))
    if hasattr(value, "as_list") and hasattr(value, "ndims"):  # TensorShape
        return ("shape", None if value.ndims is None else tuple(value.as_list()))
    hash(value)
    return (type(value).__name__, value)
