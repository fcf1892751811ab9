"""Sums of pads that tile their output become one concatenation (an arithmetic rewrite).

The gradient of Slice is a Pad: the slice's gradient at its offset, zeros elsewhere. When a
tensor is cut into pieces (nce_loss cuts the gathered rows of its weights into true and sampled
classes), its gradient is an AddN of Pads whose non-zero parts tile the whole result, and that
sum is the pieces' concatenation: one step and one buffer instead of a zeroed buffer per piece
and the adds.

Only when every input of the AddN is a Pad read by that AddN alone (and not fetched) whose
paddings are known constants, zero on every axis but one (the same for all of them), the
result's size on that axis is known, and the pieces [before, size - after) cover it exactly,
without overlap. The values are the sum's, except that -0.0 stays -0.0 (the sum adds +0.0).
"""
import numpy as np

from tensorflux.runtime.optimizer.graph import Node


def run(graph):
    """Rewrites the AddNs of tiling Pads in `graph`; returns how many."""
    producer = {t: node for node in graph.nodes for t in node.outputs}
    reads = graph.read_counts()
    count = 0
    for k, node in enumerate(graph.nodes):
        if node.fn is not None or node.op.type != "AddN" or len(node.inputs) < 2:
            continue
        tiling = _tiling(graph, node, producer, reads)
        if tiling is not None:
            axis, pads = tiling
            graph.nodes[k] = Node(node.op, [pad.inputs[0] for pad in pads], node.outputs,
                                  fn=_concatenation(axis),
                                  ops=(node.op,) + tuple(pad.op for pad in pads))
            count += 1
    if count:
        graph.remove_dead()
    return count


def _tiling(graph, node, producer, reads):
    """(axis, the Pad nodes in order along it) when the AddN's Pads tile its output, or None."""
    shape = node.outputs[0].get_shape()
    if shape.ndims is None or shape.ndims == 0:
        return None
    placed, axis = [], None
    for t in node.inputs:
        pad = producer.get(t)
        if (pad is None or pad.fn is not None or pad.op.type != "Pad" or reads.get(t) != 1
                or graph.keeps(pad.op) or pad.inputs[0].dtype._is_ref_dtype):
            return None
        widths = graph.constant(pad.inputs[1])
        if widths is None or np.shape(widths) != (shape.ndims, 2):
            return None
        padded = [i for i in range(shape.ndims) if np.any(widths[i])]
        if len(padded) > 1 or (padded and axis is not None and padded[0] != axis):
            return None
        axis = padded[0] if padded else axis
        placed.append((widths, pad))
    axis = 0 if axis is None else axis
    pads = _in_order(placed, axis, shape.dims[axis].value)
    return None if pads is None else (axis, pads)


def _in_order(placed, axis, size):
    """The Pads sorted by offset if their pieces cover [0, size) exactly, else None."""
    if size is None:
        return None
    placed.sort(key=lambda entry: int(entry[0][axis][0]))
    end = 0
    for widths, pad in placed:
        before, after = int(widths[axis][0]), int(widths[axis][1])
        piece = pad.inputs[0].get_shape()
        known = piece.dims[axis].value if piece.ndims is not None else None
        if before != end or size - after < before or (
                known is not None and known != size - before - after):
            return None
        end = size - after
    return [pad for _, pad in placed] if end == size else None


def _concatenation(axis):
    def concatenation(ctx, *pieces):
        return np.concatenate(pieces, axis=axis)
    return concatenation
