"""The worker service: runs the subgraphs a master registers, and serves RecvTensor.

A master registers one GraphDef per task and step signature (RegisterGraph): the task's part
of the step, with _Send/_Recv nodes on every edge that leaves or enters the task and a
`_feed/...` Placeholder for every fed tensor it reads. The worker imports it into a Graph of
its own and compiles it with the local runtime (tensorflux.runtime.executor), placed on this
task's devices. RunGraph runs one step of it under the master's step id; its _Sends leave
values in the step's WorkerRendezvous, and its _Recvs of values sent by other tasks fetch them
with RecvTensor from the sending task (the rendezvous key names the sending device, so its
task). State (variables, queues) lives in the server's ResourceMgr, by container and name, and
so outlives client sessions and is shared by every graph registered here.

Graph handles start with this task's incarnation: a handle from before a restart is answered
with AbortedError, so a restarted task is never silently used with empty state.
"""
import contextlib
import itertools
import threading
import time

from tensorflux.framework import errors
from tensorflux.framework import importer
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.runtime import dataflow
from tensorflux.runtime import executor
from tensorflux.runtime import placer as placer_lib
from tensorflux.runtime import rendezvous as rendezvous_lib
from tensorflux.runtime import step_stats
from tensorflux.runtime.resources import ResourceMgr
from tensorflux.distributed import wire

FEED_PREFIX = ".feed/"
CHUNKS_SUFFIX = "#chunks"
_STALE_STEP_SECS = 600.0


def import_graph(graph_def, what):
    """A new Graph holding `graph_def`; InvalidArgumentError naming the call if it is bad."""
    graph = ops.Graph()
    with graph.as_default():
        try:
            importer.import_graph_def(graph_def, name="")
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, f"{what}: {e}") from None
    return graph


def task_of(device_name):
    """'/job:ps/replica:0/task:1' of a full device name."""
    return device_name.rsplit("/device:", 1)[0]


class WorkerRendezvous(rendezvous_lib.Rendezvous):
    """One step's rendezvous on one task: local sends and receives meet in a LocalRendezvous;
    a receive of a value sent by another task is a RecvTensor call to that task."""

    def __init__(self, worker, step_id):
        self._worker = worker
        self.step_id = step_id
        self.local = rendezvous_lib.LocalRendezvous()
        self._lock = threading.Lock()
        self._remote = set()  # callbacks of RecvTensor calls in flight
        self._steps = set()   # the executors' Steps running this step here
        self._aborting = False
        self.touched = time.monotonic()
        self.running_count = 0   # RunGraph calls of this step running here

    def send(self, key, value, is_dead=False):
        self.local.send(key, value, is_dead)

    def recv_async(self, key, callback):
        src_task = task_of(key.split(";", 1)[0])
        if src_task == self._worker.task:
            self.local.recv_async(key, callback)
            return
        error = self.local.aborted_with
        if error is not None:
            callback(error, None, False)
            return
        self._worker.fetch_remote(self, src_task, key, callback)

    def track(self, callback):
        """Records a remote receive; False if the step is aborted already."""
        with self._lock:
            if self._aborting:
                return False
            self._remote.add(callback)
            return True

    def untrack(self, callback):
        """True if `callback` was still waiting (and is now the caller's to call)."""
        with self._lock:
            if callback in self._remote:
                self._remote.discard(callback)
                return True
            return False

    @contextlib.contextmanager
    def running(self, step):
        """While an executor's Step runs here: an abort of this step fails it too (its blocked
        queue or accumulator kernels end at once)."""
        with self._lock:
            self._steps.add(step)
            self.running_count += 1
        try:
            error = self.local.aborted_with
            if error is not None:
                step.fail(error)
            yield
        finally:
            with self._lock:
                self._steps.discard(step)
                self.running_count -= 1

    def start_abort(self, error):
        """Fails local waiters, remote receives and running Steps at once (a RecvTensor call
        that answers later is dropped; the master's AbortStep ends it on the sending task)."""
        with self._lock:
            if self._aborting:
                return
            self._aborting = True
            pending, self._remote = list(self._remote), set()
            steps = list(self._steps)
        self.local.start_abort(error)
        for callback in pending:
            callback(error, None, False)
        for step in steps:
            step.fail(error)

    def _cancel_wait(self, key, callback):
        if self.untrack(callback):
            return True
        return self.local._cancel_wait(key, callback)

    @property
    def aborted_with(self):
        return self.local.aborted_with


class WorkerGraph:
    """A registered subgraph: its Graph, fed placeholders, per-op kernel contexts and plans."""

    def __init__(self, handle, graph, session_handle):
        self.handle = handle
        self.graph = graph
        self.session_handle = session_handle
        self.contexts = {}
        self.plans = {}
        self.lock = threading.Lock()
        self.targets = [op for op in graph.get_operations() if not op.name.startswith(FEED_PREFIX)]


class Worker:
    """The worker service of one task (see the module docstring)."""

    def __init__(self, task, device_mgr, channels, inter_op_threads=0):
        self.task = task
        self.device_mgr = device_mgr
        self.incarnation = device_mgr.devices[0].incarnation
        self.resources = ResourceMgr()
        self._channels = channels
        self._placer = placer_lib.Placer(device_mgr, allow_soft_placement=True)
        self._pool = dataflow.ThreadPool(inter_op_threads, name="tensorflux-worker")
        self._lock = threading.Lock()
        self._graphs = {}
        self._steps = {}
        self._counter = itertools.count(1)
        self._closed = False

    # ---- graphs ------------------------------------------------------------------------------
    def register_graph(self, graph_def, session_handle, incarnation=0):
        """Imports a task's subgraph; returns its handle."""
        self._check_incarnation(incarnation)
        graph = import_graph(graph_def, "RegisterGraph")
        handle = f"{self.incarnation:016x}/{next(self._counter)}"
        with self._lock:
            self._graphs[handle] = WorkerGraph(handle, graph, session_handle)
        return handle

    def deregister_graph(self, handle):
        with self._lock:
            self._graphs.pop(handle, None)

    def _check_incarnation(self, incarnation):
        if incarnation and incarnation != self.incarnation:
            raise errors.AbortedError(
                None, None, f"Task {self.task} has restarted: the master expected incarnation "
                            f"{incarnation:016x}, this task is {self.incarnation:016x}. "
                            "Recreate the session (state on this task is gone).")

    def _graph(self, handle):
        with self._lock:
            graph = self._graphs.get(handle)
        if graph is not None:
            return graph
        if not handle.startswith(f"{self.incarnation:016x}/"):
            raise errors.AbortedError(
                None, None, f"Graph handle {handle!r} is from an earlier incarnation of task "
                            f"{self.task}: the task has restarted or was reset, and its state is "
                            "gone. Recreate the session.")
        raise errors.InvalidArgumentError(
            None, None, f"Graph handle is not found: {handle!r} (task {self.task})")

    def _context_for(self, wgraph):
        def context_for(op, device):
            ctx = wgraph.contexts.get(op)
            if ctx is None:
                ctx = wgraph.contexts[op] = executor.KernelContext(
                    op, device.name, self.resources, None, device.xp)
            return ctx
        return context_for

    def _plan(self, wgraph, feed_names, fetch_names):
        key = (feed_names, fetch_names)
        plan = wgraph.plans.get(key)
        if plan is None:
            with wgraph.lock:
                plan = wgraph.plans.get(key)
                if plan is None:
                    graph = wgraph.graph
                    feeds = [graph.get_tensor_by_name(n) for n in feed_names]
                    fetches = [graph.get_tensor_by_name(n) for n in fetch_names]
                    targets = [op for op in wgraph.targets]
                    plan = executor.compile_plan(feeds, fetches, targets,
                                                 self._context_for(wgraph), self._placer, graph)
                    wgraph.plans[key] = plan
        return plan

    # ---- steps -------------------------------------------------------------------------------
    def step(self, step_id):
        """The rendezvous of step `step_id` on this task (created by whoever comes first)."""
        with self._lock:
            if self._closed:
                raise errors.CancelledError(None, None, f"Task {self.task} is shutting down")
            rendezvous = self._steps.get(step_id)
            if rendezvous is None:
                rendezvous = self._steps[step_id] = WorkerRendezvous(self, step_id)
            rendezvous.touched = time.monotonic()
            return rendezvous

    def cleanup_steps(self, step_ids):
        with self._lock:
            for step_id in step_ids:
                self._steps.pop(step_id, None)
            now = time.monotonic()
            stale = [s for s, r in self._steps.items()
                     if not r.running_count and now - r.touched > _STALE_STEP_SECS]
            for step_id in stale:
                del self._steps[step_id]

    def abort_step(self, step_id, error):
        self.step(step_id).start_abort(error)

    def run_graph(self, handle, step_id, feeds, fetch_names, timeout=None, completed=(),
                  collector=None):
        """Runs one step of a registered graph; returns the fetched values in order.

        Args:
          feeds: [(placeholder tensor name, value)].
          fetch_names: names of tensors of the graph to return.
          timeout: seconds the step may take (None: no limit).
          completed: ids of this master's earlier steps that have finished everywhere.
        """
        if completed:
            self.cleanup_steps(completed)
        wgraph = self._graph(handle)
        plan = self._plan(wgraph, tuple(n for n, _ in feeds), tuple(fetch_names))
        values = [v for _, v in feeds]
        if plan.inline:
            return plan.run_traced(values, collector) if collector else plan.run(values)
        rendezvous = self.step(step_id)
        try:
            return plan.run(values, self._pool, timeout, collector, rendezvous.running,
                            rendezvous, step_id)
        except errors.OpError as e:
            rendezvous.start_abort(e)  # peers waiting in RecvTensor on this step learn of it
            raise

    # ---- RecvTensor --------------------------------------------------------------------------
    def recv_tensor(self, step_id, key, timeout, on_rpc_end):
        """Waits for `key` of step `step_id` here; returns RecvTensor's answer (bytes).

        `on_rpc_end(fn)` registers `fn` to run if the caller goes away first (cancelled
        RPC): the wait is then withdrawn instead of holding a server thread. A tensor too
        large for one answer stays here, under the key + '#chunks', for RecvTensorChunks."""
        rendezvous_lib.parse_key(key)
        local = self.step(step_id).local
        done = threading.Event()
        box = []

        def received(error, value, is_dead):
            box.append((error, value, is_dead))
            done.set()

        def withdraw():
            if not done.is_set() and local._cancel_wait(key, received):
                received(errors.CancelledError(None, None, "RecvTensor call ended"), None,
                         False)
        local.recv_async(key, received)
        on_rpc_end(withdraw)
        if not done.wait(timeout) and local._cancel_wait(key, received):
            raise errors.DeadlineExceededError(
                None, None, f"Timed out waiting for {key!r} of step {step_id} on {self.task}")
        done.wait()
        error, value, is_dead = box[0]
        if error is not None:
            raise error
        answer, rest = wire.encode_response(value, is_dead)
        if rest is not None:
            local.send(key + CHUNKS_SUFFIX, rest)
        return answer

    def recv_chunks(self, step_id, key, timeout):
        """The frames of a large tensor RecvTensor announced as chunked."""
        rendezvous_lib.parse_key(key)
        value, _ = self.step(step_id).local.recv(key + CHUNKS_SUFFIX, timeout)
        return wire.encode_chunks(value)

    def fetch_remote(self, rendezvous, src_task, key, callback):
        """Asks `src_task` for `key` (RecvTensor, then RecvTensorChunks for a large tensor) in
        a thread of the channels' pool; `callback` gets the value or the error, once."""
        if not rendezvous.track(callback):
            callback(rendezvous.aborted_with, None, False)
            return
        self._channels.executor.submit(self._fetch, rendezvous, src_task, key, callback)

    def _fetch(self, rendezvous, src_task, key, callback):
        request = wire.M.RecvTensorRequest(step_id=rendezvous.step_id,
                                           rendezvous_key=key).SerializeToString()
        deadline = self._channels.step_deadline
        try:
            answer = self._channels.stub(src_task, wire.WORKER_SERVICE, "RecvTensor",
                                         raw=True)(request, timeout=deadline)
            value, is_dead, header = wire.decode_response(answer)
            if header.chunked:
                frames = self._channels.stub(src_task, wire.WORKER_SERVICE, "RecvTensorChunks",
                                             stream=True)(request, timeout=deadline)
                value = wire.decode_chunks(header, iter(frames))
        except Exception as e:  # noqa: BLE001 - every failure reaches the waiting _Recv
            if rendezvous.untrack(callback):
                error = e if isinstance(e, errors.OpError) else wire.error_from_rpc(
                    e, f"RecvTensor from {src_task} for {key}")
                callback(error, None, False)
            return
        if rendezvous.untrack(callback):
            callback(None, value, is_dead)

    # ---- misc --------------------------------------------------------------------------------
    def reset(self, containers):
        """Clears resource containers (all when empty) and forgets every registered graph."""
        with self._lock:
            self._graphs.clear()
        if containers:
            for container in containers:
                self.resources.clear(container)
        else:
            self.resources.clear()

    def device_attributes(self):
        return [wire.M.DeviceAttrs(name=d.name, device_type=d.device_type,
                                   memory_limit=d.memory_limit_bytes, incarnation=d.incarnation)
                for d in self.device_mgr]

    def close(self):
        with self._lock:
            self._closed = True
            steps, self._steps = list(self._steps.values()), {}
        error = errors.CancelledError(None, None, f"Task {self.task} is shutting down")
        for rendezvous in steps:
            rendezvous.start_abort(error)
        self._pool.shutdown()
        self.resources.clear()


class WorkerServicer:
    """gRPC handlers of the worker service, each mapping errors to status codes."""

    def __init__(self, worker):
        self.worker = worker

    def GetStatus(self, request, context):  # noqa: N802 (RPC name)
        return wire.M.GetStatusResponse(device=self.worker.device_attributes(),
                                        task=self.worker.task)

    def RegisterGraph(self, request, context):  # noqa: N802
        handle = self.worker.register_graph(request.graph_def, request.session_handle,
                                            request.incarnation)
        return wire.M.RegisterGraphResponse(graph_handle=handle)

    def DeregisterGraph(self, request, context):  # noqa: N802
        self.worker.deregister_graph(request.graph_handle)
        return wire.M.DeregisterGraphResponse()

    def RunGraph(self, request, context):  # noqa: N802
        feeds = [(t.name, wire.from_proto(t.tensor)) for t in request.send]
        timeout = request.timeout_ms / 1000.0 if request.timeout_ms > 0 else None
        collector = step_stats.StepStatsCollector() if request.trace else None
        values = self.worker.run_graph(request.graph_handle, request.step_id, feeds,
                                       list(request.recv_key), timeout,
                                       list(request.completed_step), collector)
        response = wire.M.RunGraphResponse(
            recv=[wire.named(n, v) for n, v in zip(request.recv_key, values)])
        if collector is not None:
            metadata = protos.RunMetadata()
            collector.finalize(metadata)
            response.step_stats.CopyFrom(metadata.step_stats)
        return response

    def AbortStep(self, request, context):  # noqa: N802
        cls = errors.exception_type_from_error_code(request.code or errors.ABORTED)
        self.worker.abort_step(request.step_id, cls(None, None, request.message))
        return wire.M.AbortStepResponse()

    def RecvTensor(self, request, context):  # noqa: N802
        return self.worker.recv_tensor(request.step_id, request.rendezvous_key,
                                       context.time_remaining(), context.add_callback)

    def RecvTensorChunks(self, request, context):  # noqa: N802
        return self.worker.recv_chunks(request.step_id, request.rendezvous_key,
                                       context.time_remaining())

    def Reset(self, request, context):  # noqa: N802
        self.worker.reset(list(request.container))
        return wire.M.ResetResponse()

    METHODS = {"GetStatus": wire.M.GetStatusRequest,
               "RegisterGraph": wire.M.RegisterGraphRequest,
               "DeregisterGraph": wire.M.DeregisterGraphRequest,
               "RunGraph": wire.M.RunGraphRequest, "AbortStep": wire.M.AbortStepRequest,
               "RecvTensor": wire.M.RecvTensorRequest,
               "RecvTensorChunks": wire.M.RecvTensorRequest, "Reset": wire.M.ResetRequest}
    STREAMS = ("RecvTensorChunks",)
    RAW = ("RecvTensor",)

