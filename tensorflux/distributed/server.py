"""tf.train.Server: one task of a cluster, hosting a master and a worker on one gRPC server.

    server = tf.train.Server({"ps": ["localhost:2222"], "worker": ["localhost:2223"]},
                             job_name="ps", task_index=0)
    server.join()

The server binds the address its task has in the cluster ("localhost:2222" binds loopback
only; a host name or 0.0.0.0 must be written to be reachable from elsewhere). A client in the
same process (`tf.Session(server.target)`) reaches its master by direct calls, as TensorFlow's
in-process master does; other processes reach it over gRPC. Messages are limited to
`max_message_bytes` (1 GiB by default) in both directions: a larger tensor fails with
ResourceExhaustedError and the server goes on serving.
"""
import concurrent.futures
import concurrent.futures.thread  # noqa: F401 - its exit hook must be registered before ours
import threading

import grpc

from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.platform import allocator
from tensorflux.runtime import device_mgr as device_lib
from tensorflux.distributed import channels as channels_lib
from tensorflux.distributed import cluster as cluster_lib
from tensorflux.distributed import master as master_lib
from tensorflux.distributed import wire
from tensorflux.distributed import worker as worker_lib

ServerDef = wire.M.ServerDef
_SERVER_THREADS = 128
_servers_lock = threading.Lock()
_servers = {}  # 'host:port' -> Server of this process, until stopped


def task_name(job, index):
    return f"/job:{job}/replica:0/task:{index}"


def _cluster_def(cluster):
    """A ClusterDef from a ClusterSpec, a ClusterDef, or {job: [addresses] or {i: address}}."""
    if isinstance(cluster, protos.ClusterDef):
        return cluster
    return cluster_lib.ClusterSpec(cluster).as_cluster_def()


def make_server_def(server_or_cluster_def, job_name=None, task_index=None, protocol=None,
                    config=None):
    """A ServerDef from what tf.train.Server accepts (TensorFlow's rules for the defaults)."""
    if isinstance(server_or_cluster_def, ServerDef):
        server_def = ServerDef()
        server_def.CopyFrom(server_or_cluster_def)
        if job_name is not None:
            server_def.job_name = job_name
        if task_index is not None:
            server_def.task_index = task_index
    else:
        cluster_def = _cluster_def(server_or_cluster_def)
        if job_name is None:
            if len(cluster_def.job) != 1:
                raise ValueError("Must specify an explicit `job_name`.")
            job_name = cluster_def.job[0].name
        if task_index is None:
            tasks = next((j.tasks for j in cluster_def.job if j.name == job_name), {})
            if len(tasks) != 1:
                raise ValueError("Must specify an explicit `task_index`.")
            task_index = next(iter(tasks))
        server_def = ServerDef(cluster=cluster_def, job_name=job_name, task_index=task_index)
    server_def.protocol = protocol or server_def.protocol or "grpc"
    if config is not None:
        server_def.default_session_config.CopyFrom(config)
    if server_def.protocol != "grpc":
        raise errors.UnimplementedError(
            None, None, f"Server protocol {server_def.protocol!r} is not supported; "
                        "tensorflux servers speak 'grpc'")
    return server_def


def _addresses(server_def):
    return {task_name(job.name, index): address
            for job in server_def.cluster.job for index, address in job.tasks.items()}


class Server:
    """An in-process server: one task of a cluster (TensorFlow's tf.train.Server)."""

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None,
                 config=None, start=True, max_message_bytes=wire.DEFAULT_MAX_MESSAGE_BYTES):
        allocator.tune_once()  # the workers' step temporaries stay in the heap too
        self._server_def = make_server_def(server_or_cluster_def, job_name, task_index,
                                           protocol, config)
        self.task = task_name(self._server_def.job_name, self._server_def.task_index)
        addresses = _addresses(self._server_def)
        if self.task not in addresses:
            raise ValueError(f"Task {self.task} is not defined in the cluster "
                             f"({', '.join(sorted(addresses)) or 'empty'})")
        self._rpc_threads = concurrent.futures.ThreadPoolExecutor(
            _SERVER_THREADS, thread_name_prefix="tensorflux-rpc")
        self._grpc = grpc.server(
            self._rpc_threads,
            options=wire.channel_options(max_message_bytes) + [
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 5000),
                ("grpc.http2.max_ping_strikes", 0)])
        port = self._grpc.add_insecure_port(channels_lib.grpc_address(addresses[self.task]))
        if port == 0:
            raise errors.UnavailableError(
                None, None, f"Could not bind {addresses[self.task]} for {self.task}: the "
                            "address is in use or not on this host")
        host = addresses[self.task].rsplit(":", 1)[0]
        addresses[self.task] = f"{host}:{port}"
        self._set_own_port(port)
        self.address = addresses[self.task]
        session_config = self._server_def.default_session_config
        cpus = session_config.device_count.get("CPU", 1) or 1
        devices = [device_lib.LocalDevice("CPU", i, job=self._server_def.job_name,
                                          task=self._server_def.task_index) for i in range(cpus)]
        self.channels = channels_lib.ChannelCache(addresses, max_message_bytes)
        self.worker = worker_lib.Worker(self.task, device_lib.DeviceMgr(devices), self.channels,
                                        session_config.inter_op_parallelism_threads)
        self.master = master_lib.Master(self.task, sorted(addresses), self.worker, self.channels)
        self._grpc.add_generic_rpc_handlers([
            wire.handlers(wire.WORKER_SERVICE, worker_lib.WorkerServicer(self.worker),
                          worker_lib.WorkerServicer.METHODS, worker_lib.WorkerServicer.STREAMS,
                          worker_lib.WorkerServicer.RAW),
            wire.handlers(wire.MASTER_SERVICE, master_lib.MasterServicer(self.master),
                          master_lib.MasterServicer.METHODS)])
        self._started = False
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        with _servers_lock:
            _servers[self.address] = self
        if start:
            self.start()

    def _set_own_port(self, port):
        for job in self._server_def.cluster.job:
            if job.name == self._server_def.job_name:
                address = job.tasks[self._server_def.task_index]
                job.tasks[self._server_def.task_index] = f"{address.rsplit(':', 1)[0]}:{port}"

    @property
    def server_def(self):
        return self._server_def

    @property
    def target(self):
        """The target string for tf.Session: 'grpc://host:port'."""
        return "grpc://" + self.address

    def start(self):
        """Starts serving (idempotent)."""
        with self._lock:
            if not self._started:
                self._grpc.start()
                self._started = True

    def join(self, timeout=None):
        """Blocks until the server stops (forever unless stop() is called); True if stopped."""
        return self._stopped.wait(timeout)

    def stop(self, grace=0.5):
        """Stops serving, cancels running steps and frees the task's resources."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
        self.master.close_all()  # client steps in flight end on every task, not at a deadline
        self._grpc.stop(grace).wait(grace + 5)
        self.worker.close()
        self.channels.close()
        self._rpc_threads.shutdown(wait=False)
        with _servers_lock:
            if _servers.get(self.address) is self:
                del _servers[self.address]

    @staticmethod
    def create_local_server(config=None, start=True):
        """A single-task server on a free loopback port (job 'local')."""
        return Server({"local": ["localhost:0"]}, protocol="grpc", config=config, start=start)


def _stop_servers():
    """Stops this process's servers at exit, before the interpreter stops thread pools (so a
    late RPC is refused by gRPC, not by a dead executor) and before daemon threads die."""
    with _servers_lock:
        servers = list(_servers.values())
    for server in servers:
        server.stop(grace=1.0)  # answers already computed (a peer's last RunGraph) still go out


threading._register_atexit(_stop_servers)  # noqa: SLF001 - runs before concurrent.futures'


def local_server(target):
    """The Server of this process listening at `target`, or None."""
    address = channels_lib.grpc_address(target)
    with _servers_lock:
        server = _servers.get(address)
    if server is None or server._stopped.is_set():
        return None
    return server
