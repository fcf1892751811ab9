"""Shape arithmetic of tensors whose shapes are only known at run time is computed once per
distinct input shape (constant folding, keyed on the shapes a step sees).

With a batch dimension of None (most 2016 scripts), the gradient graph's shape arithmetic
cannot fold at compile time: Mean's gradient takes Shape, Prod, FloorDiv, Fill and Cast of the
loss's shape, every bias add's gradient BroadcastGradientArgs of two Shapes. Those ops read
nothing but shapes and constants, so their values are a function of the shapes: this pass
gathers each connected group of them into one step that looks its outputs up by the tuple of
its sources' shapes, and computes them (with the ops' own kernels, in order) only for a shape
it has not seen. The MLP step loses about fifteen steps this way.

A member of a group is a Shape, Size, Rank or ShapeN node (it reads only its inputs' shapes) or
a pure node whose inputs are constants or members' outputs; stateful ops, kernels that reach
session state, references and resources stay out, as in constant folding. Fetched tensors and
targets stay out too (a fetch gets a fresh array). A group runs where its last shape read was,
and only when every reader of its outputs comes later. Cached outputs are read-only arrays, as
folded constants are; a group keeps at most MAX_SHAPES distinct shapes, and none whose outputs
pass MAX_BYTES (a Fill of a big runtime shape is computed every time). Errors name the member
op that raised them.
"""
import numpy as np

from tensorflux.runtime import kernel_binding
from tensorflux.runtime.optimizer import constant_folding
from tensorflux.runtime.optimizer.graph import Node

MAX_SHAPES = 16
MAX_BYTES = 1 << 16


def run(graph, context_for, device):
    """Replaces each qualifying group of shape arithmetic in `graph`; returns how many nodes
    went into groups."""
    members = _members(graph)
    if not members:
        return 0
    readers = {}
    for k, node in enumerate(graph.nodes):
        if k not in members:
            for t in node.inputs:
                readers.setdefault(t, []).append(k)
    lookups, gone = {}, set()
    for positions in _groups(graph, members):
        made = _group_node(graph, positions, readers, context_for, device)
        if made is not None:
            at, node = made
            lookups[at] = node
            gone.update(positions)
    if lookups:
        graph.nodes = [lookups.get(k, node) for k, node in enumerate(graph.nodes)
                       if k in lookups or k not in gone]
    return len(gone)


def _members(graph):
    """The positions of the nodes that may join a group: shape reads, and pure nodes computing
    from constants and members' outputs."""
    members, outputs = set(), set()
    for k, node in enumerate(graph.nodes):
        op = node.op
        if node.fn is not None or graph.keeps(op) or not constant_folding.pure(op):
            continue
        if any(constant_folding._special(t.dtype) for t in node.inputs):
            continue
        if op.type in constant_folding._SHAPE_OPS or (
                node.inputs and any(t in outputs for t in node.inputs) and all(
                    t in outputs or graph.constant(t) is not None for t in node.inputs)):
            members.add(k)
            outputs.update(node.outputs)
    return members


def _groups(graph, members):
    """Lists of member positions connected through the tensors they pass one another."""
    parent = {k: k for k in members}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k
    producer = {t: k for k in members for t in graph.nodes[k].outputs}
    for k in members:
        for t in graph.nodes[k].inputs:
            j = producer.get(t)
            if j is not None:
                parent[root(j)] = root(k)
    groups = {}
    for k in sorted(members):
        groups.setdefault(root(k), []).append(k)
    # a lone Shape read has nothing to save
    return [g for g in groups.values() if len(g) > 1]


def _group_node(graph, positions, readers, context_for, device):
    """(position, Node) of one group's lookup step, or None when its readers come too early."""
    nodes = [graph.nodes[k] for k in positions]
    made = {t for node in nodes for t in node.outputs}
    # the shape reads of tensors from outside the group: its sources
    shape_reads = [k for k in positions if graph.nodes[k].op.type in constant_folding._SHAPE_OPS
                   and not any(t in made for t in graph.nodes[k].inputs)]
    if not shape_reads:
        return None
    at = max(shape_reads)
    frontier = [t for node in nodes for t in node.outputs if t in readers]
    if not frontier or any(r < at for t in frontier for r in readers[t]):
        return None
    sources = list(dict.fromkeys(t for k in shape_reads for t in graph.nodes[k].inputs))
    constants = {t: graph.constant(t) for node in nodes for t in node.inputs
                 if t not in made and t not in sources}
    steps = [(node.op, kernel_binding.kernel_def(node.op, device).fn,
              context_for(node.op, device), node.inputs, node.outputs) for node in nodes]
    fn = _lookup(steps, sources, constants, frontier)
    ops = tuple(node.op for node in nodes)
    return at, Node(nodes[-1].op, sources, frontier, fn=fn, ops=ops)


def _lookup(steps, sources, constants, frontier):
    cache = {}
    single = len(frontier) == 1

    def shape_arithmetic(ctx, *values):
        key = tuple(np.shape(v) for v in values)
        outputs = cache.get(key)
        if outputs is None:
            known = dict(constants)
            known.update(zip(sources, values))
            outputs = _evaluate(steps, known, frontier)
            if len(cache) < MAX_SHAPES and sum(a.nbytes for a in outputs) <= MAX_BYTES:
                cache[key] = outputs
        return outputs[0] if single else outputs
    return shape_arithmetic


def _evaluate(steps, values, frontier):
    for op, kernel, ctx, inputs, outputs in steps:
        args = [values[t] for t in inputs]
        try:
            result = kernel(ctx, *args)
        except Exception as e:  # noqa: BLE001 - the member's own error, naming it
            raise kernel_binding.member_error(op, e, args) from e
        values.update(zip(outputs, [result] if len(outputs) == 1 else result))
    arrays = []
    for t in frontier:
        array = np.array(values[t], dtype=t.dtype.as_numpy_dtype)  # private, read-only
        array.setflags(write=False)
        arrays.append(array)
    return arrays
