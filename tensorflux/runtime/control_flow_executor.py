"""The executor for graphs with in-graph control flow: frames, iterations and dead values.

TensorFlow's design (the "dynamic control flow" paper): every node runs in a frame and an
iteration. Enter moves a value into a child frame (one per parent frame, parent iteration and
`frame_name`); with is_constant=True the value is visible in every iteration of the child.
NextIteration moves a value to the next iteration of its frame, Exit back to the parent frame.
Switch forwards its input to one output and marks the other DEAD; a node with a dead input (or
a dead control input) does not run and makes its own outputs dead, except Merge, which fires on
its first live input (or as dead when every input it waits for is dead) and _Send, which carries
deadness to its _Recv. Each iteration has its own value table and pending counts; at most
`parallel_iterations` iterations of a frame are alive, further ones wait until the oldest ends.
An iteration ends when nothing in it is ready or running, no child frame of it is alive and the
iteration before it has ended; a frame ends when all its Enter inputs have arrived and all its
iterations have ended, and then sends DEAD to the parent through every Exit that never carried a
live value (the loop ran on a dead branch).

All partitions of a step run in one ExecutorState here, so a loop may span devices: each _Recv
waits for its _Send in the same frame and iteration, and the rendezvous key carries
frame_id:iteration. The step is driven by the calling thread from a ready queue; asynchronous
kernels (Recv, blocking queue ops) finish from any thread through their `call` object.
"""
import collections
import threading
import time
import zlib

import numpy as np

from tensorflux.framework import errors
from tensorflux.runtime import dataflow

NORMAL, SWITCH, MERGE, ENTER, EXIT, NEXT = range(6)
_KINDS = {"Switch": SWITCH, "RefSwitch": SWITCH, "Merge": MERGE, "RefMerge": MERGE,
          "Enter": ENTER, "RefEnter": ENTER, "Exit": EXIT, "RefExit": EXIT,
          "NextIteration": NEXT, "RefNextIteration": NEXT}
CONTROL_FLOW_OPS = frozenset(_KINDS) | {"LoopCond"}


class _Dead:
    """The value of a dead tensor (an output on the untaken side of a Switch)."""

    __slots__ = ()

    def __repr__(self):
        return "DEAD"


DEAD = _Dead()


def has_control_flow(ops):
    """Whether any op in `ops` is a control-flow primitive (the inline plan cannot run them)."""
    return any(op.type in CONTROL_FLOW_OPS for op in ops)


class CFNode:
    """One compiled node: its kernel, slots, out edges and static frame."""

    __slots__ = ("op", "fn", "ctx", "is_async", "kind", "ins", "out", "n_out", "deref",
                 "out_edges", "n_control", "frame", "frame_name", "is_constant", "n_fwd",
                 "n_back", "device_name", "input_names", "forwards_dead", "parallel")


class FrameInfo:
    """Static facts about one frame name: its parent, Exit nodes and number of Enter nodes."""

    __slots__ = ("name", "parent", "exits", "num_enters", "parallel")

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent
        self.exits = []
        self.num_enters = 0
        self.parallel = 10


class _Iteration:
    __slots__ = ("num", "vals", "pending", "dead_in", "dead_nodes", "merges", "outstanding",
                 "frames", "children")

    def __init__(self, num, vals, pending):
        self.num = num
        self.vals = vals
        self.pending = pending
        self.dead_in = None
        self.dead_nodes = None
        self.merges = None
        self.outstanding = 0
        self.frames = 0
        self.children = None


class _Frame:
    __slots__ = ("info", "frame_id", "parent", "parent_iter", "iterations", "count",
                 "alive", "pending_inputs", "inv_values", "deferred", "delivered")

    def __init__(self, info, frame_id, parent, parent_iter):
        self.info = info
        self.frame_id = frame_id
        self.parent = parent
        self.parent_iter = parent_iter
        self.iterations = {}
        self.count = -1
        self.alive = 0
        self.pending_inputs = info.num_enters
        self.inv_values = []
        self.deferred = None
        self.delivered = set()


class FrameCall(dataflow.AsyncCall):
    """The `call` of an asynchronous kernel running inside a frame."""

    __slots__ = ("frame_iter", "_tag")

    def __init__(self, state, index, is_dead, start, frame_iter, tag):
        super().__init__(state, index, is_dead, start)
        self.frame_iter = frame_iter
        self._tag = tag

    def done(self, outputs=(), is_dead=False):
        self._state.async_done(self, outputs, is_dead)

    def fail(self, error):
        self._state.async_fail(self, error)


class ExecutorState:
    """One step of a control-flow plan."""

    def __init__(self, plan, step, feed_values):
        self.plan = plan
        self.step = step
        self.nodes = plan.nodes
        self.feeds = list(feed_values)
        self.cond = threading.Condition(threading.Lock())
        self.ready = collections.deque()
        self.finished = False
        self.peak_iterations = {}  # frame name -> most iterations alive at once (for tests)
        self.root = _Frame(plan.frame_infos[""], 0, None, None)
        step.on_abort(self._wake)

    # ---- driver ---------------------------------------------------------------------------
    def run(self, timeout):
        """Runs the step in the calling thread; returns (root iteration, timed out)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        step = self.step
        with self.cond:
            root_iter = self._new_iteration(self.root)
            for i in self.plan.roots:
                self._schedule(i, self.root, root_iter)
            if not root_iter.outstanding:
                self._cleanup(self.root)
        ready = self.ready
        count = 0
        while True:
            with self.cond:
                while not ready and not self.finished and step.error is None:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return root_iter, True
                    self.cond.wait(remaining)
                if self.finished or step.error is not None:
                    return root_iter, False
                item = ready.popleft()
            try:
                self._process(item)
            except Exception as e:  # noqa: BLE001 - the executor's own code failed: a bug
                step.fail(dataflow.internal_error(self.nodes[item[0]].op, e))
                return root_iter, False
            count += 1
            if deadline is not None and not count & 63 and time.monotonic() > deadline:
                return root_iter, True

    def _wake(self, error=None):
        with self.cond:
            self.cond.notify_all()

    def _schedule(self, i, frame, it):
        it.outstanding += 1
        self.ready.append((i, frame, it))

    # ---- running one node -----------------------------------------------------------------
    def _process(self, item):
        i, frame, it = item
        node = self.nodes[i]
        vals = it.vals
        dead = it.dead_in is not None and i in it.dead_in
        kind = node.kind
        collector = self.step.collector
        start = collector.now() if collector is not None else 0.0
        if kind == NORMAL:
            if dead and not node.forwards_dead:
                self._set_dead(node, it, i)
            else:
                try:
                    args = self._args(node, vals, dead)
                    if node.is_async:
                        frame_iter = (frame.frame_id, it.num)
                        call = FrameCall(self, i, dead, start, frame_iter, item)
                        self.step.track(call, node.op)
                        node.fn(node.ctx, call, *args)
                        return
                    outputs = node.fn(node.ctx, *args)
                except Exception as e:  # noqa: BLE001 - a kernel failure is reported against its op
                    self.step.fail(_op_error(node.op, e, [vals[s] for s in node.ins]))
                    return
                dataflow.store_outputs(vals, node, outputs)
                if collector is not None:
                    end = collector.now()
                    collector.record(node.op, node.device_name, start, start, end, end,
                                     [v for v in vals[node.out:node.out + node.n_out]
                                      if v is not DEAD], node.input_names, args)
        elif kind == SWITCH:
            if dead:
                self._set_dead(node, it, i)
            else:
                data, pred = self._args(node, vals, False)
                taken = self._switch_output(node, pred)
                if taken is None:
                    return
                vals[node.out + taken] = data
                vals[node.out + 1 - taken] = DEAD
        elif kind == MERGE:
            live = it.merges[i][1]
            if live is None:
                self._set_dead(node, it, i)
            else:
                value = vals[node.ins[live]]
                if node.deref is not None and node.deref[live]:
                    value = value.get()
                vals[node.out] = value
                vals[node.out + 1] = np.int32(live)
        with self.cond:
            self._propagate(i, node, frame, it, dead)
            self._done(frame, it)

    def _switch_output(self, node, pred):
        """1 if Switch's predicate is true, 0 if false; None (the step failed) if not a bool."""
        pred = np.asarray(pred)
        if pred.shape != ():
            self.step.fail(_op_error(node.op, errors.InvalidArgumentError(
                None, node.op, f"The second input must be a scalar, but it has shape "
                               f"{list(pred.shape)}"), [pred]))
            return None
        return 1 if bool(pred) else 0

    def _args(self, node, vals, dead):
        if dead:
            return [None] * len(node.ins)
        if node.deref is None:
            return [vals[s] for s in node.ins]
        return [vals[s].get() if d else vals[s] for s, d in zip(node.ins, node.deref)]

    def _set_dead(self, node, it, i):
        if node.n_out:
            it.vals[node.out:node.out + node.n_out] = [DEAD] * node.n_out
        if it.dead_nodes is None:
            it.dead_nodes = set()
        it.dead_nodes.add(i)

    # ---- propagation (under the lock) -----------------------------------------------------
    def _propagate(self, i, node, frame, it, dead):
        kind = node.kind
        if kind == ENTER:
            value = DEAD if dead else self._input_value(node, it.vals)
            self._enter(i, node, frame, it, value)
        elif kind == EXIT:
            value = DEAD if dead else self._input_value(node, it.vals)
            if value is not DEAD:
                frame.delivered.add(i)
                self._deliver(i, frame.parent, frame.parent_iter, value)
        elif kind == NEXT:
            if not dead:
                self._next_iteration(i, frame, it, self._input_value(node, it.vals))
        else:
            vals = it.vals
            node_dead = it.dead_nodes is not None and i in it.dead_nodes
            for dst, pos, slot in node.out_edges:
                self._activate(dst, frame, it, pos,
                               node_dead if slot < 0 else vals[slot] is DEAD)

    @staticmethod
    def _input_value(node, vals):
        value = vals[node.ins[0]]
        if node.deref is not None and node.deref[0] and value is not DEAD:
            value = value.get()
        return value

    def _deliver(self, i, frame, it, value):
        """Writes the output of Enter/Exit/NextIteration node `i` into `it` of `frame`."""
        node = self.nodes[i]
        it.vals[node.out] = value
        is_dead = value is DEAD
        for dst, pos, slot in node.out_edges:
            self._activate(dst, frame, it, pos, is_dead)

    def _activate(self, dst, frame, it, pos, dead):
        node = self.nodes[dst]
        if node.kind == MERGE:
            merges = it.merges
            if merges is None:
                merges = it.merges = {}
            state = merges.get(dst)
            if state is None:
                state = merges[dst] = [node.n_control, None, 0, False]
            if pos < 0:
                state[0] -= 1
            elif dead:
                state[2] += 1
            elif state[1] is None:
                state[1] = pos
            expected = node.n_back if (node.n_back and it.num > 0) else node.n_fwd
            if not state[3] and state[0] <= 0 and (state[1] is not None or state[2] >= expected):
                state[3] = True
                self._schedule(dst, frame, it)
            return
        if dead:
            if it.dead_in is None:
                it.dead_in = set()
            it.dead_in.add(dst)
        pending = it.pending
        pending[dst] -= 1
        if not pending[dst]:
            self._schedule(dst, frame, it)

    def _enter(self, i, node, frame, it, value):
        children = it.children
        if children is None:
            children = it.children = {}
        child = children.get(node.frame_name)
        if child is None:
            info = self.plan.frame_infos[node.frame_name]
            frame_id = zlib.crc32(f"{frame.frame_id}:{it.num};{node.frame_name}".encode())
            child = children[node.frame_name] = _Frame(info, frame_id or 1, frame, it)
            it.frames += 1
            self._new_iteration(child)
        if node.is_constant:
            child.inv_values.append((i, value))
            for child_it in list(child.iterations.values()):
                self._deliver(i, child, child_it, value)
        else:
            self._deliver(i, child, child.iterations[0], value)
        child.pending_inputs -= 1
        if child.pending_inputs == 0:
            self._cleanup(child)

    def _next_iteration(self, i, frame, it, value):
        target = frame.iterations.get(it.num + 1)
        if target is None:
            if frame.deferred is not None or frame.alive >= frame.info.parallel:
                if frame.deferred is None:
                    frame.deferred = []
                frame.deferred.append((i, value))
                return
            target = self._new_iteration(frame)
        self._deliver(i, frame, target, value)

    def _new_iteration(self, frame):
        plan = self.plan
        vals = [None] * plan.num_slots
        vals[:len(self.feeds)] = self.feeds
        frame.count += 1
        it = _Iteration(frame.count, vals, list(plan.pending))
        frame.iterations[frame.count] = it
        frame.alive += 1
        peak = self.peak_iterations
        if frame.alive > peak.get(frame.info.name, 0):
            peak[frame.info.name] = frame.alive
        for i, value in frame.inv_values:
            self._deliver(i, frame, it, value)
        return it

    # ---- ending iterations and frames ---------------------------------------------------------
    def _done(self, frame, it):
        it.outstanding -= 1
        if not it.outstanding and not it.frames:
            self._cleanup(frame)

    def _iteration_done(self, frame, it):
        if it.outstanding or it.frames:
            return False
        if it.num == 0:
            return frame.pending_inputs == 0
        return it.num - 1 not in frame.iterations

    def _cleanup(self, frame):
        iterations = frame.iterations
        k = min(iterations) if iterations else 0
        while True:
            it = iterations.get(k)
            if it is None or not self._iteration_done(frame, it):
                break
            del iterations[k]
            frame.alive -= 1
            k += 1
            if frame.deferred:
                deferred, frame.deferred = frame.deferred, None
                new_it = self._new_iteration(frame)
                for i, value in deferred:
                    self._deliver(i, frame, new_it, value)
        self._maybe_finish_frame(frame)

    def _maybe_finish_frame(self, frame):
        if frame.pending_inputs or frame.alive or frame.deferred:
            return
        parent = frame.parent
        if parent is None:
            self.finished = True
            self.cond.notify_all()
            return
        parent_it = frame.parent_iter
        for e in frame.info.exits:
            if e not in frame.delivered:
                self._deliver(e, parent, parent_it, DEAD)
        del parent_it.children[frame.info.name]
        parent_it.frames -= 1
        if not parent_it.outstanding and not parent_it.frames:
            self._cleanup(parent)

    # ---- asynchronous completion ----------------------------------------------------------------
    def async_done(self, call, outputs, is_dead):
        step = self.step
        i, frame, it = call._tag
        node = self.nodes[i]
        try:
            step.untrack(call)
            if step.error is not None:
                return
            self._finish_async(call, i, node, frame, it, outputs, is_dead)
        except Exception as e:  # noqa: BLE001 - never raise into the completing thread
            step.fail(dataflow.internal_error(node.op, e))

    def _finish_async(self, call, i, node, frame, it, outputs, is_dead):
        step, vals = self.step, it.vals
        if is_dead:
            self._set_dead(node, it, i)
        else:
            dataflow.store_outputs(vals, node, outputs)
        if step.collector is not None:
            step.collector.record(node.op, node.device_name, call._start, call._start,
                                  step.collector.now(), step.collector.now(),
                                  [] if is_dead else vals[node.out:node.out + node.n_out],
                                  node.input_names)
        with self.cond:
            self._propagate(i, node, frame, it, False)
            self._done(frame, it)
            self.cond.notify_all()

    def async_fail(self, call, error):
        step = self.step
        node = self.nodes[call._tag[0]]
        step.untrack(call)
        step.fail(error if step.error is not None else _op_error(node.op, error, []))


def _op_error(op, exc, inputs):
    return dataflow.op_error(op, exc, [v for v in inputs if v is not DEAD])
