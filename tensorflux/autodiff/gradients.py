"""tf.gradients: adds ops computing d(sum ys)/d(xs) to the graph, by reverse accumulation.

Phases, each a named helper: _pending_counts (which ops lie between xs and ys, and how many
consumers each waits for), _aggregate (sum the gradients arriving at one tensor, dense or
IndexedSlices), _call_grad_fn and _verify (one gradient per input, right dtype).
"""
import collections

from tensorflux.framework import ops
from tensorflux.framework import registry


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """Symbolic derivatives of sum(ys) with respect to each x in xs (None if unconnected)."""
    ys = _as_list(ys)
    xs = [_as_tensor(x, as_ref=True) for x in _as_list(xs)]
    ys = [_as_tensor(y) for y in ys]
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    stop_ops = {_as_tensor(t).op for t in _as_list(stop_gradients or [])}
    graph = ops._graph_of(ys + xs)
    with graph.as_default(), ops.name_scope(name, "gradients", ys + xs):
        grads = collections.defaultdict(list)
        for y, gy in zip(ys, grad_ys):
            grads[y].append(_initial_grad(y, gy))
        pending, between = _pending_counts(ys, xs)
        ready = collections.deque(op for op in _unique_ops(ys) if pending[op] == 0)
        while ready:
            op = ready.popleft()
            out_grads = [_aggregate(grads.get(t), aggregation_method) for t in op._outputs]
            if op in between and op not in stop_ops:
                in_grads = _call_grad_fn(op, out_grads, colocate_gradients_with_ops)
                for t, g in zip(op._inputs, in_grads):
                    if g is not None:
                        grads[t].append(g)
            for t in op._inputs:
                if t.op in between:
                    pending[t.op] -= 1
                    if pending[t.op] == 0:
                        ready.append(t.op)
        return [_aggregate(grads.get(x), aggregation_method) for x in xs]


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_tensor(value, as_ref=False):
    if isinstance(value, (ops.Tensor, ops.IndexedSlices)):
        return value
    return ops.convert_to_tensor(value, as_ref=as_ref)


def _unique_ops(tensors):
    seen = []
    for t in tensors:
        if t.op not in seen:
            seen.append(t.op)
    return seen


def _initial_grad(y, grad_y):
    if grad_y is not None:
        g = ops.convert_to_tensor(grad_y, dtype=y.dtype.base_dtype)
        if not y.get_shape().is_compatible_with(g.get_shape()):
            raise ValueError(f"grad_ys for {y.name} has shape {g.get_shape()}, incompatible "
                             f"with the shape {y.get_shape()} of {y.name}")
        return g
    from tensorflux.ops import array_ops
    if y.get_shape().is_fully_defined():
        return array_ops.ones(y.get_shape(), dtype=y.dtype.base_dtype, name="grad_ys")
    return array_ops.ones_like(y, name="grad_ys")


def _pending_counts(ys, xs):
    """(pending count per op between xs and ys, the set of those ops)."""
    reached = set()
    stack = [x.op for x in xs]
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        for t in op._outputs:
            stack.extend(c for c in t._consumers if c not in reached)
    between = set()
    stack = [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in between or op not in reached:
            continue
        between.add(op)
        stack.extend(t.op for t in op._inputs)
    pending = collections.Counter()
    for op in between:
        for t in op._inputs:
            if t.op in between:
                pending[t.op] += 1
    return pending, between


def _call_grad_fn(op, out_grads, colocate):
    found, grad_fn = registry.lookup_gradient(op)
    if not found:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}). "
                          f"{op._created_at_text()}")
    if grad_fn is None or all(g is None for g in out_grads):
        return [None] * len(op._inputs)
    out_grads = [_zeros_for(t) if g is None else g for t, g in zip(op._outputs, out_grads)]
    scope = op.name + "_grad"
    with ops.name_scope(scope), (ops.colocate_with(op) if colocate else _null()):
        in_grads = grad_fn(op, *out_grads)
    in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
    _verify(op, in_grads)
    return in_grads


def _zeros_for(tensor):
    from tensorflux.ops import array_ops
    return array_ops.zeros_like(tensor)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _verify(op, in_grads):
    """One gradient per input, each of the input's dtype (TF's _VerifyGeneratedGradients)."""
    if len(in_grads) != len(op._inputs):
        raise ValueError(f"Gradient function of {op.type} op '{op.name}' returned "
                         f"{len(in_grads)} gradients for {len(op._inputs)} inputs")
    for i, (t, g) in enumerate(zip(op._inputs, in_grads)):
        if g is None:
            continue
        if not isinstance(g, (ops.Tensor, ops.IndexedSlices)):
            raise TypeError(f"Gradient function of {op.type} op '{op.name}' returned "
                            f"{type(g).__name__} for input {i}; required a Tensor, "
                            "IndexedSlices or None")
        if g.dtype.base_dtype != t.dtype.base_dtype:
            raise ValueError(f"Gradient function of {op.type} op '{op.name}' returned dtype "
                             f"{g.dtype.base_dtype.name} for input {i} ({t.name}), which has "
                             f"dtype {t.dtype.base_dtype.name}")


def _aggregate(grads, aggregation_method=None):
    """Sums the gradients for one tensor: AddN for dense, concatenation for IndexedSlices."""
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    from tensorflux.ops import array_ops, math_ops
    if all(isinstance(g, ops.Tensor) for g in grads):
        return math_ops.add_n(grads)
    if all(isinstance(g, ops.IndexedSlices) for g in grads):
        return ops.IndexedSlices(array_ops.concat([g.values for g in grads], 0),
                                 array_ops.concat([g.indices for g in grads], 0),
                                 grads[0].dense_shape)
    return math_ops.add_n([_densify(g) for g in grads])


def _densify(grad):
    """An IndexedSlices gradient as a dense tensor (sums repeated indices)."""
    if isinstance(grad, ops.Tensor):
        return grad
    from tensorflux.ops import math_ops
    return math_ops.unsorted_segment_sum(grad.values, grad.indices, grad.dense_shape[0])


def _indexed_slices_to_tensor(value, dtype=None, name=None, as_ref=False):
    """Lets an IndexedSlices gradient flow into any op expecting a dense tensor (TF does this)."""
    if dtype is not None and not dtype.is_compatible_with(value.dtype):
        raise ValueError(f"Tensor conversion requested dtype {dtype.name} for IndexedSlices with "
                         f"dtype {value.dtype.name}")
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices without dense_shape: "
                         f"{value}")
    return _densify(value)


ops.register_tensor_conversion_function(ops.IndexedSlices, _indexed_slices_to_tensor)


def hessians(ys, xs, name="hessians", **kwargs):
    raise NotImplementedError("tf.hessians is not supported yet")
