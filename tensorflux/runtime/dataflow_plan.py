"""A compiled multi-partition (or asynchronous) step: partitions run by dataflow executors.

All partitions of a local step share one value table (each writes only its own nodes' slots;
the client's fed values sit in the first slots); values cross devices only through _Send/_Recv
and the step's rendezvous.
"""
from tensorflux.framework import errors
from tensorflux.runtime import dataflow
from tensorflux.runtime.kernel_binding import bind_kernel


class DataflowPlan:
    """Partitions compiled to dataflow nodes, ready to run a step on a thread pool."""

    inline = False

    def __init__(self, partitions, feeds, fetches, context_for):
        fed = set(feeds)
        self.partitions = partitions
        slots = {t: i for i, t in enumerate(feeds)}
        num_slots = len(slots)
        out_slot = {}
        for part in partitions:
            for pnode in part.nodes:
                out = out_slot[pnode.op] = num_slots
                num_slots += len(pnode.op._outputs)
                for k, t in enumerate(pnode.op._outputs):
                    if t not in fed:
                        slots[t] = out + k
        self.num_slots = num_slots
        self.num_feeds = len(feeds)
        self.fetch_slots = [slots[t] for t in fetches]
        self.fetch_deref = [t.dtype._is_ref_dtype and t not in fed for t in fetches]
        self._fetch_names = [t.name for t in fetches]
        keep = set(self.fetch_slots)
        self.compiled = [_compile_partition(part, slots, out_slot, fed, keep, len(feeds),
                                           context_for)
                         for part in partitions]

    def run(self, feed_values, pool, timeout=None, collector=None, register=None,
            rendezvous=None, step_id=None):
        """Runs one step; returns the fetched values.

        Args:
          feed_values: values for the feeds, in order.
          pool: the inter-op ThreadPool.
          timeout: seconds before the step ends with DeadlineExceededError (None: no limit).
          collector: a StepStatsCollector, or None.
          register: a context manager factory taking the Step (the session tracks running
            steps with it so that close() can cancel them), or None.
        """
        vals = [None] * self.num_slots
        vals[:len(feed_values)] = feed_values
        step = dataflow.Step(vals, pool, len(self.compiled), collector, rendezvous, step_id)
        if register is None:
            return self._execute(step, timeout)
        with register(step):
            return self._execute(step, timeout)

    def _execute(self, step, timeout):
        states = [dataflow.ExecutorState(part, step) for part in self.compiled]
        for state, part in zip(states, self.compiled):
            state.start(part.roots)
        if not step.finished.wait(timeout):
            step.fail(self._deadline_error(step, timeout))
        if step.error is not None:
            raise step.error
        return self._fetch(step)

    def _deadline_error(self, step, timeout):
        with step._lock:
            waiting = sorted(set(step.in_flight.values()))
        detail = f"; still waiting in: {', '.join(waiting[:10])}" if waiting else ""
        return errors.DeadlineExceededError(
            None, None, f"Timed out: the step did not finish within {timeout * 1000:.0f} ms "
                        f"(RunOptions.timeout_in_ms / ConfigProto.operation_timeout_in_ms)"
                        f"{detail}")

    def _fetch(self, step):
        vals, dead = step.vals, step.dead
        results = []
        for name, slot, deref in zip(self._fetch_names, self.fetch_slots, self.fetch_deref):
            if dead is not None and slot in dead:
                raise errors.InvalidArgumentError(
                    None, None, f"Fetched tensor {name} is dead (it is on an untaken branch) "
                                "and has no value")
            value = vals[slot]
            results.append(value.get() if deref else value)
        return results


def _compile_partition(part, slots, out_slot, fed, keep, num_feeds, context_for):
    device = part.device
    index = {pnode.op: i for i, pnode in enumerate(part.nodes)}
    nodes, pending = [], []
    consumers = {}
    for i, pnode in enumerate(part.nodes):
        node = bind_kernel(dataflow.Node(), pnode, device, slots, out_slot, fed, context_for)
        preds = {index[t.op] for t in pnode.inputs if t not in fed}
        preds.update(index[c] for c in pnode.control_inputs)
        node.preds = tuple(sorted(preds))
        node.succ = []
        pending.append(len(preds))
        for p in preds:
            nodes[p].succ.append(i)
        for s in set(node.ins):
            if s >= num_feeds and s not in keep:
                consumers.setdefault(s, []).append(i)
        nodes.append(node)
    ref_index = {s: r for r, s in enumerate(consumers)}
    refs = [len(consumers[s]) for s in consumers]
    for node in nodes:
        node.succ = tuple(node.succ)
        node.frees = tuple((ref_index[s], s) for s in set(node.ins) if s in ref_index) or None
    return dataflow.CompiledPartition(device, nodes, pending, refs)

