"""Softmax cross entropy and its gradient's scaling in one step (a remapping rewrite): the
gradient of a cross-entropy loss multiplies the op's backprop output by the loss's gradient,
`reshape(grad_loss, [-1, 1]) * backprop`; when that factor is a constant (a mean or sum of the
losses over static shapes: it folds), the cross-entropy kernel multiplies each block of rows
while it is still in cache, and the separate pass over the [batch, classes] matrix goes (PTB's
400 x 10000: 16 MB read and written once less per step).

The Mul qualifies when one operand is the backprop output (1) of a SoftmaxCrossEntropyWithLogits
or SparseSoftmaxCrossEntropyWithLogits step running its registered kernel, read by this Mul
alone and not fetched; the other is a constant whose broadcast keeps the backprop's fully known
static shape; the dtype is float32 or float64. The scaled backprop is the Mul's output; values
are bit for bit the unfused plan's (each element is the same one product).
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.runtime import kernel_binding
from tensorflux.runtime.optimizer import fusion
from tensorflux.runtime.optimizer.graph import Node

_XENTS = ("SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits")
_FLOATS = (dtypes.float32, dtypes.float64)


def run(graph, device):
    """Folds qualifying constant scalings into their cross-entropy steps; returns how many."""
    producer = {t: k for k, node in enumerate(graph.nodes) for t in node.outputs}
    readers = graph.read_counts()
    muls = set()  # a backprop read by its Mul alone: each cross entropy joins one Mul at most
    for k, node in enumerate(graph.nodes):
        found = _scaled_backprop(graph, node, producer, readers)
        if found is None:
            continue
        at, scale = found
        xent = graph.nodes[at]
        kernel = kernel_binding.kernel_def(xent.op, device).fn
        graph.nodes[at] = Node(xent.op, xent.inputs, [xent.outputs[0], node.outputs[0]],
                               fn=_scaled(kernel, scale), ops=(xent.op, node.op))
        muls.add(k)
    if muls:
        graph.nodes = [n for k, n in enumerate(graph.nodes) if k not in muls]
    return len(muls)


def _scaled_backprop(graph, node, producer, readers):
    """(position of the cross-entropy step, the constant scale), or None."""
    op = node.op
    if (node.fn is not None or op.type != "Mul" or graph.keeps(op)
            or op._attrs.get("T") not in _FLOATS):
        return None
    for pos in (0, 1):
        backprop, other = node.inputs[pos], node.inputs[1 - pos]
        at = producer.get(backprop)
        if at is None:
            continue
        xent = graph.nodes[at]
        if (xent.fn is not None or xent.op.type not in _XENTS or backprop is not xent.outputs[1]
                or readers.get(backprop) != 1 or backprop in graph.fetched
                or xent.op._attrs.get("T") not in _FLOATS):
            continue
        scale = graph.constant(other)
        shape = backprop.get_shape()
        if (scale is None or not shape.is_fully_defined() or not fusion._broadcasts_into(
                other.get_shape(), shape) or node.outputs[0].get_shape().as_list()
                != shape.as_list()):
            continue
        return at, np.asarray(scale, dtype=xent.op._attrs["T"].as_numpy_dtype)
    return None


def _scaled(kernel, scale):
    def scaled_xent(ctx, logits, labels):
        return kernel(ctx, logits, labels, scale)
    return scaled_xent
