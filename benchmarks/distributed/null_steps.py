"""Null training steps (an analogue of the OSDI 2016 paper's Figure 7) on one machine.

    python benchmarks/distributed/null_steps.py [--workers 1,2,3,4] [--models scalar,dense1mb,...]

One ps task and N worker tasks, each a process talking gRPC on loopback. Each worker runs
between-graph replicated "null" steps: it fetches the model from the ps, does a trivial
computation, and sends an update back (so every step moves the model both ways):
  scalar     a float32 scalar;
  dense1mb   a 1 MB float32 vector;
  dense100mb a 100 MB float32 vector;
  sparse     32 random rows (gather, then scatter_add of zeros) of a 256 MB embedding
             (1M x 64 float32: the paper's 1 GB-class sparse model scaled to fit this machine).
Prints median, p10 and p90 step times over all workers' steps. With --peer_python (a
virtualenv with TensorFlow, e.g. /work/peers/bin/python) the same tasks also run on
TensorFlow's own gRPC runtime (tf.compat.v1), in the same run, and the ratio is printed.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tasks import cluster_processes, percentile  # noqa: E402

MODELS = {"scalar": ((), 40), "dense1mb": ((1 << 18,), 30), "dense100mb": ((25 << 20,), 4),
          "sparse": ((1 << 20, 64), 30)}


def _framework(name):
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        return tf
    import tensorflux as tf
    return tf


def task_main(args):
    tf = _framework(args.framework)
    config = json.loads(os.environ["TF_CONFIG"])
    cluster = tf.train.ClusterSpec(config["cluster"])
    job, index = config["task"]["type"], config["task"]["index"]
    server = tf.train.Server(cluster, job_name=job, task_index=index)
    if job == "ps":
        server.join()
        return
    shape, steps = MODELS[args.model]
    steps = args.steps or steps
    with tf.device("/job:ps/task:0"):
        model = tf.get_variable("model", shape, initializer=tf.zeros_initializer())
    with tf.device(f"/job:worker/task:{index}"):
        if args.model == "sparse":
            ids = tf.placeholder(tf.int32, [32])
            rows = tf.nn.embedding_lookup(model, ids)  # the gather runs on the ps
            update = tf.scatter_add(model, ids, rows * 0.0)
        else:
            ids = None
            update = tf.assign_add(model, tf.identity(model) * 0.0)
    config = tf.ConfigProto(device_filters=["/job:ps", f"/job:worker/task:{index}"])
    rng = np.random.RandomState(index)
    times = []
    with tf.Session(server.target, config=config) as sess:
        if index == 0:
            sess.run(model.initializer)
        else:
            while not sess.run(tf.is_variable_initialized(model)):
                time.sleep(0.05)
        for step in range(steps + 2):
            feed = {ids: rng.randint(0, shape[0], 32)} if ids is not None else None
            start = time.perf_counter()
            sess.run(update.op, feed)
            if step >= 2:  # the first steps compile and register the graphs
                times.append(time.perf_counter() - start)
    with open(args.out, "w") as f:
        json.dump(times, f)


def run_benchmark(model, num_workers, steps, framework="tensorflux", python=None):
    with tempfile.TemporaryDirectory() as tmp:
        per_task = {f"worker{k}": ["--out", os.path.join(tmp, f"w{k}.json")]
                    for k in range(num_workers)}
        script = os.path.abspath(__file__)
        with cluster_processes(1, num_workers, script,
                               ["--task", "--model", model, "--steps", str(steps),
                                "--framework", framework], per_task,
                               python=python) as (procs, _):
            for k in range(num_workers):
                code = procs[f"worker{k}"].wait(900)
                if code != 0:
                    raise RuntimeError(f"worker {k} of {model} x{num_workers} exited {code}")
        times = []
        for k in range(num_workers):
            with open(os.path.join(tmp, f"w{k}.json")) as f:
                times.extend(json.load(f))
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="scalar", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help="steps per worker")
    parser.add_argument("--workers", default="1,2,3,4")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--framework", default="tensorflux", help=argparse.SUPPRESS)
    parser.add_argument("--peer_python", default="",
                        help="an interpreter with TensorFlow: also time TF's runtime")
    args = parser.parse_args(argv)
    if args.task:
        task_main(args)
        return
    peer = args.peer_python
    print("| model | workers | median ms | p10 ms | p90 ms | steps |" +
          (" TF median ms | TF p10 | TF p90 | tfx/TF |" if peer else ""))
    print("|---|---|---|---|---|---|" + ("---|---|---|---|" if peer else ""))
    for model in args.models.split(","):
        for n in [int(w) for w in args.workers.split(",")]:
            ms = [t * 1000 for t in run_benchmark(model, n, args.steps)]
            row = (f"| {model} | {n} | {percentile(ms, 0.5):.2f} | {percentile(ms, 0.1):.2f} | "
                   f"{percentile(ms, 0.9):.2f} | {len(ms)} |")
            if peer:
                tf_ms = [t * 1000 for t in run_benchmark(model, n, args.steps, "tensorflow",
                                                         peer)]
                row += (f" {percentile(tf_ms, 0.5):.2f} | {percentile(tf_ms, 0.1):.2f} | "
                        f"{percentile(tf_ms, 0.9):.2f} | "
                        f"{percentile(ms, 0.5) / percentile(tf_ms, 0.5):.2f}x |")
            print(row, flush=True)


if __name__ == "__main__":
    main()
