"""Distributed MNIST training with replicas: TensorFlow's mnist_replica program, on tensorflux.

A 1-hidden-layer network trained by between-graph replication: every worker task runs this
script as a client of its own server; variables live on the ps tasks
(`replica_device_setter`); `--sync_replicas` aggregates `--replicas_to_aggregate` gradients per
update with SyncReplicasOptimizer (more workers than that are backup workers); a Supervisor
initializes on the chief and makes the other workers wait for it.

    # one process per task, as on a cluster:
    python examples/distributed/mnist_replica.py --ps_hosts=localhost:2222 \\
        --worker_hosts=localhost:2223,localhost:2224 --job_name=ps --task_index=0
    python examples/distributed/mnist_replica.py --ps_hosts=localhost:2222 \\
        --worker_hosts=localhost:2223,localhost:2224 --job_name=worker --task_index=0
    ...
    # or all tasks on this machine (TF_CONFIG set for each):
    python -m tensorflux.distributed.launch --ps 1 --workers 2 -- \\
        examples/distributed/mnist_replica.py --sync_replicas

Without --ps_hosts/--worker_hosts the cluster comes from TF_CONFIG or SLURM. Without MNIST
files in --data_dir the loader builds them from scikit-learn's digits.
"""
import argparse
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import tensorflux as tf  # noqa: E402
from tensorflux.distributed import cluster_resolver  # noqa: E402
from tensorflux.examples.tutorials.mnist import input_data  # noqa: E402

IMAGE_PIXELS = 28


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default="MNIST_data")
    parser.add_argument("--ps_hosts", default="", help="comma-separated host:port pairs")
    parser.add_argument("--worker_hosts", default="", help="comma-separated host:port pairs")
    parser.add_argument("--job_name", default="", help="'ps' or 'worker'")
    parser.add_argument("--task_index", type=int, default=0)
    parser.add_argument("--hidden_units", type=int, default=100)
    parser.add_argument("--train_steps", type=int, default=200, help="global steps")
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--sync_replicas", action="store_true",
                        help="aggregate gradients before applying them")
    parser.add_argument("--replicas_to_aggregate", type=int, default=0,
                        help="gradients per update (default: the number of workers)")
    parser.add_argument("--train_dir", default="", help="Supervisor logdir (default: a temp dir)")
    return parser.parse_args(argv)


def cluster_of(flags):
    if flags.ps_hosts or flags.worker_hosts:
        cluster = tf.train.ClusterSpec({"ps": flags.ps_hosts.split(","),
                                        "worker": flags.worker_hosts.split(",")})
        return cluster, flags.job_name, flags.task_index
    return cluster_resolver.resolve()


def main(argv=None):
    flags = parse_args(argv)
    cluster, job_name, task_index = cluster_of(flags)
    server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)
    if job_name == "ps":
        server.join()
        return 0
    mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
    num_workers = cluster.num_tasks("worker")
    is_chief = task_index == 0
    worker_device = f"/job:worker/task:{task_index}/cpu:0"
    with tf.device(tf.train.replica_device_setter(worker_device=worker_device,
                                                  ps_device="/job:ps/cpu:0", cluster=cluster)):
        global_step = tf.Variable(0, name="global_step", trainable=False)
        hid_w = tf.Variable(tf.truncated_normal(
            [IMAGE_PIXELS * IMAGE_PIXELS, flags.hidden_units],
            stddev=1.0 / IMAGE_PIXELS), name="hid_w")
        hid_b = tf.Variable(tf.zeros([flags.hidden_units]), name="hid_b")
        sm_w = tf.Variable(tf.truncated_normal(
            [flags.hidden_units, 10], stddev=1.0 / math.sqrt(flags.hidden_units)), name="sm_w")
        sm_b = tf.Variable(tf.zeros([10]), name="sm_b")
        x = tf.placeholder(tf.float32, [None, IMAGE_PIXELS * IMAGE_PIXELS])
        y_ = tf.placeholder(tf.float32, [None, 10])
        hid = tf.nn.relu(tf.nn.xw_plus_b(x, hid_w, hid_b))
        y = tf.nn.softmax(tf.nn.xw_plus_b(hid, sm_w, sm_b))
        cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))
        opt = tf.train.AdamOptimizer(flags.learning_rate)
        if flags.sync_replicas:
            opt = tf.train.SyncReplicasOptimizer(
                opt, replicas_to_aggregate=flags.replicas_to_aggregate or num_workers,
                total_num_replicas=num_workers, name="mnist_sync_replicas")
        train_step = opt.minimize(cross_entropy, global_step=global_step)
        correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        if flags.sync_replicas:
            local_init_op = opt.chief_init_op if is_chief else opt.local_step_init_op
            ready_for_local_init_op = opt.ready_for_local_init_op
            chief_queue_runner = opt.get_chief_queue_runner()
            sync_init_op = opt.get_init_tokens_op()
        init_op = tf.global_variables_initializer()
    train_dir = flags.train_dir or tempfile.mkdtemp(prefix="mnist_replica-")
    if flags.sync_replicas:
        sv = tf.train.Supervisor(is_chief=is_chief, logdir=train_dir, init_op=init_op,
                                 local_init_op=local_init_op,
                                 ready_for_local_init_op=ready_for_local_init_op,
                                 recovery_wait_secs=1, global_step=global_step)
    else:
        sv = tf.train.Supervisor(is_chief=is_chief, logdir=train_dir, init_op=init_op,
                                 recovery_wait_secs=1, global_step=global_step)
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False,
                            device_filters=["/job:ps", f"/job:worker/task:{task_index}"])
    print(f"Worker {task_index}: {'initializing' if is_chief else 'waiting for'} session",
          flush=True)
    sess = sv.prepare_or_wait_for_session(server.target, config=config)
    print(f"Worker {task_index}: session ready", flush=True)
    if flags.sync_replicas and is_chief:
        sess.run(sync_init_op)
        sv.start_queue_runners(sess, [chief_queue_runner])
    start, local_step = time.time(), 0
    options = tf.RunOptions(timeout_in_ms=60000)
    while True:
        batch_xs, batch_ys = mnist.train.next_batch(flags.batch_size)
        _, step = sess.run([train_step, global_step], {x: batch_xs, y_: batch_ys},
                           options=options)
        local_step += 1
        if step >= flags.train_steps:
            break
    print(f"Worker {task_index}: {local_step} local steps, global step {step}, "
          f"{time.time() - start:.1f}s", flush=True)
    if is_chief:
        value = sess.run(accuracy, {x: mnist.test.images, y_: mnist.test.labels})
        print(f"Worker {task_index}: test accuracy {value:.4f}", flush=True)
    sv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
