"""Helpers for distributed tests: in-process clusters on loopback, stopped at teardown."""
import contextlib

import tensorflux as tf
from tensorflux.distributed import launch


@contextlib.contextmanager
def in_process_cluster(num_ps=1, num_workers=1, **server_kwargs):
    """Real servers (real gRPC between tasks) in this process: yields (cluster dict, servers by
    'job/index')."""
    cluster = launch.make_cluster(num_ps, num_workers)
    servers = {}
    try:
        for job, addresses in cluster.items():
            for index in range(len(addresses)):
                servers[f"{job}/{index}"] = tf.train.Server(cluster, job_name=job,
                                                            task_index=index, **server_kwargs)
        yield cluster, servers
    finally:
        for server in servers.values():
            server.stop()
