"""Timeline: a traced step's StepStats as a Chrome trace (chrome://tracing, Perfetto).

    run_metadata = tf.RunMetadata()
    sess.run(train_op, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
             run_metadata=run_metadata)
    trace = timeline.Timeline(run_metadata.step_stats)
    with open("timeline.json", "w") as f:
        f.write(trace.generate_chrome_trace_format())

Each device is a process (pid) named after the device; each executor thread a lane (tid);
each node an "X" (complete) event named after its op type, with the node name and inputs in
`args`. With show_dataflow, flow events ("s"/"t") link a producer to its consumers, including
a _Send to its _Recv on another device. With show_memory, counter events ("C") show each
device's bytes allocated over the step.
"""
import json
import re

__all__ = ["Timeline", "AllocationMaximum", "StepStatsAnalysis"]

_LABEL_RE = re.compile(r"^(?P<name>.*?) = (?P<op>[^(]+)\((?P<inputs>.*)\)$")


class AllocationMaximum:
    """The largest allocation of one allocator over the step (TensorFlow's namedtuple)."""

    def __init__(self, timestamp, num_bytes, tensors):
        self.timestamp = timestamp
        self.num_bytes = num_bytes
        self.tensors = tensors


class StepStatsAnalysis:
    """What Timeline.analyze_step_stats returns: the trace and per-allocator maxima."""

    def __init__(self, chrome_trace, allocator_maximums):
        self.chrome_trace = chrome_trace
        self.allocator_maximums = allocator_maximums


class _ChromeTrace:
    """Accumulates trace events and serializes them as {"traceEvents": [...]}."""

    def __init__(self):
        self.events = []
        self.metadata = []

    def emit_pid(self, name, pid):
        self.metadata.append({"name": "process_name", "ph": "M", "pid": pid,
                              "args": {"name": name}})
        self.metadata.append({"name": "process_sort_index", "ph": "M", "pid": pid,
                              "args": {"sort_index": pid}})

    def emit_region(self, ts, dur, pid, tid, category, name, args):
        self.events.append({"name": name, "cat": category, "ph": "X", "ts": ts, "dur": dur,
                            "pid": pid, "tid": tid, "args": args})

    def emit_flow_start(self, name, ts, pid, tid, flow_id):
        self.events.append({"name": name, "cat": "DataFlow", "ph": "s", "ts": ts, "pid": pid,
                            "tid": tid, "id": flow_id})

    def emit_flow_end(self, name, ts, pid, tid, flow_id):
        self.events.append({"name": name, "cat": "DataFlow", "ph": "t", "ts": ts, "pid": pid,
                            "tid": tid, "id": flow_id, "bp": "e"})

    def emit_counter(self, category, name, pid, ts, counter, value):
        self.events.append({"name": name, "cat": category, "ph": "C", "ts": ts, "pid": pid,
                            "args": {counter: value}})

    def format_to_string(self, pretty=False):
        trace = {"traceEvents": self.metadata + self.events}
        if pretty:
            return json.dumps(trace, indent=4, separators=(",", ": "))
        return json.dumps(trace, separators=(",", ":"))


def _parse_label(node_stats):
    """(op type, [input node names]) from "name = Op(a, b:1)"; the name if there's no label."""
    match = _LABEL_RE.match(node_stats.timeline_label or "")
    if not match:
        return node_stats.node_name, []
    inputs = [i.strip() for i in match.group("inputs").split(",") if i.strip()]
    return match.group("op").strip(), inputs


class Timeline:
    """Turns a StepStats proto into Chrome trace events."""

    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow=True, show_memory=False):
        """The step as a Chrome trace JSON string."""
        return self.analyze_step_stats(show_dataflow, show_memory).chrome_trace.format_to_string(
            pretty=True)

    def analyze_step_stats(self, show_dataflow=True, show_memory=False):
        trace = _ChromeTrace()
        nodes = self._emit_devices_and_ops(trace)
        if show_dataflow:
            self._emit_dataflow(trace, nodes)
        maximums = self._emit_memory(trace, show_memory)
        return StepStatsAnalysis(trace, maximums)

    def _emit_devices_and_ops(self, trace):
        """Emits a process per device and an X event per node; returns {name: (ns, pid)}."""
        nodes = {}
        for pid, dev_stats in enumerate(self._step_stats.dev_stats):
            trace.emit_pid(f"{dev_stats.device} Compute", pid)
            for ns in dev_stats.node_stats:
                op_type, inputs = _parse_label(ns)
                args = {"name": ns.node_name, "op": op_type}
                for k, name in enumerate(inputs):
                    args[f"input{k}"] = name
                trace.emit_region(ns.all_start_micros, max(ns.all_end_rel_micros, 0), pid,
                                  ns.thread_id, "Op", op_type, args)
                nodes[ns.node_name] = (ns, pid, inputs, op_type)
        return nodes

    def _emit_dataflow(self, trace, nodes):
        flow_id = 0
        for consumer, (ns, pid, inputs, op_type) in nodes.items():
            for name in inputs:
                producer = nodes.get(name.split(":")[0])
                if producer is None:
                    continue
                src, src_pid = producer[0], producer[1]
                flow_id += 1
                end_ts = src.all_start_micros + src.all_end_rel_micros
                trace.emit_flow_start(producer[3], end_ts, src_pid, src.thread_id, flow_id)
                trace.emit_flow_end(producer[3], max(ns.all_start_micros, end_ts), pid,
                                    ns.thread_id, flow_id)

    def _emit_memory(self, trace, show_memory):
        """Counter events of bytes produced per device; returns {allocator: maximum}."""
        maximums = {}
        for pid, dev_stats in enumerate(self._step_stats.dev_stats):
            total = 0
            peak = AllocationMaximum(0, 0, [])
            for ns in sorted(dev_stats.node_stats, key=lambda n: n.all_start_micros):
                produced = sum(o.tensor_description.allocation_description.allocated_bytes
                               for o in ns.output)
                in_use = max((m.allocator_bytes_in_use for m in ns.memory), default=0)
                if not produced and not in_use:
                    continue
                # bytes in use, frees included, where the trace has them; else a running sum
                total = in_use or total + produced
                ts = ns.all_start_micros + ns.all_end_rel_micros
                if show_memory:
                    trace.emit_counter("Memory", dev_stats.device, pid, ts, "bytes", total)
                if total > peak.num_bytes:
                    peak = AllocationMaximum(ts, total, [ns.node_name])
            maximums[dev_stats.device] = peak
        return maximums
