"""Step tracing: per-node timings, outputs and memory of one step, as a StepStats proto.

With RunOptions(trace_level=FULL_TRACE) the executor records, for every node it runs, when it
started and ended and what it produced; `finalize` writes RunMetadata.step_stats (one
DeviceStepStats per device) and RunMetadata.cost_graph. Untraced steps pay nothing.

Memory: a node's output allocates a new buffer unless it is a view of one of the node's inputs
(Identity, Reshape, a read of a variable), a variable reference or a Const's stored value (both
persistent, not the step's). Replaying the records in start order (memory_timeline.py) gives
every buffer a lifetime, from its producer's end to its last consumer's end, so each node's
NodeExecStats.memory says what it allocated (total_bytes, peak_bytes), what of that outlives the
step (live_bytes) and the step's bytes in use after it (allocator_bytes_in_use), whose maximum
over the nodes is the step's peak (`peak_bytes`).
"""
import threading
import time

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import protos
from tensorflux.framework.variable_ref import VariableRef
from tensorflux.runtime import memory_timeline

FULL_TRACE = 3
ALLOCATOR = "cpu"
# Ops whose outputs are the session's own stored arrays, not buffers of this step.
_PERSISTENT_OUTPUTS = frozenset(("Const", "HostConst", "VariableV2", "Variable"))


class NodeRecord:
    """What the collector keeps per executed node until the step ends."""

    __slots__ = ("op", "device", "start", "op_start", "op_end", "end", "thread_id", "outputs",
                 "inputs", "input_buffers")

    def __init__(self, op, device, start, op_start, op_end, end, thread_id, outputs, inputs,
                 input_buffers=()):
        self.op = op
        self.device = device
        self.start = start
        self.op_start = op_start
        self.op_end = op_end
        self.end = end
        self.thread_id = thread_id
        self.outputs = outputs
        self.inputs = inputs
        self.input_buffers = input_buffers


class StepStatsCollector:
    """Collects NodeRecords from any thread; times are time.perf_counter() seconds."""

    def __init__(self):
        self.records = []
        self._lock = threading.Lock()
        self._base_perf = time.perf_counter()
        self._base_wall = time.time()

    @staticmethod
    def now():
        return time.perf_counter()

    def record(self, op, device, start, op_start, op_end, end, outputs, input_names=None,
               input_values=None):
        """Adds one node's timings; `outputs` are its output values (arrays, refs or None) and
        `input_values` (when given) the values it read, to tell views from new buffers."""
        in_buffers = frozenset(k for k in map(buffer_key, input_values or ()) if k is not None)
        rec = NodeRecord(op, device, start, op_start, op_end, end, threading.get_ident(),
                         _describe_outputs(op, outputs, in_buffers), input_names, in_buffers)
        with self._lock:
            self.records.append(rec)

    def _micros(self, t):
        return int(round((self._base_wall + (t - self._base_perf)) * 1e6))

    def step_stats(self):
        """A protos.StepStats: one DeviceStepStats per device, nodes in start order."""
        stats = protos.StepStats()
        by_device = {}
        threads = {}
        ordered = sorted(self.records, key=lambda r: r.start)
        memory = memory_timeline.replay(ordered)
        for rec, usage in zip(ordered, memory):
            dev_stats = by_device.get(rec.device)
            if dev_stats is None:
                dev_stats = by_device[rec.device] = stats.dev_stats.add(device=rec.device)
            node = dev_stats.node_stats.add()
            start_us = self._micros(rec.start)
            node.node_name = rec.op.name
            node.all_start_micros = start_us
            node.op_start_rel_micros = max(0, self._micros(rec.op_start) - start_us)
            node.op_end_rel_micros = max(node.op_start_rel_micros,
                                         self._micros(rec.op_end) - start_us)
            node.all_end_rel_micros = max(node.op_end_rel_micros, self._micros(rec.end) - start_us)
            node.scheduled_micros = start_us
            node.thread_id = threads.setdefault(rec.thread_id, len(threads))
            node.timeline_label = _timeline_label(rec)
            _add_outputs_and_memory(node, rec, usage)
        return stats

    def cost_graph(self):
        """A protos.CostGraphDef: per node its device, output sizes and compute time."""
        graph = protos.CostGraphDef()
        ids = {}
        for rec in self.records:
            ids.setdefault(rec.op.name, len(ids))
        for rec in self.records:
            node = graph.node.add(name=rec.op.name, device=rec.device, id=ids[rec.op.name])
            node.compute_time = max(0, int((rec.op_end - rec.op_start) * 1e6))
            node.compute_cost = node.compute_time
            node.is_final = not rec.op._outputs
            for dtype, shape, nbytes, _, _ in rec.outputs:
                out = node.output_info.add(size=nbytes, alias_input_port=-1, dtype=dtype)
                for d in shape:
                    out.shape.dim.add(size=d)
            for src in rec.inputs or ():
                src_id = ids.get(src[0])
                if src_id is not None:
                    node.input_info.add(preceding_node=src_id, preceding_port=src[1])
        return graph

    def finalize(self, run_metadata):
        """Writes step_stats and cost_graph into `run_metadata` (a protos.RunMetadata)."""
        run_metadata.step_stats.CopyFrom(self.step_stats())
        run_metadata.cost_graph.CopyFrom(self.cost_graph())


def _timeline_label(rec):
    """TensorFlow's label "name = OpType(input, ...)" (the timeline shows the op type)."""
    inputs = ", ".join(f"{n}:{i}" if i else n for n, i in rec.inputs or ())
    return f"{rec.op.name} = {rec.op.type}({inputs})"


def _add_outputs_and_memory(node, rec, usage):
    """Fills a NodeExecStats' output descriptions and its AllocatorMemoryUsed entry."""
    for slot, (dtype, shape, nbytes, key, allocated) in enumerate(rec.outputs):
        desc = node.output.add(slot=slot).tensor_description
        desc.dtype = dtype
        for d in shape:
            desc.shape.dim.add(size=d)
        alloc = desc.allocation_description
        alloc.requested_bytes = nbytes
        alloc.allocated_bytes = allocated
        alloc.allocator_name = ALLOCATOR
        if key is not None:
            alloc.ptr = key[0]
    node.memory.add(allocator_name=ALLOCATOR, total_bytes=usage.allocated,
                    peak_bytes=usage.allocated, live_bytes=usage.live,
                    allocator_bytes_in_use=usage.in_use)


def peak_bytes(step_stats):
    """{device: the step's peak bytes in use} from a StepStats written by this module: the
    maximum over its nodes of memory[].allocator_bytes_in_use."""
    return {d.device: max((m.allocator_bytes_in_use for n in d.node_stats for m in n.memory),
                          default=0) for d in step_stats.dev_stats}


def buffer_key(value):
    """(address, bytes) of the buffer under `value` (a view's base array), or None."""
    if isinstance(value, VariableRef):
        value = value.value
    if not isinstance(value, np.ndarray):
        return None
    while isinstance(value.base, np.ndarray):
        value = value.base
    return value.__array_interface__["data"][0], int(value.nbytes)


def _describe_outputs(op, outputs, in_buffers):
    """Per output (dtype enum, shape, bytes, buffer key, bytes newly allocated for it)."""
    persistent = op.type in _PERSISTENT_OUTPUTS
    described = []
    for value in outputs:
        is_ref = isinstance(value, VariableRef)
        key = buffer_key(value)
        if is_ref:
            value = value.value
        if value is None:
            described.append((0, (), 0, None, 0))
            continue
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        try:
            dtype = dtypes.as_dtype(arr.dtype).as_datatype_enum
        except TypeError:
            dtype = 0
        fresh = not (is_ref or persistent or key in in_buffers)
        allocated = (key[1] if key is not None else int(arr.nbytes)) if fresh else 0
        described.append((dtype, tuple(int(d) for d in arr.shape), int(arr.nbytes), key,
                          allocated))
    return described


class BudgetCollector:
    """The collector of a capped step (tensorflux.framework.limits.StepBudget): charges every
    op's outputs to the step's budget, and hands the records on to a StepStatsCollector when
    the step is traced too.

    The executors call `now()` in the thread that is about to run a kernel: that makes the
    budget the one that kernel's value-sized allocations check before they allocate."""

    def __init__(self, budget, inner=None):
        self.budget = budget
        self.inner = inner

    def now(self):
        self.budget.enter()
        return time.perf_counter()

    def record(self, op, device, start, op_start, op_end, end, outputs, input_names=None,
               input_values=None):
        self.budget.charge(op, outputs)
        if self.inner is not None:
            self.inner.record(op, device, start, op_start, op_end, end, outputs, input_names,
                              input_values)
