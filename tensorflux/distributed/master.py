"""The master: sessions over a cluster. It prunes, places across tasks, partitions, registers
each task's subgraph once per step signature, and runs a step with one RunGraph per task.

    client ──RunStep──► master ──RegisterGraph (once per signature)──► worker of each task
                                ──RunGraph (every step, in parallel)──► worker of each task
                                                  worker ◄──RecvTensor──► worker

Placement and partitioning are the local runtime's (tensorflux.runtime.placer/partition) over
the devices of every task the session may use (`ConfigProto.device_filters`); ops without a
device constraint go to the master's own task. A fed tensor reaches each task that reads it as
a `_feed/` Placeholder the master fills in RunGraph. Step ids are random 63-bit numbers, so
the masters of several clients never collide in a worker's rendezvous table.

If one task's part of a step fails, the master aborts the step on every other task (their
pending _Recvs end with the error) and returns the first error: AbortedError or
UnavailableError when a task restarted or went away.
"""
import itertools
import logging
import random
import re
import threading
import time

from tensorflux.framework import device as pydev
from tensorflux.framework import errors
from tensorflux.framework import function
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import attr_values
from tensorflux.runtime import control_flow_executor
from tensorflux.runtime import device_mgr as device_lib
from tensorflux.runtime import executor
from tensorflux.runtime import partition as partition_lib
from tensorflux.runtime import placer as placer_lib
from tensorflux.distributed import wire
from tensorflux.distributed.worker import FEED_PREFIX, import_graph, task_of

_log = logging.getLogger("tensorflux.distributed")
_WAIT_LOG_SECS = 10.0
WIRE_PREFIX = ".tfx"
_OP_IN_ERROR = re.compile(r"\[\[\w+ op '([^']+)'")
_CREATED_AT = re.compile(r"Op created at: \S+")
DEFAULT_CONNECT_SECS = 120.0


class _TaskPart:
    """One task's share of a compiled step."""

    __slots__ = ("task", "client", "handle", "feeds", "fetches", "positions")

    def __init__(self, task, client):
        self.task = task
        self.client = client
        self.handle = None
        self.feeds = []      # (placeholder tensor name, index into the step's feeds)
        self.fetches = []    # tensor names in this task's graph
        self.positions = []  # where each fetched value goes in the step's results


class _StepPlan:
    def __init__(self, parts, fed_fetches, num_fetches):
        self.parts = parts
        self.fed_fetches = fed_fetches  # (result position, feed index)
        self.num_fetches = num_fetches


class MasterSession:
    """One client session on the master: a graph, the cluster's devices, compiled steps."""

    def __init__(self, master, handle, graph, config):
        self.master = master
        self.handle = handle
        self.graph = graph
        self.config = config or protos.ConfigProto()
        self._lock = threading.Lock()
        self._plans = {}
        self._completed = {}   # task -> step ids to report done with its next RunGraph
        self._running = {}     # step id -> plan, for close() and abort_running()
        self._closed = False
        self.clients = master.clients_for(self.config.device_filters)
        self.incarnations = {}
        self.device_mgr = self._discover_devices()
        self.placer = placer_lib.Placer(self.device_mgr, self.config.allow_soft_placement,
                                        self.config.log_device_placement)

    # ---- devices -----------------------------------------------------------------------------
    def _discover_devices(self):
        """Every device of every task in reach, the master's own task first (ops without a
        device constraint go there). Waits for tasks that are not up yet."""
        timeout = self.config.operation_timeout_in_ms / 1000.0 or self.master.connect_secs
        deadline = time.monotonic() + timeout
        devices = []
        own = self.master.task
        for task in sorted(self.clients, key=lambda t: (t != own, t)):
            for attrs in self._status_of(task, deadline):
                spec = pydev.DeviceSpec.from_string(attrs.name)
                device = device_lib.LocalDevice(attrs.device_type, spec.device_index,
                                                job=spec.job, replica=spec.replica or 0,
                                                task=spec.task or 0,
                                                memory_limit_bytes=attrs.memory_limit)
                device.incarnation = attrs.incarnation
                self.incarnations[task] = attrs.incarnation
                devices.append(device)
        return device_lib.DeviceMgr(devices)

    def _status_of(self, task, deadline):
        client = self.clients[task]
        last_log = time.monotonic()
        while True:
            try:
                return client.get_status()
            except errors.UnavailableError as e:
                now = time.monotonic()
                if now >= deadline:
                    raise errors.UnavailableError(
                        None, None, f"CreateSession: task {task} did not answer within "
                                    f"{deadline - now + (now - last_log):.0f}s: {e.message}. "
                                    "Is it running? ConfigProto.device_filters can leave tasks "
                                    "out of a session.") from None
                if now - last_log >= _WAIT_LOG_SECS:
                    _log.warning("CreateSession still waiting for response from worker: %s",
                                 task)
                    last_log = now
                time.sleep(0.1)

    # ---- compile -----------------------------------------------------------------------------
    def plan_for(self, feed_names, fetch_names, target_names):
        key = (feed_names, fetch_names, target_names)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                if self._closed:
                    raise errors.CancelledError(None, None, "Session has been closed.")
                plan = self._plans.get(key)
                if plan is None:
                    plan = self._plans[key] = self._compile(feed_names, fetch_names,
                                                            target_names)
        return plan

    def _compile(self, feed_names, fetch_names, target_names):
        graph = self.graph
        feeds = [graph.as_graph_element(n, allow_operation=False) for n in feed_names]
        fetches = [graph.as_graph_element(n, allow_operation=False) for n in fetch_names]
        targets = [graph.as_graph_element(n, allow_tensor=False) for n in target_names]
        fed = set(feeds)
        order = executor.topological_order(executor.prune(fetches, targets, fed), fed)
        assignment = self.placer.place(graph, order)
        partitions = partition_lib.partition(order, assignment, fed, self.device_mgr.devices)
        _refuse_loops_across_tasks(order, assignment)
        parts = {}
        for part in partitions:
            task = task_of(part.device.name)
            if task not in parts:
                parts[task] = (_TaskPart(task, self.clients[task]), [])
            parts[task][1].append(part)
        feed_index = {t: i for i, t in enumerate(feeds)}
        fed_fetches = []
        for position, t in enumerate(fetches):
            if t in fed:
                fed_fetches.append((position, feed_index[t]))
                continue
            task_part = parts[task_of(assignment[t.op].name)][0]
            task_part.fetches.append(t.name)
            task_part.positions.append(position)
        plan_parts = []
        for task_part, task_partitions in parts.values():
            graph_def = _task_graph_def(task_partitions, fed, feed_index, task_part)
            task_part.handle = task_part.client.register_graph(
                graph_def, self.handle, self.incarnations.get(task_part.task, 0))
            plan_parts.append(task_part)
        return _StepPlan(plan_parts, fed_fetches, len(fetches))

    # ---- run ---------------------------------------------------------------------------------
    def run(self, feeds, fetch_names, target_names, options=None, run_metadata=None):
        """Runs one step. `feeds` is [(tensor name, array)]; returns the fetched arrays."""
        if self._closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        plan = self.plan_for(tuple(n for n, _ in feeds), tuple(fetch_names),
                             tuple(target_names))
        values = [v for _, v in feeds]
        timeout = _timeout(options, self.config)
        trace = options is not None and options.trace_level >= protos.RunOptions.FULL_TRACE
        step_id = random.getrandbits(63) or 1
        results = [None] * plan.num_fetches
        for position, index in plan.fed_fetches:
            results[position] = values[index]
        with self._lock:
            self._running[step_id] = plan
        try:
            outcomes = self._run_parts(plan, step_id, values, timeout, trace)
        finally:
            with self._lock:
                self._running.pop(step_id, None)
        error = _first_error([o for o in outcomes if isinstance(o, BaseException)])
        with self._lock:  # the tasks drop the step's rendezvous with their next RunGraph
            for part in plan.parts:
                self._completed.setdefault(part.task, []).append(step_id)
        if error is not None:
            self._abort(plan, step_id, error)
            raise self._with_client_site(error)
        for part, (fetched, stats) in zip(plan.parts, outcomes):
            for position, value in zip(part.positions, fetched):
                results[position] = value
            if run_metadata is not None and stats is not None:
                run_metadata.step_stats.dev_stats.extend(stats.dev_stats)
        return results

    def _run_parts(self, plan, step_id, values, timeout, trace):
        """Starts every task's RunGraph at once (the master's own task last, in this thread);
        the first failure aborts the step everywhere so no part waits for a dead peer."""
        calls = []
        aborted = threading.Event()
        local = None
        for part in plan.parts:
            feeds = [(name, values[index]) for name, index in part.feeds]
            with self._lock:
                completed = self._completed.pop(part.task, ())
            run = part.client.run_graph_async(part.handle, step_id, feeds, part.fetches,
                                              timeout, completed, trace)
            if run is None:  # an in-process worker: run it below, in this thread
                local = (len(calls), part, feeds, completed)
                calls.append(None)
                continue

            def on_done(future, part=part):
                if future.exception() is not None and not aborted.is_set():
                    aborted.set()
                    self._abort(plan, step_id, future.exception(), skip=part.task)
            run.add_done_callback(on_done)
            calls.append(run)
        outcomes = [None] * len(calls)
        if local is not None:
            k, part, feeds, completed = local
            try:
                outcomes[k] = part.client.run_graph(part.handle, step_id, feeds, part.fetches,
                                                    timeout, completed, trace)
            except Exception as e:  # noqa: BLE001 - reported with the others below
                outcomes[k] = e
                if not aborted.is_set():
                    aborted.set()
                    self._abort(plan, step_id, e, skip=part.task)
        for k, run in enumerate(calls):
            if run is not None:
                try:
                    outcomes[k] = run.result()
                except Exception as e:  # noqa: BLE001
                    outcomes[k] = e
        return outcomes

    def _with_client_site(self, error):
        """`error` naming where the client created the failing op (a worker only knows where
        it imported it) and with the client graph's op."""
        match = _OP_IN_ERROR.search(error.message)
        if match is None:
            return error
        try:
            op = self.graph.get_operation_by_name(match.group(1))
        except (KeyError, ValueError):
            return error
        message = error.message[:match.end()] + _CREATED_AT.sub(
            op._created_at_text(), error.message[match.end():], count=1)
        return type(error)(error.node_def, op, message)

    def _abort(self, plan, step_id, error, skip=None):
        code = error.error_code if isinstance(error, errors.OpError) else errors.ABORTED
        message = error.message if isinstance(error, errors.OpError) else str(error)
        for part in plan.parts:
            if part.task != skip:
                part.client.abort_step(step_id, code, message)

    def abort_running(self, error):
        """Aborts every step of this session in flight, on every task (their blocked kernels
        end with `error`)."""
        with self._lock:
            running = list(self._running.items())
        for step_id, plan in running:
            self._abort(plan, step_id, error)

    def close(self):
        """Cancels the steps in flight and drops the registered graphs."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            plans, self._plans = list(self._plans.values()), {}
        self.abort_running(errors.CancelledError(None, None, "Session has been closed: the "
                                                             "step was cancelled."))
        for plan in plans:
            for part in plan.parts:
                part.client.deregister_graph(part.handle)


def _timeout(options, config):
    ms = options.timeout_in_ms if options is not None else 0
    if ms <= 0:
        ms = config.operation_timeout_in_ms
    return ms / 1000.0 if ms > 0 else None


def _first_error(exceptions):
    """The error that explains a failed step: not a cancellation caused by the abort."""
    if not exceptions:
        return None
    for e in exceptions:
        if not isinstance(e, errors.CancelledError):
            return e if isinstance(e, errors.OpError) else errors.InternalError(
                None, None, f"{type(e).__name__}: {e}")
    return exceptions[0]


def _task_graph_def(partitions, fed, feed_index, task_part):
    """One task's partitions as a GraphDef; fed tensors become `_feed/` Placeholders."""
    graph_def = protos.GraphDef()
    feed_nodes = {}
    for part in partitions:
        for pnode in part.nodes:
            node_def = graph_def.node.add()
            node_def.CopyFrom(attr_values.node_def_of(pnode.op))
            node_def.name = wire_name(node_def.name)
            del node_def.input[:]
            for t in pnode.inputs:
                if t in fed:
                    name = feed_nodes.get(t)
                    if name is None:
                        name = feed_nodes[t] = _feed_placeholder(graph_def, t, part.device)
                        task_part.feeds.append((name + ":0", feed_index[t]))
                    node_def.input.append(name)
                else:
                    node_def.input.append(wire_name(t._as_node_def_input()))
            node_def.input.extend("^" + wire_name(c.name) for c in pnode.control_inputs)
            node_def.device = part.device.name
    function.write_library_of([pnode.op for part in partitions for pnode in part.nodes],
                              graph_def.library)
    return graph_def


def wire_name(name):
    """The partitioner's own nodes (_send_.., _recv_..) renamed to names GraphDefs allow."""
    return WIRE_PREFIX + name if name.startswith("_") else name


def _feed_placeholder(graph_def, tensor, device):
    node = graph_def.node.add(name=f"{FEED_PREFIX}{tensor.op.name}/{tensor.value_index}",
                              op="Placeholder", device=device.name)
    node.attr["dtype"].type = tensor.dtype.base_dtype.as_datatype_enum
    node.attr["shape"].shape.CopyFrom(tensor.get_shape().as_proto())
    return node.name


def _refuse_loops_across_tasks(order, assignment):
    """UnimplementedError if a while loop's body has an edge between two tasks."""
    if not control_flow_executor.has_control_flow(order):
        return
    in_loop = set()
    consumers = {}
    for op in order:
        for t in op._inputs:
            consumers.setdefault(t.op, []).append(op)
    stack = [op for op in order if op.type in ("Enter", "RefEnter")]
    while stack:
        op = stack.pop()
        if op in in_loop or op.type in ("Exit", "RefExit"):
            continue
        in_loop.add(op)
        stack.extend(consumers.get(op, ()))
    for op in in_loop:
        for t in op._inputs:
            if t.op in in_loop and task_of(assignment[t.op].name) != task_of(
                    assignment[op].name):
                raise errors.UnimplementedError(
                    None, op, f"While loop with an edge between tasks ({t.name} on "
                              f"{assignment[t.op].name} -> '{op.name}' on "
                              f"{assignment[op].name}): tensorflux runs a loop's body within "
                              f"one task; place the loop on one task. {op._created_at_text()}")


class Master:
    """The master service of one server: its sessions and its clients of every task."""

    def __init__(self, task, cluster_tasks, local_worker, channels,
                 connect_secs=DEFAULT_CONNECT_SECS):
        self.task = task
        self.cluster_tasks = cluster_tasks  # sorted task names
        self.local_worker = local_worker
        self.channels = channels
        self.connect_secs = connect_secs
        self._sessions = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._clients = {}

    def clients_for(self, device_filters):
        """WorkerClients of the tasks that the filters let in (every task without filters)."""
        specs = [pydev.DeviceSpec.from_string(f) for f in device_filters]
        chosen = {}
        for task in self.cluster_tasks:
            task_spec = pydev.DeviceSpec.from_string(task)
            if specs and not any(_task_matches(s, task_spec) for s in specs):
                continue
            chosen[task] = self._client(task)
        if not chosen:
            raise errors.InvalidArgumentError(
                None, None, f"No task matches device_filters {list(device_filters)}; the cluster "
                            f"has {', '.join(self.cluster_tasks)}")
        return chosen

    def _client(self, task):
        from tensorflux.distributed.worker_client import GrpcWorkerClient, LocalWorkerClient
        with self._lock:
            client = self._clients.get(task)
            if client is None:
                client = (LocalWorkerClient(self.local_worker) if task == self.task
                          else GrpcWorkerClient(task, self.channels))
                self._clients[task] = client
            return client

    def create_session(self, graph, config=None):
        handle = f"{self.task}/session:{next(self._counter)}:{random.getrandbits(32):08x}"
        session = MasterSession(self, handle, graph, config)
        with self._lock:
            self._sessions[handle] = session
        return session

    def create_session_from_graph_def(self, graph_def, config=None):
        return self.create_session(import_graph(graph_def, "CreateSession"), config)

    def session(self, handle):
        with self._lock:
            session = self._sessions.get(handle)
        if session is None:
            raise errors.AbortedError(
                None, None, f"Session handle is not found: {handle!r}. The master may have "
                            "restarted; recreate the session.")
        return session

    def extend_session(self, handle, graph_def):
        """Replaces a remote client's graph by a larger one (its ops so far plus new ones)."""
        old = self.session(handle)
        session = MasterSession(self, handle, import_graph(graph_def, "ExtendSession"),
                                old.config)
        with self._lock:
            self._sessions[handle] = session
        old.close()

    def close_session(self, handle):
        with self._lock:
            session = self._sessions.pop(handle, None)
        if session is not None:
            session.close()

    def close_all(self):
        """Closes every session (their steps in flight are cancelled on every task)."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def reset(self, containers, device_filters=()):
        """Clears containers on every task (TensorFlow's Session.reset) and closes sessions."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()
        for client in self.clients_for(device_filters).values():
            client.reset(containers)

    def list_devices(self, config=None):
        session = MasterSession(self, "list-devices", ops.Graph(), config)
        return [wire.M.DeviceAttrs(name=d.name, device_type=d.device_type,
                                   memory_limit=d.memory_limit_bytes, incarnation=d.incarnation)
                for d in session.device_mgr]


def _task_matches(filter_spec, task_spec):
    for field in ("job", "replica", "task"):
        want = getattr(filter_spec, field)
        if want is not None and want != getattr(task_spec, field):
            return False
    return True


class MasterServicer:
    """gRPC handlers of the master service (remote clients)."""

    def __init__(self, master):
        self.master = master

    def CreateSession(self, request, context):  # noqa: N802 (RPC name)
        session = self.master.create_session_from_graph_def(request.graph_def, request.config)
        return wire.M.CreateSessionResponse(session_handle=session.handle)

    def ExtendSession(self, request, context):  # noqa: N802
        self.master.extend_session(request.session_handle, request.graph_def)
        return wire.M.ExtendSessionResponse()

    def RunStep(self, request, context):  # noqa: N802
        session = self.master.session(request.session_handle)
        feeds = [(t.name, wire.from_proto(t.tensor)) for t in request.feed]
        options = request.options if request.HasField("options") else None
        metadata = protos.RunMetadata()
        values = session.run(feeds, list(request.fetch), list(request.target), options,
                             metadata)
        return wire.M.RunStepResponse(
            tensor=[wire.named(n, v) for n, v in zip(request.fetch, values)], metadata=metadata)

    def CloseSession(self, request, context):  # noqa: N802
        self.master.close_session(request.session_handle)
        return wire.M.CloseSessionResponse()

    def Reset(self, request, context):  # noqa: N802
        self.master.reset(list(request.container))
        return wire.M.ResetResponse()

    def ListDevices(self, request, context):  # noqa: N802
        return wire.M.ListDevicesResponse(device=self.master.list_devices())

    METHODS = {"CreateSession": wire.M.CreateSessionRequest,
               "ExtendSession": wire.M.ExtendSessionRequest,
               "RunStep": wire.M.RunStepRequest, "CloseSession": wire.M.CloseSessionRequest,
               "Reset": wire.M.ResetRequest, "ListDevices": wire.M.ListDevicesRequest}

