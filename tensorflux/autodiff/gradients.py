"""tf.gradients: adds ops computing d(sum ys)/d(xs) to the graph, by reverse accumulation.

Phases, each a named helper: _pending_counts (which ops lie between xs and ys, and how many
consumers each waits for), _aggregate (sum the gradients arriving at one tensor, dense or
IndexedSlices), _call_grad_fn and _verify (one gradient per input, right dtype).

A while loop is one unit here (its inputs: initial values and captured tensors; its outputs:
its Exits); tensorflux.ops.control_flow_grad builds its gradient loop, which differentiates the
loop body with this same core (`grad_core`, with the loop as `base`).
"""
import collections

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry

_SWITCH_TYPES = frozenset(("Switch", "RefSwitch"))


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """Symbolic derivatives of sum(ys) with respect to each x in xs (None if unconnected)."""
    _check_aggregation_method(aggregation_method)
    ys = _as_list(ys)
    xs = [_as_tensor(x, as_ref=True) for x in _as_list(xs)]
    ys = [_as_tensor(y) for y in ys]
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    stop_ops = {_as_tensor(t).op for t in _as_list(stop_gradients or [])}
    graph = ops._graph_of(ys + xs)
    with graph.as_default(), ops.name_scope(name, "gradients", ys + xs):
        initial = [_initial_grad(y, gy) for y, gy in zip(ys, grad_ys)]
        return grad_core(ys, xs, initial, _AUTO, aggregation_method, stop_ops,
                         colocate_gradients_with_ops, gate_gradients)


_AUTO = object()


def grad_core(ys, xs, grad_ys, base=_AUTO, aggregation_method=None, stop_ops=(),
              colocate=False, gate=False):
    """Adds the gradient ops of sum(ys * grad_ys) w.r.t. xs; ops outside `base` (a
    control-flow context, default: that of ys[0]) are not differentiated, loops inside it are
    units."""
    cf = _control_flow()
    if base is _AUTO:
        base = cf.value_context(ys[0]) if cf is not None else None
    units = _Units(cf, base)
    grads = collections.defaultdict(list)
    for y, gy in zip(ys, grad_ys):
        if gy is not None:
            grads[y].append(gy)
    pending, between = _pending_counts(ys, xs, units)
    ready = collections.deque(u for u in _unique(units.of(y.op) for y in ys) if pending[u] == 0)
    while ready:
        unit = ready.popleft()
        inputs = units.inputs(unit)
        if unit in between and unit not in stop_ops:
            out_grads = [_aggregate_once(grads, t, aggregation_method)
                         for t in units.outputs(unit)]
            if isinstance(unit, ops.Operation):
                wanted = [units.of(t.op) in between for t in inputs]
                in_grads = _call_grad_fn(unit, out_grads, colocate, gate, wanted)
            else:
                from tensorflux.ops import control_flow_grad
                wanted = {t for t in inputs if units.of(t.op) in between}
                in_grads = control_flow_grad.loop_grad(unit, out_grads, inputs, wanted,
                                                       _body_grad)
            for t, g in zip(inputs, in_grads):
                if g is not None:
                    grads[t].append(g)
        for t in inputs:
            producer = units.of(t.op)
            if producer in between:
                pending[producer] -= 1
                if pending[producer] == 0:
                    ready.append(producer)
    return [_aggregate(grads.get(x), aggregation_method) for x in xs]


def _aggregate_once(grads, t, aggregation_method):
    """The sum of t's gradient terms, kept as its only term so that an x that is also an
    intermediate output is not summed a second time at the end."""
    total = _aggregate(grads.get(t), aggregation_method)
    if total is not None:
        grads[t] = [total]
    return total


def _body_grad(ys, xs, grad_ys, base):
    return grad_core(ys, xs, grad_ys, base)


def _control_flow():
    """The control-flow module (contexts, loop units); imported late to keep layers apart."""
    from tensorflux.ops import control_flow_ops
    return control_flow_ops


class _Units:
    """Ops, with each while loop inside `base` collapsed into one unit (its WhileContext)."""

    def __init__(self, cf, base):
        self.cf = cf
        self.base = base
        self._inputs = {}

    def of(self, op):
        ctx = self.cf.context_of(op)
        if ctx is None or ctx is self.base:
            return op
        top = None
        while ctx is not None and ctx is not self.base:
            if ctx.is_while:
                top = ctx
            ctx = ctx.outer
        return op if top is None else top

    def inputs(self, unit):
        if isinstance(unit, ops.Operation):
            return unit._inputs
        found = self._inputs.get(unit)
        if found is None:
            found = self._inputs[unit] = unit.grad_inputs()
        return found

    def outputs(self, unit):
        return unit._outputs if isinstance(unit, ops.Operation) else unit.grad_outputs()

    def is_barrier(self, op):
        """The base loop's own Merge/Switch/NextIteration/Exit/LoopCond (body gradients stop
        at them)."""
        return self.base is not None and getattr(op, "_cf_loop_part", None) is self.base


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_tensor(value, as_ref=False):
    if isinstance(value, (ops.Tensor, ops.IndexedSlices)):
        return value
    return ops.convert_to_tensor(value, as_ref=as_ref)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
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


def _pending_counts(ys, xs, units):
    """(pending count per unit between xs and ys, the set of those units)."""
    reached = set()
    stack = [units.of(x.op) for x in xs]
    while stack:
        unit = stack.pop()
        if unit in reached:
            continue
        reached.add(unit)
        for t in units.outputs(unit):
            for c in t._consumers:
                if not units.is_barrier(c):
                    consumer = units.of(c)
                    if consumer not in reached:
                        stack.append(consumer)
    between = set()
    stack = [units.of(y.op) for y in ys]
    while stack:
        unit = stack.pop()
        if unit in between or unit not in reached:
            continue
        if isinstance(unit, ops.Operation) and units.is_barrier(unit):
            continue
        between.add(unit)
        stack.extend(units.of(t.op) for t in units.inputs(unit))
    pending = collections.Counter()
    for unit in between:
        for t in units.inputs(unit):
            producer = units.of(t.op)
            if producer in between:
                pending[producer] += 1
    return pending, between


def _call_grad_fn(op, out_grads, colocate, gate=False, wanted=None):
    found, grad_fn = registry.lookup_gradient(op)
    if not found:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}). "
                          f"{op._created_at_text()}")
    if grad_fn is None or all(g is None for g in out_grads):
        return [None] * len(op._inputs)
    if op.type not in _SWITCH_TYPES:  # a Switch's missing side is zeros on that side
        out_grads = [_zeros_for(t) if g is None else g for t, g in zip(op._outputs, out_grads)]
    scope = op.name + "_grad"
    with ops.name_scope(scope), (ops.colocate_with(op) if colocate else _null()):
        in_grads = grad_fn(op, *out_grads)
        in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
        _verify(op, in_grads)
        if wanted is not None:  # gradients for inputs that lead to no x are dropped unrun
            in_grads = [g if w else None for g, w in zip(in_grads, wanted)]
        if gate and sum(g is not None for g in in_grads) > 1:
            # gate_gradients: none of the op's input gradients is used (e.g. by an optimizer's
            # update) before all are computed, so the op's inputs are read before they change.
            in_grads = _control_flow().tuple(in_grads)
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


class AggregationMethod:
    """How `gradients` sums the gradient terms of a tensor used several times (TF's values).

    ADD_N (the default) sums all terms in one AddN, once all are computed; EXPERIMENTAL_TREE sums
    them in pairs, so terms can be freed as soon as they are added; EXPERIMENTAL_ACCUMULATE_N
    uses `accumulate_n`.
    """
    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


_AGGREGATION_METHODS = (AggregationMethod.ADD_N, AggregationMethod.EXPERIMENTAL_TREE,
                        AggregationMethod.EXPERIMENTAL_ACCUMULATE_N)


def _check_aggregation_method(aggregation_method):
    if aggregation_method is not None and aggregation_method not in _AGGREGATION_METHODS:
        raise ValueError(f"Invalid aggregation_method specified {aggregation_method}.")


def _sum_dense(grads, aggregation_method):
    from tensorflux.ops import math_ops
    if aggregation_method == AggregationMethod.EXPERIMENTAL_TREE:
        while len(grads) > 1:  # pairwise rounds: each pair's AddN is ready as soon as it is
            pairs = [grads[i:i + 2] for i in range(0, len(grads), 2)]
            grads = [p[0] if len(p) == 1 else math_ops.add_n(p) for p in pairs]
        return grads[0]
    if aggregation_method == AggregationMethod.EXPERIMENTAL_ACCUMULATE_N:
        return math_ops.accumulate_n(grads)
    return math_ops.add_n(grads)


def _aggregate(grads, aggregation_method=None):
    """Sums the gradients for one tensor: AddN for dense, concatenation for IndexedSlices."""
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    from tensorflux.ops import array_ops
    if all(isinstance(g, ops.Tensor) for g in grads):
        return _sum_dense(grads, aggregation_method)
    if all(isinstance(g, ops.IndexedSlices) for g in grads):
        return ops.IndexedSlices(array_ops.concat([g.values for g in grads], 0),
                                 array_ops.concat(_common_indices(grads), 0),
                                 grads[0].dense_shape)
    return _sum_dense([_densify(g) for g in grads], aggregation_method)


def _common_indices(grads):
    """The slices' indices, all int64 when their dtypes differ (as TF: a gather by int32 ids
    and one by int64 sampled ids of the same variable)."""
    indices = [g.indices for g in grads]
    if len({i.dtype.base_dtype for i in indices}) > 1:
        from tensorflux.ops import math_ops
        indices = [math_ops.cast(i, dtypes.int64) for i in indices]
    return indices


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
