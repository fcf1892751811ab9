"""Buffer reuse: a fused element-wise step writes its result into an input array instead of a
new one, when that input is dead after it.

The input must be the output of another fused step (so the array is one the plan made itself,
never a fed array, a constant, a variable's buffer or a view of another value), every reader of
it must be a fused step (none keeps a view) with this one the last in the plan's order, it must
not be fetched, only the fused step's first op may read it (later ops read the buffer being
overwritten), and that op's other input must broadcast into it (so the result has its shape).
"""
from tensorflux.runtime.optimizer import fusion


def run(graph):
    """Marks fused nodes of `graph` that may write into an input; returns how many."""
    fused_outputs = {node.outputs[0] for node in graph.nodes if isinstance(node.fn, fusion.Group)}
    last_reader, plain_readers = {}, set()
    for k, node in enumerate(graph.nodes):
        for t in node.inputs:
            last_reader[t] = k
            if not isinstance(node.fn, fusion.Group):
                plain_readers.add(t)
    count = 0
    for k, node in enumerate(graph.nodes):
        group = node.fn
        if not isinstance(group, fusion.Group):
            continue
        for pos, t in enumerate(node.inputs):
            if (t in fused_outputs and t not in graph.fetched and t not in plain_readers
                    and last_reader[t] == k and fusion.head_operands(group, t)
                    and _result_has_shape_of(graph, group, t)):
                node.reuse = pos
                count += 1
                break
    return count


def _result_has_shape_of(graph, group, tensor):
    head_out = group.ops[0]._outputs[0]
    return tensor.dtype.base_dtype == head_out.dtype.base_dtype and all(
        fusion.fits(graph, u, tensor) for u in group.inputs[0])
