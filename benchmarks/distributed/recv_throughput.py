"""RecvTensor throughput against a raw grpcio transfer of the same bytes, in one run.

    python benchmarks/distributed/recv_throughput.py [--mb 100] [--reps 5]

tensorflux: a ps task holds a float32 variable of --mb megabytes; a step on the worker task
reads it (the ps's _Send, the worker's _Recv: one RecvTensor, then RecvTensorChunks) and
reduces it to a scalar. raw: a bare grpcio server in the same process answers a unary call
with the same number of bytes (one message; the client receives it as one bytes object).
Both over loopback, both servers in this process (as the tasks of a real cluster would be in
two, the copy costs are the same). Prints MB/s of each and the ratio tensorflux / raw.
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


def raw_grpc(nbytes, reps, streamed=False):
    """Seconds per transfer of `nbytes`: one unary message, or (`streamed`) a server stream
    of 4 MiB messages copied into one preallocated buffer."""
    payload = np.ones(nbytes, np.uint8).tobytes()
    view = memoryview(payload)

    def chunks(request, context):
        for start in range(0, nbytes, CHUNK):
            yield bytes(view[start:start + CHUNK])
    handler = grpc.method_handlers_generic_handler("bench.Raw", {
        "Get": grpc.unary_unary_rpc_method_handler(lambda request, context: payload),
        "Stream": grpc.unary_stream_rpc_method_handler(chunks)})
    options = [("grpc.max_send_message_length", (1 << 31) - 1),
               ("grpc.max_receive_message_length", (1 << 31) - 1)]
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4), options=options)
    server.add_generic_rpc_handlers([handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            get = channel.unary_unary("/bench.Raw/Get")
            stream = channel.unary_stream("/bench.Raw/Stream")

            def once():
                if not streamed:
                    return np.frombuffer(get(b"", timeout=60), np.uint8)  # no copy
                out = np.empty(nbytes, np.uint8)
                offset = 0
                for frame in stream(b"", timeout=60):
                    out[offset:offset + len(frame)] = np.frombuffer(frame, np.uint8)
                    offset += len(frame)
                return out
            once()
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                data = once()
                times.append(time.perf_counter() - start)
                assert data.nbytes == nbytes
    finally:
        server.stop(0)
    return times


def tensorflux_recv(nbytes, reps):
    cluster = launch.make_cluster(1, 1)
    servers = [tf.train.Server(cluster, job_name=job, task_index=0) for job in ("ps", "worker")]
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(tf.ones([nbytes // 4]), name="v")
            with tf.device("/job:worker/task:0"):
                total = tf.reduce_sum(tf.identity(v) * 0.0)
                w = tf.Variable(tf.ones([nbytes // 4]), name="w")
                # The same step on the worker's own copy: subtracted, so only the transfer
                # (RecvTensor and RecvTensorChunks, and the ps's RunGraph) is timed.
                local = tf.reduce_sum(tf.identity(w) * 0.0)
            with tf.Session(servers[1].target) as sess:
                sess.run([v.initializer, w.initializer])
                sess.run([total, local])
                base = min(_time(sess, local) for _ in range(reps))
                times = [_time(sess, total) - base for _ in range(reps)]
    finally:
        for server in servers:
            server.stop()
    return times


def _time(sess, fetch):
    start = time.perf_counter()
    sess.run(fetch)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    nbytes = int(args.mb * (1 << 20)) // 4 * 4
    # Raw transfers are timed before and after tensorflux's (the better median counts), so
    # warm-up and drifting machine load do not favour tensorflux.
    unary = statistics.median(raw_grpc(nbytes, args.reps))
    streamed = statistics.median(raw_grpc(nbytes, args.reps, streamed=True))
    ours = statistics.median(tensorflux_recv(nbytes, args.reps))
    unary = min(unary, statistics.median(raw_grpc(nbytes, args.reps)))
    streamed = min(streamed, statistics.median(raw_grpc(nbytes, args.reps, streamed=True)))
    raw = min(unary, streamed)
    mb = nbytes / (1 << 20)
    print(f"| transfer of {mb:.0f} MB over loopback | median s | MB/s |")
    print("|---|---|---|")
    print(f"| raw grpcio, one unary message | {unary:.3f} | {mb / unary:.0f} |")
    print(f"| raw grpcio, stream of 4 MiB messages | {streamed:.3f} | {mb / streamed:.0f} |")
    print(f"| tensorflux RecvTensor (+ step overhead) | {ours:.3f} | {mb / ours:.0f} |")
    print(f"\nthroughput ratio tensorflux / fastest raw: {raw / ours:.2f}x (target >= 0.8x)")


if __name__ == "__main__":
    main()
