"""Reshapes to the shape a tensor already has go (an arithmetic rewrite): their readers read the
input itself.

Gradient graphs are full of them: Gather's gradient reshapes its indices and values to [count]
and [count, ...] even when they have those shapes (word2vec's step has six). Only when the
input's and the output's static shapes are fully known and equal, the input is no reference,
and the Reshape is not fetched. NumPy's reshape to an array's own shape is a view of the same
data, so readers see exactly the values (and the aliasing) they saw before.
"""


def run(graph):
    """Rewires readers of redundant Reshapes in `graph` to their inputs; returns how many."""
    count = 0
    for node in graph.nodes:
        node.inputs = [graph.resolve(t) for t in node.inputs]
        if node.fn is not None or node.op.type != "Reshape" or graph.keeps(node.op):
            continue
        x, out = node.inputs[0], node.outputs[0]
        before, after = x.get_shape(), out.get_shape()
        if (not x.dtype._is_ref_dtype and before.is_fully_defined()
                and after.is_fully_defined() and before.as_list() == after.as_list()):
            graph.replace(out, x)
            count += 1
    graph.rewire()
    graph.remove_dead()
    return count
