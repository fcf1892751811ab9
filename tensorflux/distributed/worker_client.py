"""How a master reaches a worker: in-process calls to its own task, gRPC to the others.

Both clients have one interface (get_status, register_graph, deregister_graph,
run_graph_async / run_graph, abort_step, reset); gRPC errors come back as TensorFlow errors of
the same code.
"""
import grpc

from tensorflux.framework import errors
from tensorflux.runtime import step_stats
from tensorflux.distributed import wire

_SLACK_SECS = 5.0  # a RunGraph call outlives its step's own deadline by this much


class LocalWorkerClient:
    """The master's own task: direct calls, values stay NumPy arrays."""

    def __init__(self, worker):
        self.worker = worker
        self.task = worker.task

    def get_status(self):
        return self.worker.device_attributes()

    def register_graph(self, graph_def, session_handle, incarnation):
        return self.worker.register_graph(graph_def, session_handle, incarnation)

    def deregister_graph(self, handle):
        self.worker.deregister_graph(handle)

    def run_graph_async(self, *args):
        return None  # the master runs this part in its own thread (run_graph)

    def run_graph(self, handle, step_id, feeds, fetches, timeout, completed, trace):
        from tensorflux.framework import protos
        collector = step_stats.StepStatsCollector() if trace else None
        values = self.worker.run_graph(handle, step_id, feeds, fetches, timeout, completed,
                                       collector)
        stats = None
        if collector is not None:
            metadata = protos.RunMetadata()
            collector.finalize(metadata)
            stats = metadata.step_stats
        return values, stats

    def abort_step(self, step_id, code, message):
        cls = errors.exception_type_from_error_code(code or errors.ABORTED)
        self.worker.abort_step(step_id, cls(None, None, message))

    def reset(self, containers):
        self.worker.reset(containers)


class GrpcWorkerClient:
    """Another task, over the cluster's channels."""

    def __init__(self, task, channels):
        self.task = task
        self.channels = channels

    def _call(self, method, request, response_cls):
        stub = self.channels.stub(self.task, wire.WORKER_SERVICE, method, response_cls)
        try:
            return stub(request.SerializeToString(), timeout=self.channels.control_deadline)
        except grpc.RpcError as e:
            raise wire.error_from_rpc(e, f"{method} on {self.task}") from None

    def get_status(self):
        return self._call("GetStatus", wire.M.GetStatusRequest(),
                          wire.M.GetStatusResponse).device

    def register_graph(self, graph_def, session_handle, incarnation):
        request = wire.M.RegisterGraphRequest(session_handle=session_handle,
                                              graph_def=graph_def, incarnation=incarnation)
        return self._call("RegisterGraph", request, wire.M.RegisterGraphResponse).graph_handle

    def deregister_graph(self, handle):
        request = wire.M.DeregisterGraphRequest(graph_handle=handle)
        self._send_later("DeregisterGraph", request, wire.M.DeregisterGraphResponse)

    def _send_later(self, method, request, response_cls):
        """Sends a call whose answer nobody waits for, from the channels' pool (a dropped
        gRPC future would cancel its call)."""
        stub = self.channels.stub(self.task, wire.WORKER_SERVICE, method, response_cls)
        data = request.SerializeToString()

        def send():
            try:
                stub(data, timeout=self.channels.control_deadline)
            except grpc.RpcError:
                pass  # the task is gone or restarted: there is nothing left to tell it
        try:
            self.channels.executor.submit(send)
        except RuntimeError:
            pass  # the process is shutting down

    def run_graph_async(self, handle, step_id, feeds, fetches, timeout, completed, trace):
        """Starts RunGraph in a thread of the channels' pool: a concurrent Future of
        (values, step stats or None), failing with TensorFlow's error class."""
        request = wire.M.RunGraphRequest(
            graph_handle=handle, step_id=step_id, send=[wire.named(n, v) for n, v in feeds],
            recv_key=fetches, timeout_ms=int(timeout * 1000) if timeout else 0,
            completed_step=completed, trace=trace)
        stub = self.channels.stub(self.task, wire.WORKER_SERVICE, "RunGraph",
                                  wire.M.RunGraphResponse)
        deadline = timeout + _SLACK_SECS if timeout else self.channels.step_deadline
        return self.channels.executor.submit(self._run_graph, stub, request.SerializeToString(),
                                             deadline)

    def _run_graph(self, stub, request, deadline):
        try:
            response = stub(request, timeout=deadline)
        except grpc.RpcError as e:
            raise wire.error_from_rpc(e, f"RunGraph on {self.task}") from None
        values = [wire.from_proto(t.tensor) for t in response.recv]
        stats = response.step_stats if response.HasField("step_stats") else None
        return values, stats

    def abort_step(self, step_id, code, message):
        request = wire.M.AbortStepRequest(step_id=step_id, code=code, message=message)
        self._send_later("AbortStep", request, wire.M.AbortStepResponse)

    def reset(self, containers):
        self._call("Reset", wire.M.ResetRequest(container=containers), wire.M.ResetResponse)
