"""RecvTensor throughput against a raw grpcio transfer of the same bytes, in one run.

    python benchmarks/distributed/recv_throughput.py [--mb 100] [--reps 7]

tensorflux: a ps task holds a float32 variable of --mb megabytes; a step on the worker task
reads it (the ps's _Send, the worker's _Recv: RecvTensor, then RecvTensorChunks) and reduces it
to a scalar. The same step on a copy held by the worker itself is subtracted, so what is
timed is the transfer (and the RunGraph call to the ps). raw: a bare grpcio server answers the
same number of bytes as one unary message, or as a stream of 4 MiB messages copied into one
preallocated buffer. All servers are in this process, over loopback. The three transfers are
interleaved rep by rep (machines here are shared and noisy); medians are compared.
"""
import argparse
import concurrent.futures
import os
import statistics
import sys
import time

import grpc
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import tensorflux as tf  # noqa: E402
from tensorflux.distributed import launch  # noqa: E402

CHUNK = 4 << 20
_OPTIONS = [("grpc.max_send_message_length", (1 << 31) - 1),
            ("grpc.max_receive_message_length", (1 << 31) - 1)]


class RawServer:
    """A bare grpcio server with a unary and a streaming answer of `nbytes` bytes."""

    def __init__(self, nbytes):
        self.nbytes = nbytes
        payload = np.ones(nbytes, np.uint8).tobytes()
        view = memoryview(payload)

        def chunks(request, context):
            for start in range(0, nbytes, CHUNK):
                yield bytes(view[start:start + CHUNK])
        handler = grpc.method_handlers_generic_handler("bench.Raw", {
            "Get": grpc.unary_unary_rpc_method_handler(lambda request, context: payload),
            "Stream": grpc.unary_stream_rpc_method_handler(chunks)})
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(4), options=_OPTIONS)
        self.server.add_generic_rpc_handlers([handler])
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_OPTIONS)
        self.get = self.channel.unary_unary("/bench.Raw/Get")
        self.stream = self.channel.unary_stream("/bench.Raw/Stream")

    def unary(self):
        return np.frombuffer(self.get(b"", timeout=120), np.uint8)  # no copy

    def streamed(self):
        out = np.empty(self.nbytes, np.uint8)
        offset = 0
        for frame in self.stream(b"", timeout=120):
            out[offset:offset + len(frame)] = np.frombuffer(frame, np.uint8)
            offset += len(frame)
        return out

    def close(self):
        self.channel.close()
        self.server.stop(0)


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    nbytes = int(args.mb * (1 << 20)) // 4 * 4
    raw = RawServer(nbytes)
    cluster = launch.make_cluster(1, 1)
    servers = [tf.train.Server(cluster, job_name=job, task_index=0) for job in ("ps", "worker")]
    times = {"unary": [], "stream": [], "ours": []}
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(tf.ones([nbytes // 4]), name="v")
            with tf.device("/job:worker/task:0"):
                remote = tf.reduce_sum(tf.identity(v) * 0.0)
                w = tf.Variable(tf.ones([nbytes // 4]), name="w")
                local = tf.reduce_sum(tf.identity(w) * 0.0)
            with tf.Session(servers[1].target) as sess:
                sess.run([v.initializer, w.initializer])
                sess.run([remote, local])
                raw.unary()
                raw.streamed()
                for _ in range(args.reps):
                    times["unary"].append(_time(raw.unary))
                    times["stream"].append(_time(raw.streamed))
                    base = _time(lambda: sess.run(local))
                    times["ours"].append(_time(lambda: sess.run(remote)) - base)
    finally:
        raw.close()
        for server in servers:
            server.stop()
    unary, streamed, ours = (statistics.median(times[k]) for k in ("unary", "stream", "ours"))
    mb = nbytes / (1 << 20)
    print(f"| transfer of {mb:.0f} MB over loopback | median s | MB/s |")
    print("|---|---|---|")
    print(f"| raw grpcio, one unary message | {unary:.3f} | {mb / unary:.0f} |")
    print(f"| raw grpcio, stream of 4 MiB messages | {streamed:.3f} | {mb / streamed:.0f} |")
    print(f"| tensorflux RecvTensor (step on the worker) | {ours:.3f} | {mb / ours:.0f} |")
    best = min(unary, streamed)
    print(f"\nthroughput ratio tensorflux / fastest raw: {best / ours:.2f}x (target >= 0.8x)")


if __name__ == "__main__":
    main()
