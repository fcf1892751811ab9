"""Lanes: a big matrix product runs on the lane thread (ops/lanes.py) while the plan goes on
with the steps that do not need it (inter-op parallelism, as TensorFlow's executor runs
independent ops on its inter-op threads).

The inline plan runs its steps one after another in the calling thread. A product's kernel
spends nearly all its time in the BLAS, which releases the GIL, so a second thread computing it
leaves the calling thread free for the following steps. In ptb_small's backward pass the
softmax weight gradient (a [200, 400] x [400, 10000] product) is read only by the gradient
clipping at the very end: the whole LSTM backward pass (~700 steps) can run beside it.

A MatMul node runs asynchronously ("launched") when
  * both operands have fully known static shapes and it does at least SPLIT_MACS multiply-adds
    (a few ms: handing it over costs tens of µs);
  * the steps between it and its first reader (the window) write no state: no assignment,
    apply or dequeue may run before a product that the sequential order ran first, or change
    an operand it is still reading. (No step writes into a MatMul's operand otherwise: buffer
    reuse, memory.py, takes only arrays that fused steps alone read.)
  * running it beside the window is estimated to gain time over running both in order. In
    order, a laned step splits the product over its two lanes, and the window's big products
    too (time a/2 + W_split); launched, the product takes one core and the window the other,
    its products unsplit (time max(a, W_one)). The estimates are rough (ONE_CORE_MACS,
    STEP_SECONDS, ELEMENT_SECONDS: this project's 2-core machine) but what they compare is
    not: two products, one launched beside the other, gain nothing over both split;
  * no other launch is pending: windows never overlap, so at most two threads run. The
    launches with the biggest estimated gain are taken first.
A laned plan (one with a launch) runs with two lanes (ops/lanes.py): its products on one BLAS
thread each, big ones split over the lanes, so OpenBLAS's workers never spin beside them
(measured on ptb_small: with OpenBLAS's own two threads for the big products outside the
window, the step took 1.36x as long as split over the lanes).

The plan's generated code launches the product at its place in the order and joins it before
its first reader (runtime/plan_codegen.py); a failure in either is reported as the sequential
order would have reported it. Turned off with ConfigProto.inter_op_parallelism_threads = 1,
opt_level L0, or on a machine with one CPU.
"""
from tensorflux.ops import blas_threads

ONE_CORE_MACS = 3e10  # multiply-adds a second on one core (single-precision GEMM, this CPU)
STEP_SECONDS = 8e-6   # a small step's cost
ELEMENT_SECONDS = 1e-9  # per element a step writes (an element-wise pass)


def run(graph, width):
    """Marks the nodes of `graph` to launch (Node.launch); returns how many. width: the lanes a
    step may use (below 2: none)."""
    if width < 2:
        return 0
    nodes = graph.nodes
    writes_between = graph.writes_between()
    first_reader = _first_readers(nodes)
    costs = [_costs(node) for node in nodes]  # (in order, on one lane)
    candidates = []
    for k, node in enumerate(nodes):
        macs = _product_macs(node)
        if macs is None or macs < blas_threads.SPLIT_MACS:
            continue
        end = min(first_reader.get(t, len(nodes)) for t in node.outputs)
        if writes_between(k, end):
            continue
        alone = macs / ONE_CORE_MACS
        split, one = (sum(c[i] for c in costs[k + 1:end]) for i in (0, 1))
        gain = alone / 2 + split - max(alone, one)
        if gain > 0:
            candidates.append((-gain, k, end))
    taken = []
    for _, k, end in sorted(candidates):
        if all(end <= k2 or e2 <= k for k2, e2 in taken):
            nodes[k].launch = True
            taken.append((k, end))
    return len(taken)


def _first_readers(nodes):
    first = {}
    for j, node in enumerate(nodes):
        for t in node.inputs:
            first.setdefault(t, j)
    return first


def _product_macs(node):
    """Multiply-adds of a MatMul node running its own kernel with static shapes, else None."""
    op = node.op
    if node.fn is not None or op.type != "MatMul":
        return None
    a, b = (t.get_shape() for t in op.inputs)
    if not (a.is_fully_defined() and b.is_fully_defined()) or a.ndims != 2 or b.ndims != 2:
        return None
    m, k = a.as_list()[::-1] if op._attrs.get("transpose_a") else a.as_list()
    n = b.as_list()[0] if op._attrs.get("transpose_b") else b.as_list()[1]
    return m * k * n


def _costs(node):
    """Rough estimates of a node's seconds in a laned step: (run in order, with big products
    split over two lanes; on one lane)."""
    macs = _product_macs(node) or getattr(node.fn, "macs", None)
    if macs is not None:
        one = STEP_SECONDS + macs / ONE_CORE_MACS
        return (one / 2 if macs >= blas_threads.SPLIT_MACS else one), one
    elements = 0
    for t in node.outputs[:1]:
        shape = t.get_shape()
        if shape.is_fully_defined():
            elements = shape.num_elements()
    cost = STEP_SECONDS + elements * ELEMENT_SECONDS
    return cost, cost
