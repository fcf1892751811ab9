"""Grouping, ordering and in-graph control flow.

NoOp, group, tuple, with_dependencies order ops. tf.cond, tf.case and tf.while_loop build
graphs of TensorFlow's control-flow primitives (control_flow_primitives.py: Switch, Merge,
Enter, Exit, NextIteration, LoopCond); the executor runs frames and iterations
(tensorflux/runtime/control_flow_executor.py).

Tensors from outside a cond branch reach it through a Switch on the predicate; tensors from
outside a loop through Enter(is_constant=True). The contexts here (CondContext, WhileContext)
do this after the branch or body function has built its ops: every new op is tagged with its
context, and inputs from outside the context are replaced by captured versions.
"""
import builtins
import contextlib

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import control_flow_values
from tensorflux.ops import math_ops

__all__ = ["no_op", "group", "tuple", "with_dependencies", "cond", "case", "while_loop"]

NoOp = registry.register_op("NoOp")
NoOp.not_differentiable()
NoOp.shape(lambda op: [])
NoOp.kernel("CPU")(lambda ctx: None)


def no_op(name=None):
    """An op that does nothing; useful as a target carrying control dependencies."""
    return apply_op("NoOp", name=name)


def group(*inputs, **kwargs):
    """An op that runs after all of `inputs` (tensors or ops) have run."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    deps = [_as_op(x) for x in _flatten(inputs)]
    graph = ops._graph_of(deps)
    with graph.as_default(), ops.name_scope(name, "group_deps", deps) as scope:
        with ops.control_dependencies(deps):
            return no_op(name=scope)


def _flatten(values):
    for v in values:
        if isinstance(v, (list, builtins.tuple)):
            yield from _flatten(v)
        elif isinstance(v, dict):
            yield from _flatten(list(v.values()))
        elif v is not None:
            yield v


def _as_op(x):
    if isinstance(x, ops.Operation):
        return x
    if hasattr(x, "op"):
        return x.op
    return ops.convert_to_tensor(x).op


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's name
    """Tensors with the same values as `tensors`, each available only after all are computed."""
    with ops.name_scope(name, "tuple", tensors):
        gating = group(*[t for t in tensors if t is not None] + list(control_inputs or []))
        result = []
        for t in tensors:
            if t is None:
                result.append(None)
            else:
                result.append(with_dependencies([gating], t))
        return result


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor`'s value, produced only after `dependencies` have run."""
    with ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as n:
        with ops.colocate_with(output_tensor), ops.control_dependencies(dependencies):
            if isinstance(output_tensor, ops.IndexedSlices):
                return ops.IndexedSlices(array_ops.identity(output_tensor.values, name=n),
                                         output_tensor.indices, output_tensor.dense_shape)
            return array_ops.identity(output_tensor, name=n)


# The primitives (Switch, Merge, Enter, Exit, NextIteration, LoopCond) live in their own module.
from tensorflux.ops.control_flow_primitives import (  # noqa: E402,F401 (re-exported)
    Enter, Exit, LoopCond, Merge, NextIteration, Switch, _enter, _scalar_pred, loop_cond, merge,
    ref_select, ref_switch, switch)


# ---- contexts ----------------------------------------------------------------------------------
_EXIT_TYPES = ("Exit", "RefExit")
_ENTER_TYPES = ("Enter", "RefEnter")


_UNSET = object()


def context_of(op):
    """The control-flow context `op` was built in (None: outside any cond or loop)."""
    ctx = getattr(op, "_cf_ctx", _UNSET)
    if ctx is not _UNSET:
        return ctx
    for entry, start in reversed(_stack(op.graph)):  # built in a context still being built
        if op._id > start:
            return entry
    return None


def value_context(tensor):
    """The context whose frame holds `tensor` (an Exit's output is in the loop's outer one)."""
    op = tensor.op
    over = getattr(op, "_cf_out_ctx", None)
    if over is not None and tensor.value_index in over:
        return over[tensor.value_index]
    ctx = context_of(op)
    if ctx is not None and op.type in _EXIT_TYPES:
        return ctx.outer
    return ctx


def is_within(ctx, ancestor):
    """Whether context `ctx` is `ancestor` or nested in it (None, the root, holds everything)."""
    while ctx is not None:
        if ctx is ancestor:
            return True
        ctx = ctx.outer
    return ancestor is None


def _stack(graph):
    return graph._stack("control_flow_context")


def current_context(graph=None):
    """The innermost context being built on this thread (None outside cond and while_loop)."""
    stack = _stack(graph or ops.get_default_graph())
    return stack[-1][0] if stack else None


@contextlib.contextmanager
def in_context(ctx, graph=None):
    """Builds ops in `ctx`: on exit they are tagged with it and their outside inputs captured."""
    graph = graph or ops.get_default_graph()
    stack = _stack(graph)
    start = len(graph._ops)
    stack.append((ctx, graph._last_id))
    try:
        yield ctx
    finally:
        stack.pop()
    finish_ops(ctx, graph._ops[start:])


def finish_ops(ctx, new_ops):
    """Tags untagged `new_ops` with `ctx` and lets the context capture their outside inputs."""
    mine = []
    for op in new_ops:
        if getattr(op, "_cf_ctx", _UNSET) is _UNSET:
            op._cf_ctx = ctx
        if op._cf_ctx is ctx:
            mine.append(op)
    if ctx is not None:
        for op in mine:
            ctx.add_op(op)


def _tag(tensor_or_op, ctx):
    op = tensor_or_op if isinstance(tensor_or_op, ops.Operation) else tensor_or_op.op
    op._cf_ctx = ctx
    return tensor_or_op


class ControlFlowContext:
    """A cond branch or a while loop under construction (or built): the base of both."""

    is_while = False

    def __init__(self, outer):
        self.outer = outer
        self._captured = {}
        self._control_enters = {}

    def while_context(self):
        """The innermost WhileContext holding this context (or None)."""
        ctx = self
        while ctx is not None and not ctx.is_while:
            ctx = ctx.outer
        return ctx

    def control_pivot(self):
        raise NotImplementedError

    def capture(self, tensor):
        """`tensor` (from outside this context) as a value inside it."""
        found = self._captured.get(tensor)
        if found is not None:
            return found
        special = self._special_capture(tensor)
        if special is not None:
            self._captured[tensor] = special
            return special
        if self.outer is not None and not is_within(value_context(tensor), self.outer):
            tensor = self.outer.capture(tensor)
            found = self._captured.get(tensor)
            if found is not None:
                return found
        result = self._capture_new(tensor)
        self._captured[tensor] = result
        return result

    def _special_capture(self, tensor):
        return None

    def add_op(self, op):
        """Rewires an op built in this context: outside inputs captured, pivot for no inputs."""
        if op.type in _ENTER_TYPES and context_of(op) is self:
            return
        for k, t in enumerate(list(op._inputs)):
            if not is_within(value_context(t), self):
                op._update_input(k, self.capture(t))
        self._fix_external_controls(op)
        if not op._inputs and not any(is_within(context_of(c), self)
                                      for c in op._control_inputs):
            pivot = self.control_pivot()
            if pivot is not None and pivot is not op:
                op._add_control_input(pivot)

    def _fix_external_controls(self, op):
        loop = self.while_context()
        if loop is None:
            return
        for c in list(op._control_inputs):
            if is_within(context_of(c), loop) and c.type not in _EXIT_TYPES:
                continue
            if c.type in _EXIT_TYPES and is_within(context_of(c).outer, loop):
                continue
            op._control_inputs.remove(c)
            c._control_outputs.remove(op)
            op._add_control_input(loop.control_enter(c))


class CondContext(ControlFlowContext):
    """One branch of a tf.cond: ops in it run only when `pred` selects `branch`."""

    def __init__(self, pred, pivot, branch, outer):
        super().__init__(outer)
        self.pred = pred
        self.pivot = pivot
        self.branch = branch

    def control_pivot(self):
        return self.pivot.op

    def _capture_new(self, tensor):
        with in_context(self.outer):
            with ops.control_dependencies(None), ops.name_scope(None):
                sw = switch(tensor, self.pred, name=self._scope + "Switch")
        result = sw[self.branch]
        if isinstance(result, ops.Tensor):
            result.op._cf_out_ctx = {self.branch: self}
            result.op._cf_cond = self
        return result

    @property
    def _scope(self):
        return self.pivot.op.name.rsplit("/", 1)[0] + "/" if "/" in self.pivot.op.name else ""


class WhileContext(ControlFlowContext):
    """A while loop: a frame named `name`; loop variables go Enter -> Merge -> Switch ->
    (Identity -> body -> NextIteration -> Merge) and (Exit)."""

    is_while = True

    def __init__(self, name, outer, parallel_iterations=10, back_prop=True, swap_memory=False):
        super().__init__(outer)
        self.name = name
        self.parallel_iterations = parallel_iterations
        self.back_prop = back_prop
        self.swap_memory = swap_memory
        self.pivot = None         # LoopCond output
        self.pivot_for_pred = None
        self.pivot_for_body = None
        self._pivot_now = None
        self.enters, self.merges, self.switches = [], [], []
        self.exits, self.identities, self.nexts = [], [], []
        self.num_user_vars = 0
        self.const_enters = []    # Enter(is_constant=True) of tensors from outside
        self.accumulators = {}    # forward value -> (TensorArray handle, final flow)
        self.counter = None       # (identity, exit) of the iteration counter, made on demand
        self.grad_state = None    # set on a gradient loop (control_flow_grad.GradLoopState)

    def control_pivot(self):
        pivot = self._pivot_now if self._pivot_now is not None else self.pivot_for_body
        return pivot.op if pivot is not None else None

    def grad_outputs(self):
        """The loop's user-visible outputs (the Exits of tf.while_loop's loop_vars)."""
        return self.exits[:self.num_user_vars]

    def grad_inputs(self):
        """Tensors entering the loop: initial loop values, then captured outside tensors."""
        return [e.op.inputs[0] for e in self.enters[:self.num_user_vars]] + \
            [e.op.inputs[0] for e in self.const_enters]

    def _special_capture(self, tensor):
        if self.grad_state is not None and is_within(value_context(tensor),
                                                     self.grad_state.forward):
            return self.grad_state.real_value(tensor)
        return None

    def _capture_new(self, tensor):
        with ops.control_dependencies(None), ops.name_scope(None):
            entered = _enter(tensor, self.name, is_constant=True,
                             parallel_iterations=self.parallel_iterations,
                             name=self._scope + "Enter")
        self.const_enters.append(entered)
        return _tag(entered, self)

    @property
    def _scope(self):
        return self.name.rsplit("/", 1)[0] + "/" if "/" in self.name else ""

    def control_enter(self, op):
        """An Enter in this loop that runs after `op` (an op outside it): for control edges."""
        found = self._control_enters.get(op)
        if found is None:
            with in_context(self.outer), ops.control_dependencies([op]):
                dummy = _scalar_const(name=self._scope + "control_dependency")
            found = self._control_enters[op] = self.capture(dummy).op
        return found

    # ---- building the loop -------------------------------------------------------------
    def make_vars(self, inits, invariants=None):
        """Enter and Merge for each initial value (the Merge's back edge is set later)."""
        if self.outer is not None:
            inits = [t if is_within(value_context(t), self.outer) else self.outer.capture(t)
                     for t in inits]
        enters, merges = [], []
        with ops.control_dependencies(None):
            for t, inv in zip(inits, invariants or [None] * len(inits)):
                e = _tag(_enter(t, self.name, parallel_iterations=self.parallel_iterations,
                                name="Enter"), self)
                m = _tag(merge([e, e], name="Merge")[0], self)
                e.op._cf_loop_part = m.op._cf_loop_part = self
                if inv is not None:
                    e._shape = m._shape = inv
                enters.append(e)
                merges.append(m)
        self.enters += enters
        self.merges += merges
        return merges

    def make_switches(self, merges):
        """Switch on the loop predicate: Identity (body input) on the true side; the Exit on
        the false side comes after the body (`close_vars`), as in TF's graphs. Returns the
        identities."""
        identities = []
        with ops.control_dependencies(None):
            for m in merges:
                sw = switch(m, self.pivot, name="Switch")
                _tag(sw[0], self)
                sw[0].op._cf_loop_part = self
                self.switches.append(sw)
                identities.append(_tag(array_ops.identity(sw[1], name="Identity"), self))
        if self.pivot_for_body is None:
            self.pivot_for_body = identities[0]
        self.identities += identities
        return identities

    def build(self, pivot_tensor, body_fn, identities):
        """Runs `body_fn(identities)` in this loop; returns the NextIteration tensors."""
        saved, self._pivot_now = self._pivot_now, pivot_tensor
        try:
            with in_context(self):
                results = body_fn(identities)
                nexts = [apply_op("NextIteration", r, name="NextIteration") for r in results]
        finally:
            self._pivot_now = saved
        return nexts

    def close_vars(self, merges, nexts):
        """Makes each NextIteration the back-edge input of its Merge; adds the Exits."""
        switches = self.switches[len(self.switches) - len(merges):]
        for m, n in zip(merges, nexts):
            m.op._update_input(1, n)
            n.op._cf_loop_part = self
            self.nexts.append(n)
        with ops.control_dependencies(None):
            for sw in switches:
                self.exits.append(_tag(apply_op("Exit", sw[0], name="Exit"), self))
                self.exits[-1].op._cf_loop_part = self

    def add_loop_vars(self, inits, body_fn):
        """Adds loop variables to a built loop: returns (identities, exits).
        `body_fn(identities)` gives the next values."""
        with ops.name_scope(self._scope or None):
            merges = self.make_vars(inits)
            start = len(self.exits)
            identities = self.make_switches(merges)
            nexts = self.build(self.pivot_for_body,
                               lambda idents: [ops.convert_to_tensor(r) for r in body_fn(idents)],
                               identities)
            self.close_vars(merges, nexts)
        return identities, self.exits[start:]

    def iteration_counter(self):
        """(identity, exit): the iteration number in the body (0, 1, ...) and the trip count."""
        if self.counter is None:
            with in_context(self.outer), ops.name_scope(self._scope or None):
                zero = _scalar_const(0, dtypes.int32, "iteration_counter")
            idents, exits = self.add_loop_vars([zero], lambda v: [v[0] + 1])
            self.counter = (idents[0], exits[0])
        return self.counter


def _scalar_const(value=0.0, dtype=dtypes.float32, name="Const"):
    from tensorflux.ops import constant_op
    return constant_op.constant(value, dtype=dtype, name=name)




# ---- nested structures -----------------------------------------------------------------------
def _is_sequence(x):
    return isinstance(x, (list, builtins.tuple, dict))


def _flatten_nest(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _flatten_nest(x[k])]
    if isinstance(x, (list, builtins.tuple)):
        return [v for item in x for v in _flatten_nest(item)]
    return [x]


def _pack_nest(structure, flat):
    values = iter(flat)

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s) if type(s) is not dict else \
                {k: built[k] for k in s}
        if isinstance(s, (list, builtins.tuple)):
            items = [build(item) for item in s]
            if hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items) if isinstance(s, builtins.tuple) else items
        return next(values)
    return build(structure)


def _structure_of(x):
    if isinstance(x, dict):
        return ("dict", builtins.tuple((k, _structure_of(x[k])) for k in sorted(x)))
    if isinstance(x, (list, builtins.tuple)):
        return ("seq", len(x), builtins.tuple(_structure_of(v) for v in x))
    return "leaf"


_from_flows = control_flow_values.from_flows


def _same_kinds(leaves, others, contexts):
    """`leaves` and `others` (two branches', or a loop's values and its body's results) with an
    IndexedSlices densified where the other side has a Tensor; other mismatches raise."""
    leaves, others = list(leaves), list(others)
    for k, (a, b) in enumerate(zip(leaves, others)):
        ka, kb = control_flow_values.kind(a), control_flow_values.kind(b)
        if ka == kb or isinstance(a, ops.Operation) or isinstance(b, ops.Operation):
            continue
        if {ka, kb} <= {"Tensor", "IndexedSlices", "IndexedSlices+shape"}:
            for side, ctx in zip((leaves, others), contexts):
                if ctx is not None:
                    with in_context(ctx):
                        side[k] = ops.convert_to_tensor(side[k])
            continue
        raise ValueError(f"Values of a cond's branches (or a loop variable and the body's "
                         f"result) must be of the same kind: {ka} ({a!r:.100}) vs {kb} "
                         f"({b!r:.100})")
    return leaves, others


# ---- tf.cond / tf.case ---------------------------------------------------------------------
def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`, built as Switch/Merge: only the taken branch
    runs. Both branches must return the same structure of tensors with the same dtypes.
    TF 0.9's cond(pred, fn1, fn2, name) also works."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError(f"cond requires callables true_fn and false_fn, got "
                        f"{type(true_fn).__name__} and {type(false_fn).__name__}")
    with ops.name_scope(name, "cond", [pred]):
        pred = ops.convert_to_tensor(pred, name="pred")
        if pred.dtype.base_dtype != dtypes.bool:
            raise TypeError(f"cond's pred must be a bool tensor, got {pred.dtype.name} "
                            f"({pred.name})")
        _scalar_pred(pred.get_shape(), "cond's pred")
        outer = current_context()
        if outer is not None and not is_within(value_context(pred), outer):
            pred = outer.capture(pred)
        p_false, p_true = switch(pred, pred)
        pivot_t = array_ops.identity(p_true, name="switch_t")  # TF's order: t, then f
        pivot_f = array_ops.identity(p_false, name="switch_f")
        pred_id = array_ops.identity(pred, name="pred_id")
        results = []
        for branch, fn, pivot in ((1, true_fn, pivot_t), (0, false_fn, pivot_f)):
            ctx = CondContext(pred_id, pivot, branch, outer)
            _tag(pivot, ctx)
            with in_context(ctx):
                results.append((ctx, fn()))
        (ctx_t, orig_t), (ctx_f, orig_f) = results
        _check_same_structure(orig_t, orig_f)
        leaves_t, leaves_f = _same_kinds(_flatten_nest(orig_t), _flatten_nest(orig_f),
                                         (ctx_t, ctx_f))
        flat_t, flat_f = _branch_flows(ctx_t, leaves_t), _branch_flows(ctx_f, leaves_f)
        _check_same_types(flat_t, flat_f)
        merged = []
        for f, t in zip(flat_f, flat_t):
            m = merge([f, t], name="Merge")[0]
            m.op._cf_cond_pred = pred_id
            merged.append(m)
        packed = _pack_nest(orig_t, _from_flows(leaves_t, merged))
    if not strict and isinstance(packed, (list, builtins.tuple)) and len(packed) == 1 \
            and not hasattr(packed, "_fields"):
        return packed[0]
    return packed


def _branch_flows(ctx, leaves):
    """The tensors carrying a branch's values out of it (captured when made outside)."""
    flows = []
    with in_context(ctx):
        for value in leaves:
            if value is None:
                raise ValueError("A cond branch returned None; branches must return tensors "
                                 "(or ops)")
            if isinstance(value, ops.Operation):
                with ops.control_dependencies([value]):
                    flows.append(array_ops.identity(ctx.pivot))
                continue
            flows += [t if is_within(value_context(t), ctx) else ctx.capture(t)
                      for t in control_flow_values.to_flows(value)]
    return flows


def _check_same_structure(orig_t, orig_f):
    if _structure_of(orig_t) != _structure_of(orig_f):
        raise ValueError(f"Outputs of true_fn and false_fn must have the same structure: "
                         f"true_fn returned {orig_t!r:.200}, false_fn returned {orig_f!r:.200}")


def _check_same_types(flat_t, flat_f):
    for t, f in zip(flat_t, flat_f):
        if t.dtype.base_dtype != f.dtype.base_dtype:
            raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                             f"{t.dtype.name} ({t.name}) vs {f.dtype.name} ({f.name})")


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The fn of the first pair whose pred is true, else `default()` (nested conds).

    With exclusive=True, more than one true predicate is an error at run time."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else \
        list(pred_fn_pairs)
    for pair in pairs:
        if not isinstance(pair, (list, builtins.tuple)) or len(pair) != 2 or \
                not callable(pair[1]):
            raise TypeError(f"case requires (pred, callable) pairs, got {pair!r:.100}")
    if default is None:
        if not pairs:
            raise ValueError("case requires at least one (pred, fn) pair or a default")
        pairs, default = pairs[:-1], pairs[-1][1]
    if not callable(default):
        raise TypeError(f"case's default must be callable, got {type(default).__name__}")
    preds = [ops.convert_to_tensor(p, dtype=dtypes.bool) for p, _ in pairs]
    with ops.name_scope(name, "case", preds):
        if exclusive and len(preds) > 1:
            preds = _exclusive_preds(preds)
        fn = default
        for pred, (_, f) in reversed(list(zip(preds, pairs))):
            fn = (lambda p, f, rest: lambda: cond(p, f, rest, strict=strict))(pred, f, fn)
        return fn()


def _exclusive_preds(preds):
    import numpy as np
    from tensorflux.ops import script_ops

    def check(*values):
        if sum(bool(v) for v in values) > 1:
            raise ValueError(f"case with exclusive=True: more than one predicate is true "
                             f"({[bool(v) for v in values]})")
        return np.bool_(True)
    ok = script_ops.py_func(check, preds, dtypes.bool, stateful=False, name="exclusive")
    with ops.control_dependencies([ok]):
        return [array_ops.identity(p) for p in preds]


# ---- tf.while_loop ------------------------------------------------------------------------------
def while_loop(cond, body, loop_vars, shape_invariants=None,  # noqa: C901 - TF's signature
               parallel_iterations=10, back_prop=True, swap_memory=False, name=None,
               maximum_iterations=None, return_same_structure=False):
    """Repeats `body` while `cond` is true; returns the loop variables' final values.

    `loop_vars` is a (nested) list/tuple/namedtuple/dict of tensors and TensorArrays; `cond`
    and `body` take them unpacked (`body(*loop_vars)` for a list or tuple) and `body` returns
    the same structure. A loop variable whose shape changes while `shape_invariants` (same
    structure, TensorShapes) is not given comes out with an unknown shape (TF 0.9; TF 1.0
    raises). TF 0.9's positional `parallel_iterations` (4th argument) is accepted.
    """
    if isinstance(shape_invariants, int) and not isinstance(shape_invariants, bool):
        shape_invariants, parallel_iterations, back_prop, swap_memory, name = _tf09_args(
            shape_invariants, parallel_iterations, back_prop, swap_memory, name)
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop requires callables cond and body, got "
                        f"{type(cond).__name__} and {type(body).__name__}")
    if parallel_iterations < 1:
        raise TypeError(f"parallel_iterations must be a positive integer, got "
                        f"{parallel_iterations}")
    if maximum_iterations is not None:
        return _bounded_while(cond, body, loop_vars, shape_invariants, parallel_iterations,
                              back_prop, swap_memory, name, maximum_iterations,
                              return_same_structure)
    originals = _flatten_nest(loop_vars)
    if not originals:
        raise ValueError("No loop variables provided")
    graph = ops._graph_of([v for v in originals if isinstance(v, ops.Tensor)])
    with graph.as_default(), ops.name_scope(name, "while", [
            v for v in originals if isinstance(v, ops.Tensor)]) as scope:
        flat = control_flow_values.all_flows(originals)
        invariants = _invariants(shape_invariants, loop_vars, originals, flat)
        ctx = WhileContext(scope + "while_context", current_context(), parallel_iterations,
                           back_prop, swap_memory)
        ctx.num_user_vars = len(flat)
        merges = ctx.make_vars(flat, invariants)
        unpack = _unpacker(loop_vars)
        ctx._pivot_now = ctx.pivot_for_pred = merges[0]
        with in_context(ctx):
            pred = cond(*unpack(_from_flows(originals, merges)))
            pred = ops.convert_to_tensor(pred, name="pred")
            if pred.dtype.base_dtype != dtypes.bool:
                raise TypeError(f"while_loop's cond must return a bool tensor, got "
                                f"{pred.dtype.name} ({pred.name})")
            _scalar_pred(pred.get_shape(), "while_loop's cond result")
            ctx.pivot = loop_cond(pred, name="LoopCond")
            ctx.pivot.op._cf_loop_part = ctx
        ctx._pivot_now = None
        identities = ctx.make_switches(merges)

        def run_body(idents):
            result = body(*unpack(_from_flows(originals, idents)))
            expected = loop_vars if _is_sequence(loop_vars) else [loop_vars]
            result = result if _is_sequence(result) else [result]
            result_flat = _flatten_nest(result)
            if _structure_of(expected) != _structure_of(result):
                raise ValueError(f"The body of while_loop must return the structure of "
                                 f"loop_vars: loop_vars {loop_vars!r:.200}, body returned "
                                 f"{result!r:.200}")
            _, result_flat = _same_kinds(originals, result_flat, (None, ctx))
            return control_flow_values.all_flows(result_flat)
        nexts = ctx.build(identities[0], run_body, identities)
        relaxed = _check_loop_results(merges, nexts, invariants)
        ctx.close_vars(merges, nexts)
        for m, e, loose in zip(merges, ctx.exits, relaxed):
            e._shape = tensor_shape.unknown_shape() if loose else m.get_shape()
        exits = _from_flows(originals, ctx.exits[:len(flat)])
        packed = _pack_nest(loop_vars, exits)
    if not return_same_structure and isinstance(packed, (list, builtins.tuple)) and \
            len(exits) == 1 and not hasattr(packed, "_fields"):
        return exits[0]
    return packed


def _tf09_args(*slots):
    """TF 0.9's while_loop(cond, body, loop_vars, parallel_iterations=10, back_prop=True,
    swap_memory=False, name=None) called positionally: `slots` hold what 1.0's
    (shape_invariants, parallel_iterations, back_prop, swap_memory, name) received. A bool in
    1.0's parallel_iterations slot was 0.9's back_prop, and the later ones shift too
    (swap_memory is only a hint here, so a default shifted into it changes nothing)."""
    iterations, second, third, fourth, name = slots
    if isinstance(second, bool):
        return None, iterations, second, third, fourth if isinstance(fourth, str) else name
    return None, iterations, third, fourth, name


def _unpacker(loop_vars):
    if isinstance(loop_vars, (list, builtins.tuple)):
        return lambda flat: list(_pack_nest(loop_vars, flat))
    return lambda flat: [_pack_nest(loop_vars, flat)]


def _invariants(shape_invariants, loop_vars, originals, flat):
    if shape_invariants is None:
        return None
    given = _flatten_nest(shape_invariants) if _is_sequence(shape_invariants) else \
        [shape_invariants]
    if len(given) != len(originals) and not (len(given) == 1 and len(originals) == 1):
        raise ValueError(f"shape_invariants must have the structure of loop_vars: got "
                         f"{len(given)} shapes for {len(originals)} loop variables")
    result = []
    pairs = [(t, s) for value, shape in zip(originals, given)
             for t, s in zip(control_flow_values.to_flows(value),
                             control_flow_values.flow_invariants(value, shape))]
    for t, shape in pairs:
        if not _shape_less_or_equal(t.get_shape(), shape):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible "
                             f"with the initial shape of the loop variable. It enters the loop "
                             f"with shape {t.get_shape()}, but the specified shape invariant "
                             f"is {shape}.")
        result.append(shape)
    return result


def _shape_less_or_equal(shape, bound):
    if bound.ndims is None:
        return True
    if shape.ndims != bound.ndims:
        return False
    return all(b is None or a == b for a, b in zip(shape.as_list(), bound.as_list()))


def _check_loop_results(merges, nexts, invariants):
    """Checks each body result against its loop variable; returns, per variable, whether its
    shape changed with no shape invariants given (TF 0.9 then gave the result an unknown
    shape; TF 1.0 raises the ValueError below, which a given invariant still gets)."""
    relaxed = []
    for m, n in zip(merges, nexts):
        result = n.op.inputs[0]
        if result.dtype.base_dtype != m.dtype.base_dtype:
            raise ValueError(f"Loop variable {m.name} enters the loop with type "
                             f"{m.dtype.name}, but has type {result.dtype.name} after one "
                             f"iteration ({result.name})")
        changed = not _shape_less_or_equal(result.get_shape(), m.get_shape())
        relaxed.append(changed and invariants is None)
        if changed and invariants is not None:
            raise ValueError(f"Input tensor '{m.op.inputs[0].op.inputs[0].name}' enters the "
                             f"loop with shape {m.get_shape()}, but has shape "
                             f"{result.get_shape()} after one iteration. To allow the shape to "
                             "vary across iterations, use the `shape_invariants` argument of "
                             "tf.while_loop to specify a less-specific shape.")
    return relaxed


def _bounded_while(cond_fn, body, loop_vars, shape_invariants, parallel_iterations, back_prop,
                   swap_memory, name, maximum_iterations, return_same_structure):
    with ops.name_scope(name, "while"):
        limit = ops.convert_to_tensor(maximum_iterations, dtype=dtypes.int32,
                                      name="maximum_iterations")
        zero = _scalar_const(0, dtypes.int32, "iteration")
        if _is_sequence(loop_vars) and not isinstance(loop_vars, dict) and \
                not hasattr(loop_vars, "_fields"):
            args_of = list
        else:
            args_of = (lambda v: [v])
        invariants = None if shape_invariants is None else \
            (tensor_shape.scalar(), shape_invariants)
        result = while_loop(
            lambda i, v: math_ops.logical_and(i < limit, cond_fn(*args_of(v))),
            lambda i, v: (i + 1, _like(loop_vars, body(*args_of(v)))), (zero, loop_vars),
            invariants,
            parallel_iterations, back_prop, swap_memory, return_same_structure=True)
    packed = result[1]
    if not return_same_structure and isinstance(packed, (list, builtins.tuple)) and \
            len(packed) == 1 and not hasattr(packed, "_fields"):
        return packed[0]
    return packed


def _like(loop_vars, result):
    """A body result for a list/tuple of loop_vars given as a bare value: wrapped."""
    if isinstance(loop_vars, (list, builtins.tuple)) and not _is_sequence(result):
        return [result]
    return result
