"""Batched sums: an AddN whose terms are all the same kind of linear op becomes one op over the
terms' operands, so a sum of n small results costs one pass instead of n ops and an n-way add.

What tf.gradients makes of a weight used at every step of an unrolled RNN:
  * sum_k MatMul(a_k, b_k) with one set of transpose flags: one MatMul of the operands
    concatenated along their contraction axis ([a_1 .. a_n] @ [b_1; ..; b_n]); the n small
    products of a [20, 400]^T x [20, 800] weight gradient become one [400, 400]^T x [400, 800]
    product, which BLAS runs several times faster, and the n-way AddN over [400, 800] goes;
  * sum_k Sum(x_k, axes) with axis 0 among the axes, over small x_k: one Sum of the x_k
    concatenated along axis 0 (a bias gradient per step);
  * sum_k Pad(x_k, paddings_k) (the gradients of slices of one tensor): one zero array into
    whose padded regions the x_k are added, instead of n padded copies and an n-way AddN.
The results equal the AddN's within float rounding (the additions happen in another order).

A term qualifies when its node runs its registered kernel, its output is read by the AddN alone
(and is not fetched), every operand has a fully known static shape (so the concatenation cannot
meet a run-time surprise), the same for every term, and no operand is a variable's buffer. The
AddN moves to where the terms were computed only in the sense that it now reads their operands:
no node that writes state may lie between the first term and the AddN. MatMul sums are batched
only when the concatenated operands are no larger than the n results the AddN would read.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.ops import blas_threads

_FLOATS = (dtypes.float32, dtypes.float64)
_SMALL_REDUCTION = 1 << 16  # elements per term: below it, a reduction costs its call overhead


def run(graph):
    """Rewrites qualifying AddN nodes of `graph` in place; returns how many."""
    producer = {t: (k, node) for k, node in enumerate(graph.nodes) for t in node.outputs}
    readers = graph.read_counts()
    writes_between = graph.writes_between()
    count = 0
    for k, node in enumerate(graph.nodes):
        terms = _terms(graph, k, node, producer, readers, writes_between)
        if terms is None:
            continue
        rewrite = _BATCHERS.get(terms[0].op.type)
        batched = rewrite(graph, node, terms) if rewrite else None
        if batched is not None:
            graph.nodes[k] = batched
            count += 1
    if count:
        graph.remove_dead()
    return count


def _terms(graph, k, node, producer, readers, writes_between):
    """The nodes computing the AddN's terms when they may be batched, else None."""
    if node.fn is not None or node.op.type != "AddN" or len(node.inputs) < 2:
        return None
    if node.op._attrs.get("T") not in _FLOATS or len(set(node.inputs)) != len(node.inputs):
        return None
    found = [producer.get(t) for t in node.inputs]
    if any(f is None for f in found):
        return None
    first = min(p for p, _ in found)
    if writes_between(first, k):
        return None
    terms = [term for _, term in found]
    kind = terms[0].op.type
    for term, t in zip(terms, node.inputs):
        if (term.fn is not None or term.op.type != kind or len(term.outputs) != 1
                or readers[t] != 1 or t in graph.fetched or graph.keeps(term.op)
                or any(u.dtype._is_ref_dtype for u in term.inputs)):
            return None
    return terms


def _static_shapes(tensors):
    shapes = [t.get_shape() for t in tensors]
    if not all(s.is_fully_defined() for s in shapes):
        return None
    return [tuple(s.as_list()) for s in shapes]


# ---- sum of products ---------------------------------------------------------------------
def _batch_matmuls(graph, node, terms):
    attrs = [(t.op._attrs["transpose_a"], t.op._attrs["transpose_b"]) for t in terms]
    if len(set(attrs)) != 1:
        return None
    ta, tb = attrs[0]
    a_shapes = _static_shapes([t.inputs[0] for t in terms])
    b_shapes = _static_shapes([t.inputs[1] for t in terms])
    if a_shapes is None or b_shapes is None or len(set(a_shapes)) != 1 or \
            len(set(b_shapes)) != 1 or len(a_shapes[0]) != 2:
        return None
    a_axis, b_axis = (0 if ta else 1), (1 if tb else 0)
    (a0, a1), (b0, b1) = a_shapes[0], b_shapes[0]
    rows, cols = (a1 if ta else a0), (b0 if tb else b1)
    operands = len(terms) * (a0 * a1 + b0 * b1)
    if operands > len(terms) * rows * cols:
        return None  # copying the operands would cost more than the AddN it saves
    inputs = [t.inputs[0] for t in terms] + [t.inputs[1] for t in terms]
    fn = _matmul_sum(len(terms), ta, tb, a_axis, b_axis)
    fn.macs = rows * cols * (a0 if ta else a1) * len(terms)  # a cost hint (lanes.py)
    return _node(node, inputs, fn)


def _matmul_sum(n, ta, tb, a_axis, b_axis):
    def matmul_sum(ctx, *operands):
        a = np.concatenate(operands[:n], axis=a_axis)
        b = np.concatenate(operands[n:], axis=b_axis)
        return blas_threads.matmul(a.T if ta else a, b.T if tb else b, ctx.intra_op_threads)
    return matmul_sum


# ---- sum of reductions -------------------------------------------------------------------
def _batch_sums(graph, node, terms):
    if any(t.op._attrs.get("keep_dims") for t in terms):
        return None
    axes = [graph.constant(t.inputs[1]) for t in terms]
    shapes = _static_shapes([t.inputs[0] for t in terms])
    if any(a is None for a in axes) or shapes is None or len(set(shapes)) != 1:
        return None
    if int(np.prod(shapes[0])) > _SMALL_REDUCTION:
        return None  # big inputs: n reductions read them once, concatenating reads them twice
    rank = len(shapes[0])
    normal = {tuple(sorted(int(a) % max(rank, 1) for a in np.ravel(ax))) for ax in axes}
    if rank == 0 or len(normal) != 1 or 0 not in next(iter(normal)):
        return None
    if len(set(next(iter(normal)))) != len(next(iter(normal))):
        return None  # repeated axes: the Sum's own kernel raises TF's error
    reduced = next(iter(normal))

    def reduction_sum(ctx, *xs):
        return np.sum(np.concatenate(xs, axis=0), axis=reduced)
    return _node(node, [t.inputs[0] for t in terms], reduction_sum)


# ---- sum of paddings ---------------------------------------------------------------------
def _batch_pads(graph, node, terms):
    widths = [graph.constant(t.inputs[1]) for t in terms]
    shapes = _static_shapes([t.inputs[0] for t in terms])
    out = _static_shapes(node.outputs)
    if any(w is None for w in widths) or shapes is None or out is None:
        return None
    regions = []
    for width, shape in zip(widths, shapes):
        width = np.asarray(width)
        if width.shape != (len(shape), 2) or (width < 0).any():
            return None
        regions.append(tuple(slice(int(lo), int(lo) + d) for (lo, _), d in zip(width, shape)))
    shape, dtype = out[0], node.op._attrs["T"].as_numpy_dtype

    def pad_sum(ctx, *xs):
        total = np.zeros(shape, dtype=dtype)
        for region, x in zip(regions, xs):
            total[region] += x
        return total
    return _node(node, [t.inputs[0] for t in terms], pad_sum)


def _node(node, inputs, fn):
    """The AddN's node computing `fn` over `inputs` (errors and traces still name the AddN)."""
    return type(node)(node.op, inputs, node.outputs, fn=fn)


_BATCHERS = {"MatMul": _batch_matmuls, "Sum": _batch_sums, "Pad": _batch_pads}
