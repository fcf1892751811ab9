"""A sparse update's scaling joins the update (a remapping rewrite, as TensorFlow's remapper
fuses ops into one kernel): ScatterSub(ref, indices, values * c) with a constant scalar c (the
learning rate of GradientDescentOptimizer's sparse apply) becomes one step that scales the rows
inside the scatter, skipping the multiply altogether when c is 1.

Only when the Mul's result is read by the scatter alone and not fetched, c is a known constant of
one element that cannot broadcast the values to a larger shape, no tensor involved is a
reference (other than the scatter's ref), and no node between the two writes state (the values
are read where the Mul ran). The values are the unfused plan's: the same multiply, or none
where multiplying by 1 would change nothing.
"""
import numpy as np

from tensorflux.runtime import kernel_binding
from tensorflux.runtime.optimizer.graph import Node

_SCATTERS = frozenset(("ScatterSub", "ScatterAdd"))


def run(graph, device):
    """Folds the constant scalings of scatter updates in `graph`; returns how many."""
    position = {t: k for k, node in enumerate(graph.nodes) for t in node.outputs}
    reads = graph.read_counts()
    writes_between = graph.writes_between()
    count = 0
    for k, node in enumerate(graph.nodes):
        if node.fn is not None or node.op.type not in _SCATTERS:
            continue
        found = _scaled_values(graph, node, k, position, reads, writes_between)
        if found is None:
            continue
        mul, values, scale = found
        scatter = kernel_binding.kernel_def(node.op, device).fn
        graph.nodes[k] = Node(node.op, node.inputs[:2] + [values], node.outputs,
                              fn=_scaled_scatter(scatter, scale), ops=(mul.op, node.op))
        count += 1
    if count:
        graph.remove_dead()
    return count


def _scaled_values(graph, node, k, position, reads, writes_between):
    """(the Mul node, its non-constant input, the constant) when the rewrite applies."""
    updates = node.inputs[2]
    at = position.get(updates)
    if at is None or reads.get(updates) != 1 or updates in graph.fetched:
        return None
    mul = graph.nodes[at]
    if (mul.fn is not None or mul.op.type != "Mul" or len(mul.outputs) != 1
            or graph.keeps(mul.op)):
        return None
    if any(t.dtype._is_ref_dtype for t in mul.inputs + node.inputs[1:]):
        return None
    if writes_between(at, k):
        return None
    for pos in (1, 0):
        value = graph.constant(mul.inputs[pos])
        values = mul.inputs[1 - pos]
        shape = values.get_shape()
        if (value is not None and np.size(value) == 1 and shape.ndims is not None
                and np.ndim(value) <= shape.ndims):
            return mul, values, np.asarray(value)
    return None


def _scaled_scatter(scatter, scale):
    if scale == 1:  # x * 1 is x, bit for bit (NaN and -0.0 included)
        def scatter_unscaled(ctx, ref, indices, values):
            # Rows viewing the variable: the Mul's copy kept them from their own update.
            # (row_sums' NumPy calls buffer overlapping operands too; this does not rely on it.)
            if np.may_share_memory(values, ref.get()):
                values = np.array(values)
            return scatter(ctx, ref, indices, values)
        return scatter_unscaled

    def scaled_scatter(ctx, ref, indices, values):
        return scatter(ctx, ref, indices, np.multiply(values, scale))
    return scaled_scatter
