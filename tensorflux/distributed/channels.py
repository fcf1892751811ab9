"""gRPC channels to the tasks of a cluster, one per task, made on first use.

Every call made through them has a deadline: control calls `control_deadline` seconds,
step calls (RunGraph, RecvTensor) `step_deadline` unless the step has a shorter timeout.
Keepalive pings notice a peer that vanished without closing its connection.
"""
import concurrent.futures
import threading

import grpc

from tensorflux.distributed import wire

CONTROL_DEADLINE_SECS = 30.0
STEP_DEADLINE_SECS = 24 * 3600.0


def grpc_address(address):
    """'host:port' of a target or cluster address ('grpc://host:port' or 'host:port')."""
    return address[len("grpc://"):] if address.startswith("grpc://") else address


class ChannelCache:
    """Channels to the tasks of `cluster` ({'/job:J/replica:0/task:T': 'host:port'})."""

    def __init__(self, addresses, max_message_bytes=wire.DEFAULT_MAX_MESSAGE_BYTES,
                 control_deadline=CONTROL_DEADLINE_SECS, step_deadline=STEP_DEADLINE_SECS):
        self.addresses = dict(addresses)
        self.max_message_bytes = max_message_bytes
        self.control_deadline = control_deadline
        self.step_deadline = step_deadline
        self._channels = {}
        self._stubs = {}
        self._lock = threading.Lock()
        # Blocking calls made from here (RecvTensor, RunGraph) cost less than gRPC futures.
        self.executor = concurrent.futures.ThreadPoolExecutor(
            64, thread_name_prefix="tensorflux-rpc-client")

    def address_of(self, task):
        address = self.addresses.get(task)
        if address is None:
            from tensorflux.framework import errors
            raise errors.InvalidArgumentError(
                None, None, f"Task {task} is not in the cluster; tasks: "
                            f"{', '.join(sorted(self.addresses))}")
        return address

    def channel(self, task):
        with self._lock:
            channel = self._channels.get(task)
            if channel is None:
                channel = self._channels[task] = open_channel(self.address_of(task),
                                                              self.max_message_bytes)
            return channel

    def stub(self, task, service, method, response_cls=None, stream=False, raw=False):
        """A callable taking serialized request bytes; it returns a message of
        `response_cls`, the bytes themselves (`raw`), or an iterator of frames (`stream`)."""
        key = (task, service, method)
        stub = self._stubs.get(key)
        if stub is None:
            channel = self.channel(task)
            path = f"/{service}/{method}"
            if stream:
                stub = channel.unary_stream(path)
            elif raw:
                stub = channel.unary_unary(path)
            else:
                stub = channel.unary_unary(path, response_deserializer=response_cls.FromString)
            self._stubs[key] = stub
        return stub

    def close(self):
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
            self._stubs = {}
        for channel in channels:
            channel.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


def open_channel(address, max_message_bytes=wire.DEFAULT_MAX_MESSAGE_BYTES):
    options = wire.channel_options(max_message_bytes) + [
        ("grpc.keepalive_time_ms", 10000), ("grpc.keepalive_timeout_ms", 5000),
        ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0),
        ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)]
    return grpc.insecure_channel(grpc_address(address), options=options)
