"""Arithmetic simplification: x*1, 1*x, x+0, 0+x, x-0, -(-x) and a transpose of a transpose
that puts every axis back all read x itself.

Only when the result is exactly x: the constant must not broadcast x to a larger shape (it has
one element and no more dimensions than x, or x and the result have the same fully known
static shape), and for floats x+0 needs the zero to be -0.0 (x + +0.0 turns -0.0 into +0.0)
while x-0 needs +0.0. Fetched results keep their op; x must not be a variable's buffer, nor
computed before a node that writes state (x may be a view of a variable's buffer, which the
op's result, a copy, is not).
"""
import numpy as np

from tensorflux.runtime.optimizer import constant_folding


def run(graph):
    """Rewires readers of simplifiable nodes of `graph` to the operand; returns the count."""
    producer = {t: node for node in graph.nodes for t in node.outputs}
    position = {t: k for k, node in enumerate(graph.nodes) for t in node.outputs}
    last_write = max((k for k, node in enumerate(graph.nodes) if graph.writes(node)), default=-1)
    count = 0
    for node in graph.nodes:
        node.inputs = [graph.resolve(t) for t in node.inputs]
        if node.fn is not None or graph.keeps(node.op) or len(node.outputs) != 1:
            continue
        same = _operand(graph, node, producer)
        if same is not None and position.get(same, -1) < last_write:
            continue
        if same is not None and not constant_folding._special(same.dtype):
            graph.replace(node.outputs[0], same)
            count += 1
    graph.rewire()
    graph.remove_dead()
    return count


def _operand(graph, node, producer):
    """The input the node's output equals exactly, or None."""
    op, inputs = node.op, node.inputs
    kind = op.type
    if kind == "Mul":
        return _with_constant(graph, node, lambda c: np.all(c == 1), (0, 1))
    if kind in ("Add", "AddV2"):
        return _with_constant(graph, node, _is_neutral_zero(op, negative=True), (0, 1))
    if kind == "Sub":
        return _with_constant(graph, node, _is_neutral_zero(op, negative=False), (1,))
    inner = producer.get(inputs[0]) if inputs else None
    if inner is None or inner.fn is not None or inner.op.type != kind:
        return None
    if kind == "Neg":
        return inner.inputs[0]
    if kind == "Transpose":
        outer_perm, inner_perm = graph.constant(inputs[1]), graph.constant(inner.inputs[1])
        if outer_perm is None or inner_perm is None or len(outer_perm) != len(inner_perm):
            return None
        if all(int(inner_perm[int(p)]) == i for i, p in enumerate(outer_perm)):
            return inner.inputs[0]
    return None


def _is_neutral_zero(op, negative):
    dtype = op._attrs["T"]

    def neutral(c):
        if dtype.is_complex or not np.all(c == 0):
            return False
        return not dtype.is_floating or bool(np.all(np.signbit(c) == negative))
    return neutral


def _with_constant(graph, node, is_neutral, constant_positions):
    dtype = node.op._attrs.get("T")
    if dtype is None or dtype.base_dtype.name == "string":
        return None
    for pos in constant_positions:
        c, x = node.inputs[pos], node.inputs[1 - pos]
        value = graph.constant(c)
        if value is not None and is_neutral(np.asarray(value)) and _exact_shape(
                x, np.asarray(value), node.outputs[0]):
            return x
    return None


def _exact_shape(x, constant, out):
    shape = x.get_shape()
    if shape.ndims is not None and constant.size == 1 and constant.ndim <= shape.ndims:
        return True
    out_shape = out.get_shape()
    return (shape.is_fully_defined() and out_shape.is_fully_defined()
            and shape.as_list() == out_shape.as_list())
