"""Dependency optimization: removes Identity and NoOp steps from an inline plan.

An inline plan runs its steps in one fixed order that already honours every control edge, so a
NoOp (a `tf.group`, a control-dependency anchor) does nothing there, and an Identity only hands
its input on. Kept: an Identity whose output is fetched (it keeps its name), one reading a
variable's buffer (`v/read` takes a snapshot at its point in the order; removing it would make
its readers read the buffer later, perhaps after an update), and dtype-changing or
multi-input forms.
"""
from tensorflux.runtime.optimizer import constant_folding

_FORWARDING = frozenset(("Identity", "StopGradient", "PreventGradient", "Snapshot"))


def run(graph):
    """Drops NoOps and forwards Identity outputs in `graph`; returns how many nodes went."""
    kept, count = [], 0
    for node in graph.nodes:
        op = node.op
        if node.fn is None and op.type == "NoOp" and not node.inputs:
            count += 1
            continue
        if node.fn is None and op.type in _FORWARDING and _forwardable(graph, node):
            graph.replace(op._outputs[0], graph.resolve(node.inputs[0]))
            count += 1
            continue
        kept.append(node)
    graph.nodes = kept
    graph.rewire()
    return count


def _forwardable(graph, node):
    op = node.op
    if len(node.inputs) != 1 or len(op._outputs) != 1 or graph.keeps(op):
        return False
    source, out = node.inputs[0], op._outputs[0]
    return (not constant_folding._special(source.dtype)
            and source.dtype.base_dtype == out.dtype.base_dtype)
