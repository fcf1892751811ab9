"""Compiles a step: prune -> topological order -> place -> (partition) -> a runnable plan.

A plan is compiled once per (feeds, fetches, targets) signature. When one device runs every
op with synchronous kernels (the common case) the plan is an inline Plan: each step holds a
kernel, its per-session KernelContext, the slots of its inputs and where its outputs go, and
the steps run in the calling thread as one generated straight-line function
(runtime/plan_codegen.py): a step costs one Python call. Otherwise the ops are
partitioned by device with _Send/_Recv between them and run by the dataflow executor
(tensorflux/runtime/dataflow_plan.py).
"""
import contextlib
import heapq
import threading

import numpy as np

from tensorflux.framework import errors
from tensorflux.ops import lanes
from tensorflux.runtime import control_flow_executor
from tensorflux.runtime import control_flow_plan
from tensorflux.runtime import dataflow_plan
from tensorflux.runtime import kernel_binding
from tensorflux.runtime import optimizer as optimizer_lib
from tensorflux.runtime import partition
from tensorflux.runtime import plan_codegen
from tensorflux.runtime.optimizer.graph import Node
from tensorflux.runtime.kernel_binding import deref_mask, internal_error, op_error  # noqa: F401

_DEFAULT_DEVICE = kernel_binding.DEFAULT_DEVICE
_kernel_def = kernel_binding.kernel_def
_input_names = kernel_binding.input_names
_MERGE_TYPES = frozenset(("Merge", "RefMerge"))
_NEXT_TYPES = frozenset(("NextIteration", "RefNextIteration"))


class KernelContext:
    """What a kernel sees besides its inputs: its op, attrs, array module, state and RNG.

    One context serves every step of the session, and steps may run at once in several
    threads: lazily created members (`rng`, `state` through `init_state`) are made under a lock,
    so that two racing first steps cannot each make their own.
    """

    __slots__ = ("op", "attrs", "xp", "device", "resources", "session", "state", "_rng")

    # Creation is rare (once per context), so one lock serves all contexts; reentrant because
    # a state factory may use the context's rng.
    _create_lock = threading.RLock()

    def __init__(self, op, device, resources, session, xp=np):
        self.op = op
        self.attrs = op._attrs
        self.xp = xp
        self.device = device
        self.resources = resources
        self.session = session
        self.state = None  # kernels with per-session state (e.g. a reader) keep it here
        self._rng = None

    @property
    def name(self):
        return self.op.name

    @property
    def intra_op_threads(self):
        """The session's ConfigProto.intra_op_parallelism_threads (0: as many as help)."""
        return getattr(self.session, "intra_op_threads", 0)

    @property
    def rng(self):
        """A NumPy Generator seeded from the op's (seed, seed2) attrs; random if both are 0.

        Drawing from it is thread-safe (NumPy locks its bit generator), so concurrent steps
        take successive, distinct numbers from the one stream."""
        rng = self._rng
        if rng is None:
            with self._create_lock:
                if self._rng is None:
                    self._rng = self._new_rng()
                rng = self._rng
        return rng

    def _new_rng(self):
        seed, seed2 = self.attrs.get("seed", 0), self.attrs.get("seed2", 0)
        if seed or seed2:
            return np.random.Generator(np.random.PCG64([seed & 0xFFFFFFFF, seed2 & 0xFFFFFFFF]))
        return np.random.default_rng()

    def init_state(self, create):
        """`self.state`, set to `create()` first if it is None (once, however many steps race).

        Returns:
          The state."""
        state = self.state
        if state is None:
            with self._create_lock:
                if self.state is None:
                    self.state = create()
                state = self.state
        return state


def prune(fetch_tensors, target_ops, fed):
    """The ops needed to compute the fetches and run the targets, given the fed tensors."""
    needed = set()
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t not in fed and t.op not in needed:
                stack.append(t.op)
        stack.extend(c for c in op._control_inputs if c not in needed and not _all_fed(c, fed))
    return needed


def _all_fed(op, fed):
    """Whether every output of `op` is fed: a control edge from it is then already satisfied
    (TensorFlow replaces a fed node by the feed)."""
    return bool(fed) and bool(op._outputs) and all(t in fed for t in op._outputs)


def topological_order(ops, fed):
    """Kahn's algorithm over data and control edges; ties go to the op created first."""
    pending, consumers = {}, {}
    for op in ops:
        deps = {t.op for t in op._inputs if t not in fed and t.op in ops}
        if op.type in _MERGE_TYPES:  # a while loop's back edge is the one allowed cycle
            deps.difference_update(t.op for t in op._inputs if t.op.type in _NEXT_TYPES)
        deps.update(c for c in op._control_inputs if c in ops)
        pending[op] = len(deps)
        for d in deps:
            consumers.setdefault(d, []).append(op)
    ready = [(op._id, op) for op, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for c in consumers.get(op, ()):
            pending[c] -= 1
            if pending[c] == 0:
                heapq.heappush(ready, (c._id, c))
    if len(order) != len(ops):
        stuck = sorted(op.name for op, n in pending.items() if n > 0)
        raise errors.InvalidArgumentError(
            None, None, f"Graph has a cycle among ops: {', '.join(stuck[:10])}")
    return order


class Plan:
    """A compiled single-device step run inline in the calling thread, in topological order.

    This is the fast path: no threads, no rendezvous, one Python call per kernel. Each value
    is dropped after its last consumer has run.
    """

    inline = True
    partitions = ()

    def __init__(self, steps, num_slots, feed_slots, fetch_slots, fetch_deref, device_name="",
                 template=None, launches=()):
        self.steps = steps
        self.num_slots = num_slots
        # The value table a step starts from: None, or folded constants in their slots.
        self.template = template if template is not None else [None] * num_slots
        self.optimizer_stats = None
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots
        self.fetch_deref = fetch_deref
        self.device_name = device_name
        # steps run on a second thread by the generated function (optimizer/lanes.py); the
        # loop and the traced run run them in order, on one lane, computing the same values
        self.launches = tuple(launches)
        # the steps as one straight-line function (runtime/plan_codegen.py); None: the loop
        self._generated = plan_codegen.generate(steps, self.template, feed_slots, fetch_slots,
                                                fetch_deref, self.launches)

    def run(self, feed_values):
        if self._generated is not None:
            return self._generated(feed_values)
        return self.run_loop(feed_values)

    def run_loop(self, feed_values):
        """run, one step at a time (plans too big to generate a function for)."""
        with self._lanes():
            return self._run_loop(feed_values)

    def _lanes(self):
        """The lanes a laned plan's steps run with when run in order (plan_codegen.py)."""
        return lanes.use(lanes.STEP_LANES) if self.launches else contextlib.nullcontext()

    def _run_loop(self, feed_values):
        vals = self.template.copy()
        for slot, value in zip(self.feed_slots, feed_values):
            vals[slot] = value
        step = self.steps[0] if self.steps else None
        try:
            for step in self.steps:
                fn, ctx, ins, out, n, deref, free = step
                try:
                    if deref is None:
                        # one and two inputs are most ops: plain indexing skips building a list
                        k = len(ins)
                        if k == 2:
                            result = fn(ctx, vals[ins[0]], vals[ins[1]])
                        elif k == 1:
                            result = fn(ctx, vals[ins[0]])
                        else:
                            result = fn(ctx, *[vals[i] for i in ins])
                    else:
                        result = fn(ctx, *[vals[i].get() if d else vals[i]
                                           for i, d in zip(ins, deref)])
                except Exception as e:  # noqa: BLE001 - a kernel failure names its op
                    raise op_error(ctx.op, e, [vals[i] for i in ins]) from e
                if n == 1:
                    vals[out] = result
                elif n:
                    vals[out:out + n] = result
                if free:
                    for i in free:
                        vals[i] = None
            return [vals[s].get() if d else vals[s]
                    for s, d in zip(self.fetch_slots, self.fetch_deref)]
        except errors.OpError:
            raise
        except Exception as e:  # noqa: BLE001 - the plan's own bookkeeping failed: a bug
            raise internal_error(step[1].op if step else None, e) from e

    def run_traced(self, feed_values, collector):
        """Like run, recording every step's timings and outputs in `collector`."""
        with self._lanes():
            return self._run_traced(feed_values, collector)

    def _run_traced(self, feed_values, collector):
        vals = self.template.copy()
        for slot, value in zip(self.feed_slots, feed_values):
            vals[slot] = value
        now = collector.now
        for fn, ctx, ins, out, n, deref, free in self.steps:
            start = now()
            try:
                args = [vals[i].get() if deref is not None and deref[k] else vals[i]
                        for k, i in enumerate(ins)]
                result = fn(ctx, *args)
            except Exception as e:  # noqa: BLE001
                raise op_error(ctx.op, e, [vals[i] for i in ins]) from e
            try:
                if n == 1:
                    vals[out] = result
                elif n:
                    vals[out:out + n] = result
                end = now()
                collector.record(ctx.op, self.device_name, start, start, end, end,
                                 vals[out:out + n], _input_names(ctx.op._inputs), args)
            except Exception as e:  # noqa: BLE001 - the tracing bookkeeping failed: a bug
                raise internal_error(ctx.op, e) from e
            if free:
                for i in free:
                    vals[i] = None
        return [vals[s].get() if d else vals[s]
                for s, d in zip(self.fetch_slots, self.fetch_deref)]


def compile_plan(feeds, fetches, targets, context_for, placer=None, graph=None,
                 output_partitions=False, optimizer=None):
    """Builds the plan running `targets` and computing `fetches` from `feeds` (lists of tensors).

    prune -> topological order -> fold constants -> place (with `placer`, else everything on
    CPU) -> an inline Plan when one device runs everything with synchronous kernels (rewritten
    by the optimizer's other passes), else partition -> a dataflow plan
    (tensorflux.runtime.dataflow) with _Send/_Recv between devices.

    `context_for(op, device)` gives each op's KernelContext (device None without a placer).
    `optimizer` is an optimizer.Settings (None: no graph optimization). The plan's
    `optimizer_stats` says what the passes did.
    """
    fed = set(feeds)
    order = topological_order(prune(fetches, targets, fed), fed)
    num_ops = len(order)
    # Placement first, as in TensorFlow (its optimizer runs on placed graphs): every op the
    # step names is placed, and placement errors surface, whatever folding later removes.
    assignment = placer.place(graph, order) if placer is not None else None
    control_flow = control_flow_executor.has_control_flow(order)
    constants = {}
    if not control_flow:  # (folding only removes ops, so no control flow appears later)
        constants = optimizer_lib.fold_constants(order, feeds, fetches, targets, optimizer,
                                                 _folding_context)
    if constants:  # folded tensors are fed from now on: their producers drop out
        feeds = list(feeds) + list(constants)
        fed = set(feeds)
        order = topological_order(prune(fetches, targets, fed), fed)
    plan = _compile_order(feeds, fetches, targets, order, context_for, assignment, placer,
                          output_partitions, constants, optimizer, control_flow)
    stats = dict(getattr(plan, "optimizer_stats", None) or {})
    stats.update(nodes_before=num_ops, folded_values=len(constants))
    stats.setdefault("nodes", len(order))
    plan.optimizer_stats = stats
    return plan


def _folding_context(op):
    return KernelContext(op, _DEFAULT_DEVICE, None, None)


def _compile_order(feeds, fetches, targets, order, context_for, assignment, placer,
                   output_partitions, constants, optimizer, control_flow):
    if placer is None:
        assignment = {op: None for op in order}
        inline = not control_flow
    else:
        assignment = {op: assignment[op] for op in order}
        inline = len(set(assignment.values())) <= 1 and not output_partitions and not (
            control_flow or any(_kernel_def(op, assignment[op]).is_async for op in order))
    if inline:
        return _inline_plan(feeds, fetches, targets, order, assignment, context_for, constants,
                            optimizer)
    if placer is None:
        parts = [partition.Partition(None)]
        parts[0].nodes = [partition.PartitionNode(op, list(op._inputs), list(op._control_inputs))
                          for op in order]
    else:
        parts = partition.partition(order, assignment, set(feeds), placer.device_mgr.devices)
    if control_flow:
        plan = control_flow_plan.ControlFlowPlan(parts, feeds, fetches, context_for)
    else:
        plan = dataflow_plan.DataflowPlan(parts, feeds, fetches, context_for)
    return _ConstantFeeds(plan, list(constants.values())) if constants else plan


class _ConstantFeeds:
    """A dataflow or control-flow plan whose last feeds are folded constants it adds itself."""

    def __init__(self, plan, values):
        self._plan = plan
        self._values = values
        self.optimizer_stats = None

    def run(self, feed_values, *args, **kwargs):
        return self._plan.run(list(feed_values) + self._values, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._plan, name)


def _inline_plan(feeds, fetches, targets, order, assignment, context_for, constants,
                 optimizer):
    device = next(iter(assignment.values()), None)
    client_feeds = feeds[:len(feeds) - len(constants)]
    stats = None
    if optimizer is not None and optimizer.any:
        nodes, stats = optimizer_lib.rewrite(order, client_feeds, constants, fetches, targets,
                                             optimizer, context_for, device)
    else:
        nodes = [Node(op, op._inputs, op._outputs) for op in order]
    fed = set(feeds)
    slots = {t: i for i, t in enumerate(feeds)}
    num_slots = len(slots)
    steps, launches = [], []
    for node in nodes:
        out = num_slots
        num_slots += len(node.outputs)
        for k, t in enumerate(node.outputs):
            if t not in fed:
                slots[t] = out + k
        op = node.op
        ins = tuple(slots[t] for t in node.inputs)
        if node.fn is None:
            fn, deref = _kernel_def(op, device).fn, deref_mask(op, node.inputs, fed)
        else:
            fn, deref = node.fn, None
        if node.launch:  # in order (loop, trace) too, it runs as it does launched: on one lane
            fn = _one_lane(fn)
            launches.append(len(steps))
        steps.append([fn, context_for(op, device), ins, out, len(node.outputs), deref, None])
    fetch_slots = [slots[t] for t in fetches]
    _add_frees(steps, len(feeds), set(fetch_slots))
    fetch_deref = [t.dtype._is_ref_dtype and t not in fed for t in fetches]
    device_name = device.name if device is not None else ""
    template = [None] * num_slots
    template[len(client_feeds):len(feeds)] = constants.values()
    plan = Plan([tuple(s) for s in steps], num_slots, list(range(len(client_feeds))),
                fetch_slots, fetch_deref, device_name or _DEFAULT_DEVICE, template, launches)
    plan.optimizer_stats = stats
    return plan


def _one_lane(fn):
    def on_one_lane(ctx, *args):
        with lanes.use(1):
            return fn(ctx, *args)
    return on_one_lane


def _add_frees(steps, num_feeds, keep):
    """Sets each step's tuple of value slots whose last consumer it is (None if none)."""
    last_use = {}
    for k, step in enumerate(steps):
        for i in step[2]:
            last_use[i] = k
    frees = {}
    for slot, k in last_use.items():
        if slot >= num_feeds and slot not in keep:
            frees.setdefault(k, []).append(slot)
    for k, slots in frees.items():
        steps[k][6] = tuple(slots)
