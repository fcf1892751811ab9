"""tf.Session("grpc://host:port"): a client of a cluster's master.

The client flattens fetches and checks feeds as the local Session does, then hands the step
to the master by tensor names. When the target is a server of this very process (the common
between-graph replication script: `server = tf.train.Server(...)`,
`tf.Session(server.target)`), the master gets the client's graph object and runs the step by
direct calls; otherwise the client sends its GraphDef (CreateSession, ExtendSession when the
graph has grown) and every step travels as a RunStep call.
"""
import grpc

from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.runtime import fetches as fetch_lib
from tensorflux.runtime import session as session_lib
from tensorflux.distributed import channels as channels_lib
from tensorflux.distributed import server as server_lib
from tensorflux.distributed import wire


class _LocalMaster:
    """The master of a server in this process: direct calls on the live graph."""

    def __init__(self, master):
        self.master = master
        self._session = None

    def run(self, graph, config, feeds, fetches, targets, options, run_metadata):
        if self._session is None:
            self._session = self.master.create_session(graph, config)
        return self._session.run(feeds, fetches, targets, options, run_metadata)

    def close(self):
        if self._session is not None:
            self.master.close_session(self._session.handle)
            self._session = None

    def abort_running(self, error):
        if self._session is not None:
            self._session.abort_running(error)

    def reset(self, containers, config):
        self.master.reset(containers, config.device_filters if config is not None else ())

    def list_devices(self, config):
        return self.master.list_devices(config)


class _RemoteMaster:
    """A master in another process: the graph travels as a GraphDef, steps as RunStep."""

    def __init__(self, target, config):
        self.address = channels_lib.grpc_address(target)
        self._channel = channels_lib.open_channel(self.address)
        self._handle = None
        self._version = None

    def _call(self, method, request, response_cls, timeout=channels_lib.CONTROL_DEADLINE_SECS):
        stub = self._channel.unary_unary(f"/{wire.MASTER_SERVICE}/{method}",
                                         response_deserializer=response_cls.FromString)
        try:
            return stub(request.SerializeToString(), timeout=timeout)
        except grpc.RpcError as e:
            raise wire.error_from_rpc(e, f"{method} on master {self.address}") from None

    def _sync_graph(self, graph, config):
        version = graph.version
        if self._handle is None:
            request = wire.M.CreateSessionRequest(graph_def=graph.as_graph_def(), config=config)
            self._handle = self._call("CreateSession", request,
                                      wire.M.CreateSessionResponse).session_handle
        elif version != self._version:
            request = wire.M.ExtendSessionRequest(session_handle=self._handle,
                                                  graph_def=graph.as_graph_def())
            self._call("ExtendSession", request, wire.M.ExtendSessionResponse)
        self._version = version

    def run(self, graph, config, feeds, fetches, targets, options, run_metadata):
        self._sync_graph(graph, config)
        request = wire.M.RunStepRequest(session_handle=self._handle,
                                        feed=[wire.named(n, v) for n, v in feeds],
                                        fetch=fetches, target=targets)
        if options is not None:
            request.options.CopyFrom(options)
        timeout = (options.timeout_in_ms if options is not None else 0) or \
            config.operation_timeout_in_ms
        deadline = timeout / 1000.0 + 5.0 if timeout > 0 else channels_lib.STEP_DEADLINE_SECS
        response = self._call("RunStep", request, wire.M.RunStepResponse, deadline)
        if run_metadata is not None and response.HasField("metadata"):
            run_metadata.MergeFrom(response.metadata)
        return [wire.from_proto(t.tensor) for t in response.tensor]

    def close(self):
        if self._handle is not None:
            try:
                self._call("CloseSession",
                           wire.M.CloseSessionRequest(session_handle=self._handle),
                           wire.M.CloseSessionResponse)
            except errors.OpError:
                pass  # the master is gone: nothing left to close
            self._handle = None
        self._channel.close()

    def reset(self, containers, config):
        self._call("Reset", wire.M.ResetRequest(container=containers or []),
                   wire.M.ResetResponse)

    def list_devices(self, config):
        return self._call("ListDevices", wire.M.ListDevicesRequest(),
                          wire.M.ListDevicesResponse).device


def _master_for(target, config):
    server = server_lib.local_server(target)
    if server is not None:
        return _LocalMaster(server.master)
    return _RemoteMaster(target, config)


class DistributedSession(session_lib.Session):
    """A Session whose steps run on a cluster (made by tf.Session for 'grpc://' targets)."""

    def __init__(self, target, graph=None, config=None):
        super().__init__(target, graph, config)
        self._master = _master_for(target, self._config)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops and computes the tensors in `fetches` on the cluster."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        handler = fetch_lib.FetchHandler(self._graph, fetches)
        feed_tensors, feed_values = self._process_feeds(feed_dict)
        feeds = [(t.name, v) for t, v in zip(feed_tensors, feed_values)]
        values = self._master.run(self._graph, self._config, feeds,
                                  [t.name for t in handler.tensors],
                                  [op.name for op in handler.targets], options, run_metadata)
        return handler.build(values)

    def close(self):
        """Closes the session on the master (its registered graphs are dropped); idempotent."""
        if not self._closed:
            self._master.close()
        super().close()

    def cancel_running_steps(self, error):
        """Ends this session's steps in flight with `error`, on every task; the session stays
        open (a hook ending a queue runner that waits on a parameter server uses this)."""
        abort = getattr(self._master, "abort_running", None)
        if abort is None:
            raise errors.UnimplementedError(
                None, None, "Cancelling running steps needs the master in this process")
        abort(error)

    def list_devices(self):
        from tensorflux.runtime.device_mgr import DeviceAttributes
        return [DeviceAttributes(d.name, d.device_type, d.memory_limit, d.incarnation)
                for d in self._master.list_devices(self._config)]

    @staticmethod
    def reset(target, containers=None, config=None):
        """Clears resource containers on every task of the cluster (all when None)."""
        master = _master_for(target, config or protos.ConfigProto())
        try:
            master.reset(list(containers or []), config)
        finally:
            if isinstance(master, _RemoteMaster):
                master.close()


session_lib.register_session_target("grpc://", DistributedSession)
