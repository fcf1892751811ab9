"""A compiled step with control flow: all partitions in one frame-aware executor.

Compilation assigns value slots (as dataflow_plan does), builds each node's out edges
(data edges carry the producing slot, control edges -1), gives every _Recv an edge from its
_Send (so it runs in the same frame and iteration), and infers each node's static frame from
its inputs: Enter's outputs are in the frame named by its `frame_name` attr, Exit's in the
parent of its own frame. Merge inputs produced by NextIteration are back edges: the only cycles
a graph may have. Inconsistent frames (a node reading from two frames) are errors.
"""
import heapq
import threading

from tensorflux.framework import errors
from tensorflux.runtime import control_flow_executor as cfe
from tensorflux.runtime import dataflow
from tensorflux.runtime import dataflow_plan
from tensorflux.runtime import kernel_binding

_DEFAULT_PARALLEL = 10


class ControlFlowPlan(dataflow_plan.DataflowPlan):
    """Runs a step with frames and iterations (tensorflux.runtime.control_flow_executor)."""

    inline = False

    def __init__(self, partitions, feeds, fetches, context_for):  # noqa: D107
        fed = set(feeds)
        # Frame name -> the most iterations alive at once in any step so far (for tests). A
        # statistic over all steps, merged under a lock: the plan is shared by concurrent
        # steps, so nothing of one step may live on it.
        self.peak_iterations = {}
        self._stats_lock = threading.Lock()
        self.partitions = partitions
        entries = [(part.device, pnode) for part in partitions for pnode in part.nodes]
        slots = {t: i for i, t in enumerate(feeds)}
        num_slots = len(slots)
        out_slot = {}
        for _, pnode in entries:
            out_slot[pnode.op] = num_slots
            for k, t in enumerate(pnode.op._outputs):
                if t not in fed:
                    slots[t] = num_slots + k
            num_slots += len(pnode.op._outputs)
        self.num_slots = num_slots
        self.num_feeds = len(feeds)
        self.fetch_slots = [slots[t] for t in fetches]
        self.fetch_deref = [t.dtype._is_ref_dtype and t not in fed for t in fetches]
        self._fetch_names = [t.name for t in fetches]
        index = {pnode.op: k for k, (_, pnode) in enumerate(entries)}
        self.nodes = [_compile_node(device, pnode, slots, out_slot, fed, context_for)
                      for device, pnode in entries]
        incoming = _wire(self.nodes, entries, index, slots, fed)
        self.frame_infos = _infer_frames(self.nodes, incoming)
        self.pending = [0 if n.kind == cfe.MERGE else len(incoming[k])
                        for k, n in enumerate(self.nodes)]
        self.roots = [k for k, ins in enumerate(incoming) if not ins]
        for name, t in zip(self._fetch_names, fetches):
            frame = "" if t in fed else _output_frame(self.nodes[index[t.op]], self.frame_infos)
            if frame:
                raise errors.InvalidArgumentError(
                    None, t.op, f"Cannot fetch {name}: it is computed inside the while-loop frame "
                                f"{frame!r}; fetch the loop's outputs (its Exit tensors) instead")

    def run(self, feed_values, pool, timeout=None, collector=None, register=None,
            rendezvous=None, step_id=None):
        """Runs one step in the calling thread; returns the fetched values."""
        step = dataflow.Step(None, pool, 1, collector, rendezvous, step_id)
        if register is None:
            return self._execute_frames(step, feed_values, timeout)
        with register(step):
            return self._execute_frames(step, feed_values, timeout)

    def _execute_frames(self, step, feed_values, timeout):
        state = cfe.ExecutorState(self, step, feed_values)
        try:
            root_iter, timed_out = state.run(timeout)
        except Exception as e:  # noqa: BLE001 - starting the root frame failed: a bug
            step.fail(dataflow.internal_error(None, e))
            raise step.error from e
        with self._stats_lock:
            peaks = self.peak_iterations
            for name, peak in state.peak_iterations.items():
                peaks[name] = max(peak, peaks.get(name, 0))
        if timed_out and step.error is None:
            step.fail(self._deadline_error(step, timeout))
        if step.error is not None:
            raise step.error
        vals = root_iter.vals
        results = []
        for name, slot, deref in zip(self._fetch_names, self.fetch_slots, self.fetch_deref):
            value = vals[slot]
            if value is cfe.DEAD:
                raise errors.InvalidArgumentError(
                    None, None, f"Fetched tensor {name} is dead (it is on an untaken branch) "
                                "and has no value")
            results.append(value.get() if deref else value)
        return results


def _compile_node(device, pnode, slots, out_slot, fed, context_for):
    op = pnode.op
    node = kernel_binding.bind_kernel(cfe.CFNode(), pnode, device, slots, out_slot, fed,
                                     context_for)
    node.kind = cfe._KINDS.get(op.type, cfe.NORMAL)
    node.frame_name = op._attrs.get("frame_name", "")
    if isinstance(node.frame_name, bytes):
        node.frame_name = node.frame_name.decode()
    node.is_constant = bool(op._attrs.get("is_constant", False))
    node.parallel = int(op._attrs.get("parallel_iterations", _DEFAULT_PARALLEL))
    node.frame = ""
    node.n_control = node.n_fwd = node.n_back = 0
    return node


def _transfer_key(op):
    attrs = op._attrs
    return attrs["tensor_name"], attrs["send_device"], attrs["recv_device"]


def _wire(nodes, entries, index, slots, fed):
    """Fills each node's out_edges; returns each node's incoming (src, is_back_edge) list."""
    edges = [[] for _ in nodes]
    incoming = [[] for _ in nodes]
    sends = {_transfer_key(p.op): k for k, (_, p) in enumerate(entries) if p.op.type == "_Send"}
    for k, (_, pnode) in enumerate(entries):
        node = nodes[k]
        for pos, t in enumerate(pnode.inputs):
            if t in fed:
                continue
            src = index[t.op]
            edges[src].append((k, pos, slots[t]))
            back = node.kind == cfe.MERGE and nodes[src].kind == cfe.NEXT
            incoming[k].append((src, back))
            if node.kind == cfe.MERGE:
                if back:
                    node.n_back += 1
                else:
                    node.n_fwd += 1
        controls = [index[c] for c in pnode.control_inputs]
        if pnode.op.type == "_Recv":
            send = sends.get(_transfer_key(pnode.op))
            if send is not None:
                controls.append(send)
        for src in controls:
            edges[src].append((k, -1, -1))
            incoming[k].append((src, False))
            node.n_control += 1
    for node, out in zip(nodes, edges):
        node.out_edges = tuple(out)
    return incoming


def _infer_frames(nodes, incoming):
    """Sets node.frame for every node; returns {frame name: FrameInfo} ("" is the root)."""
    infos = {"": cfe.FrameInfo("", None)}
    for k in _order_ignoring_back_edges(nodes, incoming):
        node = nodes[k]
        frames = {_output_frame(nodes[src], infos) for src, back in incoming[k] if not back}
        if len(frames) > 1:
            raise errors.InvalidArgumentError(
                None, node.op, f"{node.op.type} op '{node.op.name}' has inputs from different "
                               f"frames: {sorted(frames)}; tensors from outside a while loop "
                               "must enter it through Enter")
        node.frame = frames.pop() if frames else ""
        if node.kind == cfe.ENTER:
            info = infos.get(node.frame_name)
            if info is None:
                info = infos[node.frame_name] = cfe.FrameInfo(node.frame_name, node.frame)
                info.parallel = max(1, node.parallel)
            elif info.parent != node.frame:
                raise errors.InvalidArgumentError(
                    None, node.op, f"Enter op '{node.op.name}' enters frame "
                                   f"{node.frame_name!r} from frame {node.frame!r}, but the frame "
                                   f"was already entered from {info.parent!r}")
            info.num_enters += 1
        elif node.kind == cfe.EXIT:
            if not node.frame:
                raise errors.InvalidArgumentError(
                    None, node.op, f"Exit op '{node.op.name}' is not inside a while-loop frame")
            infos[node.frame].exits.append(k)
    return infos


def _output_frame(node, infos):
    if node.kind == cfe.ENTER:
        return node.frame_name
    if node.kind == cfe.EXIT:
        return infos[node.frame].parent
    return node.frame


def _order_ignoring_back_edges(nodes, incoming):
    pending = [sum(1 for _, back in ins if not back) for ins in incoming]
    consumers = [[] for _ in nodes]
    for k, ins in enumerate(incoming):
        for src, back in ins:
            if not back:
                consumers[src].append(k)
    ready = [k for k, n in enumerate(pending) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for c in consumers[k]:
            pending[c] -= 1
            if pending[c] == 0:
                heapq.heappush(ready, c)
    if len(order) != len(nodes):
        stuck = sorted(nodes[k].op.name for k, n in enumerate(pending) if n > 0)
        raise errors.InvalidArgumentError(
            None, None, f"Graph has a cycle that is not a while loop's back edge "
                        f"(NextIteration -> Merge) among ops: {', '.join(stuck[:10])}")
    return order
