"""The dataflow executor: runs partitions with pending counts, a ready queue and a thread pool.

Per partition and step an ExecutorState keeps how many inputs each node still waits for; a node
whose count reaches zero is ready. A worker runs a node, then the first node it made ready
itself and hands the others to the pool (TensorFlow's inline-one, schedule-rest policy).
Asynchronous kernels (_Recv, blocking queue ops) get a `call` object and return at once; they
hold no thread while they wait and finish through `call.done(outputs, is_dead)` or
`call.fail(error)`. A value is dropped as soon as its last consumer has run.

Values may be dead (the untaken branch of a Switch): a node with a dead input produces dead
outputs without running, except _Send, which forwards deadness to its _Recv. Frames and
iterations appear in `call.frame_iter` and rendezvous keys; only the root frame (0, 0) exists
until control-flow frames are added.

Failures end the step at once, whatever raised them: an exception from a kernel (or from reading
its inputs) becomes the op's error (`op_error`); one from the executor's own bookkeeping
(storing outputs, completing nodes, freeing values, tracing, async completion) is a bug and
becomes an InternalError naming the op (`internal_error`). No exception is left to die in a pool
thread while the step waits.
"""
import os
import queue
import threading

from tensorflux.framework import errors
from tensorflux.platform import tf_logging
from tensorflux.runtime import kernel_binding
from tensorflux.runtime.rendezvous import LocalRendezvous


class ThreadPool:
    """A fixed set of daemon worker threads fed from one queue (the inter-op pool)."""

    def __init__(self, num_threads, name="tensorflux-inter-op"):
        self.num_threads = max(1, num_threads or (os.cpu_count() or 1))
        self._queue = queue.SimpleQueue()
        self._threads = []
        self._name = name
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn, arg, on_error=None):
        """Runs `fn(arg)` on a worker; an exception escaping it goes to `on_error(exc)` (and is
        logged when there is none), so that whoever waits for the task can be told."""
        if not self._threads:
            self._start()
        self._queue.put((fn, arg, on_error))

    def _start(self):
        with self._lock:
            if self._threads or self._closed:
                return
            for k in range(self.num_threads):
                thread = threading.Thread(target=self._work, name=f"{self._name}-{k}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self):
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            fn, arg, on_error = item
            try:
                fn(arg)
            except Exception as e:  # noqa: BLE001 - a worker must survive any task
                _report_task_error(fn, e, on_error)

    def shutdown(self):
        """Lets the workers exit once the queued work is done (does not wait for them)."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
            self._threads = []


def _report_task_error(fn, exc, on_error):
    if on_error is not None:
        try:
            on_error(exc)
            return
        except Exception as e:  # noqa: BLE001 - fall back to the log below
            exc = e
    tf_logging.error("Uncaught error in an inter-op thread running %r", fn, exc_info=exc)


class Node:
    """One compiled node of a partition."""

    __slots__ = ("op", "fn", "ctx", "is_async", "ins", "out", "n_out", "deref", "succ", "preds",
                 "frees", "forwards_dead", "device_name", "input_names")


class CompiledPartition:
    """The nodes of one device with the initial pending counts and reference counts."""

    def __init__(self, device, nodes, pending, refs):
        self.device = device
        self.nodes = nodes
        self.pending = pending
        self.refs = refs
        self.roots = [i for i, n in enumerate(pending) if n == 0]


class AsyncCall:
    """What an asynchronous kernel gets: the step's rendezvous, its frame and a way to finish."""

    __slots__ = ("_state", "_index", "is_dead", "_start")
    frame_iter = (0, 0)

    def __init__(self, state, index, is_dead, start):
        self._state = state
        self._index = index
        self.is_dead = is_dead
        self._start = start

    @property
    def rendezvous(self):
        return self._state.step.rendezvous

    @property
    def step_id(self):
        return self._state.step.step_id

    def done(self, outputs=(), is_dead=False):
        """Finishes the node with `outputs` (a value for one output, a tuple for several)."""
        self._state.async_done(self, outputs, is_dead)

    def fail(self, error):
        """Ends the node (and the step) with `error` (an OpError or any exception)."""
        self._state.async_fail(self, error)

    def on_cancel(self, callback):
        """Calls `callback(error)` if the step is cancelled or fails (at once if it has)."""
        self._state.step.on_abort(callback)


class Step:
    """One run of a plan: the value table, the rendezvous and the completion signal."""

    _next_id = 0
    _id_lock = threading.Lock()

    def __init__(self, vals, pool, num_partitions, collector=None, rendezvous=None,
                 step_id=None):
        if step_id is None:
            with Step._id_lock:
                Step._next_id += 1
                step_id = Step._next_id
        self.step_id = step_id
        self.vals = vals
        self.pool = pool
        self.collector = collector
        # A worker of a distributed session passes its step's remote-capable rendezvous.
        self.rendezvous = LocalRendezvous() if rendezvous is None else rendezvous
        self.error = None
        self.dead = None  # set of dead value slots, created when the first dead value appears
        self.in_flight = {}  # async nodes waiting: id(call) -> op name
        self._remaining = num_partitions
        self._lock = threading.Lock()
        self._abort_callbacks = []
        self.abort_errors = []  # exceptions raised by abort callbacks (also logged)
        self.finished = threading.Event()

    def fail(self, error):
        """Ends the step with `error` (the first error wins) and aborts its rendezvous."""
        with self._lock:
            if self.error is not None:
                return
            self.error = error
            callbacks, self._abort_callbacks = self._abort_callbacks, []
        self._call_abort_callback(self.rendezvous.start_abort, error)
        for callback in callbacks:
            self._call_abort_callback(callback, error)
        self.finished.set()

    def _call_abort_callback(self, callback, error):
        """Runs one cancellation callback (or the rendezvous' abort); its own failure is logged
        and kept in `abort_errors`, never allowed to stop the abort."""
        try:
            callback(error)
        except Exception as e:  # noqa: BLE001
            self.abort_errors.append(e)
            tf_logging.error("Abort callback %r of step %s raised %s: %s (while aborting with: "
                             "%s)", callback, self.step_id, type(e).__name__, e,
                             str(error).split("\n", 1)[0], exc_info=e)

    def on_abort(self, callback):
        with self._lock:
            if self.error is None:
                self._abort_callbacks.append(callback)
                return
        self._call_abort_callback(callback, self.error)

    def partition_done(self):
        with self._lock:
            self._remaining -= 1
            done = self._remaining == 0
        if done:
            self.finished.set()

    def track(self, call, op):
        """Records an asynchronous kernel as waiting (named in deadline errors)."""
        with self._lock:
            self.in_flight[id(call)] = f"{op.name} ({op.type})"

    def untrack(self, call):
        with self._lock:
            self.in_flight.pop(id(call), None)

    def mark_dead(self, start, count):
        with self._lock:
            if self.dead is None:
                self.dead = set()
            self.dead.update(range(start, start + count))


class ExecutorState:
    """The progress of one partition in one step."""

    __slots__ = ("step", "nodes", "pending", "refs", "remaining", "lock", "dead_nodes")

    def __init__(self, part, step):
        self.step = step
        self.nodes = part.nodes
        self.pending = list(part.pending)
        self.refs = list(part.refs)
        self.remaining = len(part.nodes)
        self.lock = threading.Lock()
        self.dead_nodes = None

    def start(self, roots):
        if not self.nodes:
            self.step.partition_done()
            return
        submit = self.step.pool.submit
        for i in roots:
            submit(self.process, i, self._crashed)

    def process(self, i):
        """Runs node `i`, then keeps running the first node each run makes ready."""
        step = self.step
        while step.error is None:
            node = self.nodes[i]
            try:
                ready = self._run_node(node, i)
            except Exception as e:  # noqa: BLE001 - the executor's own code failed
                step.fail(internal_error(node.op, e))
                return
            if not ready:
                return
            submit = step.pool.submit
            for j in ready[1:]:
                submit(self.process, j, self._crashed)
            i = ready[0]

    def _crashed(self, exc):
        """A pool task of this state raised past `process` (a bug): log it, fail the step."""
        tf_logging.error("Executor task of step %s raised %s: %s", self.step.step_id,
                         type(exc).__name__, exc, exc_info=exc)
        self.step.fail(internal_error(None, exc))

    def _run_node(self, node, i):
        """Runs node `i`; returns the nodes it made ready (None if it finishes later or failed).

        Only the kernel (and reading its inputs) counts as the op's own failure; whatever else
        raises here propagates to `process` as an internal error."""
        step = self.step
        vals = step.vals
        is_dead = step.dead is not None and self._inputs_dead(node, i)
        if is_dead and not node.forwards_dead:
            return self._complete_dead(node, i)
        collector = step.collector
        start = collector.now() if collector is not None else 0.0
        try:
            args = self._args(node, vals, is_dead)
            if node.is_async:
                call = AsyncCall(self, i, is_dead, start)
                step.track(call, node.op)
                node.fn(node.ctx, call, *args)
                return None
            outputs = node.fn(node.ctx, *args)
        except Exception as e:  # noqa: BLE001 - every kernel failure is reported against its op
            step.fail(op_error(node.op, e, [vals[s] for s in node.ins]))
            return None
        store_outputs(vals, node, outputs)
        if collector is not None:
            self._record(node, start, collector.now())
        return self._complete(node)

    @staticmethod
    def _args(node, vals, is_dead):
        if is_dead:
            return [None] * len(node.ins)
        if node.deref is None:
            return [vals[s] for s in node.ins]
        return [vals[s].get() if d else vals[s] for s, d in zip(node.ins, node.deref)]

    def _inputs_dead(self, node, i):
        dead = self.step.dead
        if any(s in dead for s in node.ins):
            return True
        dead_nodes = self.dead_nodes
        return dead_nodes is not None and any(p in dead_nodes for p in node.preds)

    def _complete_dead(self, node, i):
        self._mark_node_dead(node, i)
        return self._complete(node)

    def _mark_node_dead(self, node, i):
        """Marks node `i` dead: its outputs, and itself for the nodes it is a control input of."""
        self.step.mark_dead(node.out, node.n_out)  # (also with no outputs: step.dead is set)
        with self.lock:
            if self.dead_nodes is None:
                self.dead_nodes = set()
            self.dead_nodes.add(i)

    def _complete(self, node):
        """Counts `node` done: returns the successors it made ready, frees spent values."""
        ready = []
        with self.lock:
            pending = self.pending
            for j in node.succ:
                pending[j] -= 1
                if not pending[j]:
                    ready.append(j)
            if node.frees:
                refs, vals = self.refs, self.step.vals
                for r, s in node.frees:
                    refs[r] -= 1
                    if not refs[r]:
                        vals[s] = None
            self.remaining -= 1
            finished = not self.remaining
        if finished:
            self.step.partition_done()
        return ready

    def _record(self, node, start, end, op_end=None):
        vals = self.step.vals
        outputs = vals[node.out:node.out + node.n_out]
        self.step.collector.record(node.op, node.device_name, start, start,
                                   end if op_end is None else op_end, end, outputs,
                                   node.input_names, [vals[s] for s in node.ins])

    # ---- asynchronous completion --------------------------------------------------------------
    def async_done(self, call, outputs, is_dead):
        """Finishes an asynchronous node (from whatever thread its kernel completes on)."""
        step = self.step
        node = self.nodes[call._index]
        try:
            step.untrack(call)
            if step.error is not None:
                return
            if is_dead:
                self._mark_node_dead(node, call._index)
            else:
                store_outputs(step.vals, node, outputs)
            if step.collector is not None:
                self._record(node, call._start, step.collector.now())
            ready = self._complete(node)
        except Exception as e:  # noqa: BLE001 - never raise into the completing thread
            step.fail(internal_error(node.op, e))
            return
        submit = step.pool.submit
        for j in ready:
            submit(self.process, j, self._crashed)

    def async_fail(self, call, error):
        step = self.step
        node = self.nodes[call._index]
        step.untrack(call)
        step.fail(error if step.error is not None else op_error(node.op, error, []))


def store_outputs(vals, node, outputs):
    """Puts a kernel's outputs (one value, or a sequence of n_out) into their slots."""
    if node.n_out == 1:
        vals[node.out] = outputs
    elif node.n_out:
        if len(outputs) != node.n_out:
            raise errors.InternalError(
                None, node.op, f"{node.op.type} kernel finished with {len(outputs)} outputs, "
                               f"required {node.n_out}")
        vals[node.out:node.out + node.n_out] = outputs


def op_error(op, exc, inputs):
    """`exc` as a TF error against `op` (an error already naming another op passes through)."""
    if isinstance(exc, errors.OpError) and exc.op is not None and exc.op is not op:
        return exc
    return kernel_binding.op_error(op, exc, inputs)


def internal_error(op, exc):
    """`exc` from the executor's own code while handling `op`, as an InternalError naming it."""
    return kernel_binding.internal_error(op, exc)
