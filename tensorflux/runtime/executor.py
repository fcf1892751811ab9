"""Compiles a step: prune -> topological order -> place -> (partition) -> a runnable plan.

A plan is compiled once per (feeds, fetches, targets) signature. When one device runs every
op with synchronous kernels (the common case) the plan is an inline Plan: each step holds a
kernel, its per-session KernelContext, the slots of its inputs and where its outputs go, so a
step costs one Python call plus list indexing, in the calling thread. Otherwise the ops are
partitioned by device with _Send/_Recv between them and run by the dataflow executor
(tensorflux/runtime/dataflow_plan.py).
"""
import heapq
import threading

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.variable_ref import VariableRef

_DEFAULT_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
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

    def __init__(self, steps, num_slots, feed_slots, fetch_slots, fetch_deref, device_name=""):
        self.steps = steps
        self.num_slots = num_slots
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots
        self.fetch_deref = fetch_deref
        self.device_name = device_name

    def run(self, feed_values):
        vals = [None] * self.num_slots
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
        vals = [None] * self.num_slots
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
                 output_partitions=False):
    """Builds the plan running `targets` and computing `fetches` from `feeds` (lists of tensors).

    prune -> topological order -> place (with `placer`, else everything on CPU) -> an inline
    Plan when one device runs everything with synchronous kernels, else partition -> a
    dataflow plan (tensorflux.runtime.dataflow) with _Send/_Recv between devices.

    `context_for(op, device)` gives each op's KernelContext (device None without a placer).
    """
    fed = set(feeds)
    order = topological_order(prune(fetches, targets, fed), fed)
    from tensorflux.runtime import control_flow_executor
    control_flow = control_flow_executor.has_control_flow(order)
    if placer is None:
        assignment = {op: None for op in order}
        if not control_flow:
            return _inline_plan(feeds, fetches, order, assignment, context_for)
    else:
        assignment = placer.place(graph, order)
    devices = set(assignment.values())
    if len(devices) <= 1 and not output_partitions and not control_flow and not any(
            _kernel_def(op, assignment[op]).is_async for op in order):
        return _inline_plan(feeds, fetches, order, assignment, context_for)
    from tensorflux.runtime import control_flow_plan
    from tensorflux.runtime import dataflow_plan
    from tensorflux.runtime import partition
    if placer is None:
        parts = [partition.Partition(None)]
        parts[0].nodes = [partition.PartitionNode(op, list(op._inputs), list(op._control_inputs))
                          for op in order]
    else:
        parts = partition.partition(order, assignment, fed, placer.device_mgr.devices)
    if control_flow:
        return control_flow_plan.ControlFlowPlan(parts, feeds, fetches, context_for)
    return dataflow_plan.DataflowPlan(parts, feeds, fetches, context_for)


def _inline_plan(feeds, fetches, order, assignment, context_for):
    fed = set(feeds)
    slots = {t: i for i, t in enumerate(feeds)}
    num_slots = len(slots)
    steps = []
    for op in order:
        out = num_slots
        num_slots += len(op._outputs)
        for k, t in enumerate(op._outputs):
            if t not in fed:
                slots[t] = out + k
        device = assignment[op]
        ins = tuple(slots[t] for t in op._inputs)
        steps.append([_kernel_def(op, device).fn, context_for(op, device), ins, out,
                      len(op._outputs), deref_mask(op, op._inputs, fed), None])
    fetch_slots = [slots[t] for t in fetches]
    _add_frees(steps, len(feeds), set(fetch_slots))
    fetch_deref = [t.dtype._is_ref_dtype and t not in fed for t in fetches]
    device_name = next((d.name for d in assignment.values() if d is not None), "")
    return Plan([tuple(s) for s in steps], num_slots, list(range(len(feeds))), fetch_slots,
                fetch_deref, device_name or _DEFAULT_DEVICE)


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


def _input_names(inputs):
    return [(t.op.name, t.value_index) for t in inputs]


def deref_mask(op, inputs, fed):
    """Which inputs are variable references the op reads as plain values (None if none)."""
    if not any(t.dtype._is_ref_dtype for t in inputs):
        return None
    mask = tuple(t.dtype._is_ref_dtype and not is_ref and t not in fed
                 for t, is_ref in zip(inputs, registry.input_ref_flags(op)))
    return mask if any(mask) else None


def _kernel_def(op, device):
    device_type = "CPU" if device is None else device.device_type
    kernel = op._op_def.kernels.get(device_type)
    if kernel is None:
        raise errors.NotFoundError(
            None, op, f"No {device_type} kernel registered for op {op.type} ('{op.name}'); "
                      f"kernels exist for {sorted(op._op_def.kernels) or 'no device'}. "
                      f"{op._created_at_text()}")
    return kernel


def describe_values(values):
    parts = []
    for v in values:
        if isinstance(v, VariableRef):
            parts.append(f"ref {v.name}")
        else:
            arr = np.asarray(v) if not isinstance(v, np.ndarray) else v
            parts.append(f"{arr.dtype}{list(arr.shape)}")
    return ", ".join(parts) or "none"


def internal_error(op, exc):
    """`exc`, raised by the executors' own code while running `op` (None if unknown), as an
    InternalError naming the op; an OpError passes through (as op_error when `op` is known)."""
    if isinstance(exc, errors.OpError):
        return exc if op is None else op_error(op, exc, [])
    what = "an executor task" if op is None else f"{op.type} op '{op.name}'"
    where = "" if op is None else f" {op._created_at_text()}"
    return errors.InternalError(
        None, op, f"Internal error in the executor while running {what}: "
                  f"{type(exc).__name__}: {exc}. This is a bug in tensorflux, not in the "
                  f"graph or its inputs.{where}")


def op_error(op, exc, inputs):
    """Wraps an exception raised by `op`'s kernel as a TF error naming the op and its inputs."""
    where = op._created_at_text()
    detail = f"[[{op.type} op '{op.name}' on inputs ({describe_values(inputs)})]] {where}"
    if isinstance(exc, errors.OpError):
        message = exc.message if f"'{op.name}'" in exc.message else f"{exc.message}\n\t{detail}"
        if type(exc) is errors.OpError:
            return errors.OpError(None, op, message, exc.error_code)
        return type(exc)(None, op, message)
    return errors.InvalidArgumentError(None, op, f"{type(exc).__name__}: {exc}\n\t{detail}")
