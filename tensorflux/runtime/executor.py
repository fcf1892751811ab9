"""Runs one pruned, placed subgraph: kernels in a dependency order over a flat value table.

A Plan is compiled once per (feeds, fetches, targets) signature. Each step holds a kernel, its
per-session KernelContext, the slots of its inputs and where its outputs go, so a step costs
one Python call plus list indexing.
"""
import heapq

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework.variable_ref import VariableRef


class KernelContext:
    """What a kernel sees besides its inputs: its op, attrs, array module, state and RNG."""

    __slots__ = ("op", "attrs", "xp", "device", "resources", "session", "state", "_rng")

    def __init__(self, op, device, resources, session):
        self.op = op
        self.attrs = op._attrs
        self.xp = np
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
        """A NumPy Generator seeded from the op's (seed, seed2) attrs; random if both are 0."""
        if self._rng is None:
            seed, seed2 = self.attrs.get("seed", 0), self.attrs.get("seed2", 0)
            if seed or seed2:
                self._rng = np.random.Generator(np.random.PCG64([seed & 0xFFFFFFFF, seed2 & 0xFFFFFFFF]))
            else:
                self._rng = np.random.default_rng()
        return self._rng


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
        stack.extend(c for c in op._control_inputs if c not in needed)
    return needed


def topological_order(ops, fed):
    """Kahn's algorithm over data and control edges; ties go to the op created first."""
    pending, consumers = {}, {}
    for op in ops:
        deps = {t.op for t in op._inputs if t not in fed and t.op in ops}
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
    """A compiled step: feeds go into slots, steps run in order, fetches come out of slots."""

    def __init__(self, steps, num_slots, feed_slots, fetch_slots, fetch_deref):
        self.steps = steps
        self.num_slots = num_slots
        self.feed_slots = feed_slots
        self.fetch_slots = fetch_slots
        self.fetch_deref = fetch_deref

    def run(self, feed_values):
        vals = [None] * self.num_slots
        for slot, value in zip(self.feed_slots, feed_values):
            vals[slot] = value
        step = None
        try:
            for step in self.steps:
                fn, ctx, ins, out, n, deref = step
                if deref is None:
                    result = fn(ctx, *[vals[i] for i in ins])
                else:
                    result = fn(ctx, *[vals[i].get() if d else vals[i]
                                       for i, d in zip(ins, deref)])
                if n == 1:
                    vals[out] = result
                elif n:
                    vals[out:out + n] = result
        except Exception as e:  # noqa: BLE001 - every failure is reported against its op
            raise op_error(step[1].op, e, [vals[i] for i in step[2]]) from e
        return [vals[s].get() if d else vals[s]
                for s, d in zip(self.fetch_slots, self.fetch_deref)]


def compile_plan(feeds, fetches, targets, context_for):
    """Builds a Plan running `targets` and computing `fetches` from `feeds` (lists of tensors)."""
    fed = set(feeds)
    order = topological_order(prune(fetches, targets, fed), fed)
    slots = {t: i for i, t in enumerate(feeds)}
    steps = []
    for op in order:
        out = len(slots)
        for t in op._outputs:
            slots[t] = len(slots)
        ins = tuple(slots[t] for t in op._inputs)
        deref = _deref_mask(op)
        kernel = _kernel_for(op)
        steps.append((kernel, context_for(op), ins, out, len(op._outputs), deref))
    fetch_slots = [slots[t] for t in fetches]
    fetch_deref = [t.dtype._is_ref_dtype and t not in fed for t in fetches]
    return Plan(steps, len(slots), [slots[t] for t in feeds], fetch_slots, fetch_deref)


def _deref_mask(op):
    """Which inputs are variable references the op reads as plain values (None if none)."""
    arg_is_ref = []
    for arg in op._op_def.inputs:
        count = 1
        if arg.number_attr:
            count = op._attrs[arg.number_attr]
        elif arg.type_list_attr:
            count = len(op._attrs[arg.type_list_attr])
        arg_is_ref.extend([arg.is_ref] * count)
    mask = tuple(t.dtype._is_ref_dtype and not is_ref for t, is_ref in zip(op._inputs, arg_is_ref))
    return mask if any(mask) else None


def _kernel_for(op):
    kernel = op._op_def.kernels.get("CPU")
    if kernel is None:
        raise errors.NotFoundError(
            None, op, f"No CPU kernel registered for op {op.type} ('{op.name}'); kernels exist "
                      f"for {sorted(op._op_def.kernels) or 'no device'}. {op._created_at_text()}")
    return kernel.fn


def describe_values(values):
    parts = []
    for v in values:
        if isinstance(v, VariableRef):
            parts.append(f"ref {v.name}")
        else:
            arr = np.asarray(v) if not isinstance(v, np.ndarray) else v
            parts.append(f"{arr.dtype}{list(arr.shape)}")
    return ", ".join(parts) or "none"


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
