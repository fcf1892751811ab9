"""Data-parallel training of a small MLP on scikit-learn's handwritten digits, the way 2017
TensorFlow scripts train on a cluster: between-graph replication (one client per worker),
variables on parameter servers through `replica_device_setter`, MonitoredTrainingSession
(the chief initializes or restores from --checkpoint_dir; everyone recovers when a parameter
server restarts), asynchronous updates or SyncReplicasOptimizer with backup workers.

    python -m tensorflux.distributed.launch --ps 1 --workers 3 -- \
        examples/distributed/train_mlp.py --sync_replicas --replicas_to_aggregate 2
    python examples/distributed/train_mlp.py --local          # the same model, one process

Fault and straggler knobs (used by tests and benchmarks): --stall_task K --stall_secs S
sleeps S seconds before each step of worker K; --quit_after N makes a worker leave after N
of its own steps. Sync steps carry --step_timeout_secs, so a sync run whose workers left
ends with an error instead of waiting forever. --out writes a JSON summary per worker.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import tensorflux as tf
from tensorflux.distributed import cluster_resolver


def load_digits(seed=0):
    """(train_x, train_y, test_x, test_y): 8x8 digits scaled to [0, 1], 1500 / 297 split."""
    from sklearn.datasets import load_digits as sk_digits
    data = sk_digits()
    order = np.random.RandomState(seed).permutation(len(data.target))
    x = (data.data[order] / 16.0).astype(np.float32)
    y = data.target[order].astype(np.int64)
    return x[:1500], y[:1500], x[1500:], y[1500:]


def build_model(args, num_workers):
    """Returns (x, y, loss, accuracy, train_op, global_step, sync optimizer or None)."""
    tf.set_random_seed(args.seed)
    global_step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    w1 = tf.get_variable("w1", [64, args.hidden_units],
                         initializer=tf.truncated_normal_initializer(stddev=0.1))
    b1 = tf.get_variable("b1", [args.hidden_units], initializer=tf.zeros_initializer())
    w2 = tf.get_variable("w2", [args.hidden_units, 10],
                         initializer=tf.truncated_normal_initializer(stddev=0.1))
    b2 = tf.get_variable("b2", [10], initializer=tf.zeros_initializer())
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits,
                                                                         labels=y))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
    opt = tf.train.GradientDescentOptimizer(args.learning_rate)
    sync = None
    if args.sync_replicas:
        sync = opt = tf.train.SyncReplicasOptimizer(
            opt, replicas_to_aggregate=args.replicas_to_aggregate or num_workers,
            total_num_replicas=num_workers)
    train_op = opt.minimize(loss, global_step=global_step)
    return x, y, loss, accuracy, train_op, global_step, sync


def train(args, target, job_name, task_index, num_workers, num_ps):
    train_x, train_y, test_x, test_y = load_digits(args.seed)
    rng = np.random.RandomState(args.seed + 1 + task_index)
    stall_rng = np.random.RandomState(args.seed + 1000 + task_index)
    setter = None
    if num_ps:
        setter = tf.train.replica_device_setter(
            ps_tasks=num_ps, worker_device=f"/job:{job_name}/task:{task_index}")
    with tf.device(setter):
        x, y, loss, accuracy, train_op, global_step, sync = build_model(args, num_workers)
    is_chief = task_index == 0
    hooks = [tf.train.StopAtStepHook(last_step=args.train_steps)]
    final = tf.train.FinalOpsHook([accuracy, global_step], {x: test_x, y: test_y})
    if sync is not None:
        hooks.append(sync.make_session_run_hook(is_chief))
    config = tf.ConfigProto()
    if num_ps:
        config.device_filters.extend(["/job:ps", f"/job:{job_name}/task:{task_index}"])
    options = None
    if args.sync_replicas and args.step_timeout_secs:
        options = tf.RunOptions(timeout_in_ms=int(args.step_timeout_secs * 1000))
    log, evals = [], []
    start = time.time()
    local_steps = 0
    if args.log_every:  # the model is built: what remains is waiting for the chief's init
        print(f"worker {task_index}: starting", flush=True)
    with tf.train.MonitoredTrainingSession(
            master=target, is_chief=is_chief, checkpoint_dir=args.checkpoint_dir or None,
            hooks=hooks, chief_only_hooks=[final], config=config,
            save_checkpoint_secs=args.save_checkpoint_secs, save_summaries_steps=None,
            save_summaries_secs=None,
            log_step_count_steps=None) as sess:
        while not sess.should_stop():
            if args.quit_after and local_steps >= args.quit_after:
                print(f"worker {task_index}: leaving after {local_steps} steps", flush=True)
                break
            if args.stall_task == task_index and args.stall_secs:
                time.sleep(args.stall_secs)
            elif args.stall_prob and stall_rng.random_sample() < args.stall_prob:
                time.sleep(args.stall_secs)  # a random straggler: any worker, any step
            batch = rng.randint(0, len(train_x), args.batch_size)
            _, step, value = sess.run([train_op, global_step, loss],
                                      {x: train_x[batch], y: train_y[batch]}, options=options)
            local_steps += 1
            log.append((time.time() - start, int(step), float(value)))
            if is_chief and args.eval_every and local_steps % args.eval_every == 0:
                evals.append((time.time() - start, int(step), float(sess.run(
                    accuracy, {x: test_x, y: test_y}))))
            if args.log_every and local_steps % args.log_every == 0:
                print(f"worker {task_index}: local step {local_steps}, global step {step}",
                      flush=True)
    summary = {"task": task_index, "local_steps": local_steps, "wall": time.time() - start,
               "log": log, "evals": evals}
    if is_chief:
        summary["accuracy"], summary["global_step"] = map(float, final.final_ops_values)
        print(f"worker {task_index}: global step {summary['global_step']:.0f}, test accuracy "
              f"{summary['accuracy']:.4f}", flush=True)
    if args.out:
        path = args.out if args.local else f"{args.out}.{task_index}"
        with open(path + ".tmp", "w") as f:
            json.dump(summary, f)
        os.replace(path + ".tmp", path)
    return summary


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ps_hosts", default="", help="comma-separated host:port of ps tasks")
    parser.add_argument("--worker_hosts", default="", help="comma-separated host:port")
    parser.add_argument("--job_name", default="", help="ps or worker")
    parser.add_argument("--task_index", type=int, default=0)
    parser.add_argument("--local", action="store_true", help="one process, no cluster")
    parser.add_argument("--sync_replicas", action="store_true")
    parser.add_argument("--replicas_to_aggregate", type=int, default=0,
                        help="gradients per update in sync mode (default: all workers)")
    parser.add_argument("--train_steps", type=int, default=300, help="global steps")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--learning_rate", type=float, default=0.5)
    parser.add_argument("--hidden_units", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkpoint_dir", default="")
    parser.add_argument("--save_checkpoint_secs", type=float, default=600)
    parser.add_argument("--stall_task", type=int, default=-1)
    parser.add_argument("--stall_secs", type=float, default=0.0)
    parser.add_argument("--stall_prob", type=float, default=0.0,
                        help="each step of each worker stalls --stall_secs with this chance")
    parser.add_argument("--eval_every", type=int, default=0,
                        help="the chief measures test accuracy every N of its steps")
    parser.add_argument("--quit_after", type=int, default=0)
    parser.add_argument("--step_timeout_secs", type=float, default=60.0)
    parser.add_argument("--log_every", type=int, default=0, help="print progress every N")
    parser.add_argument("--out", default="")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.local:
        train(args, "", "worker", 0, 1, 0)
        return 0
    if args.ps_hosts or args.worker_hosts:
        cluster = tf.train.ClusterSpec({"ps": [h for h in args.ps_hosts.split(",") if h],
                                        "worker": args.worker_hosts.split(",")})
        job_name, task_index = args.job_name, args.task_index
    else:
        cluster, job_name, task_index = cluster_resolver.resolve()
    server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)
    if job_name == "ps":
        server.join()
        return 0
    num_ps = cluster.num_tasks("ps") if "ps" in cluster.jobs else 0
    try:
        train(args, server.target, job_name, task_index, cluster.num_tasks("worker"), num_ps)
    except tf.errors.DeadlineExceededError as e:
        if not args.sync_replicas:
            raise
        print(f"worker {task_index}: synchronous training stalled: no token within "
              f"{args.step_timeout_secs}s, so fewer than replicas_to_aggregate workers are "
              f"pushing gradients ({e.message.splitlines()[0]})", flush=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
