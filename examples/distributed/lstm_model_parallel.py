"""The talk's model parallelism: a 4-layer LSTM with each layer on its own task.

    python -m tensorflux.distributed.launch --ps 0 --workers 4 -- \
        examples/distributed/lstm_model_parallel.py --out /tmp/lstm_dist.npz
    python examples/distributed/lstm_model_parallel.py --local --out /tmp/lstm_local.npz

Layer k runs on /job:worker/task:k; activations flow up the layers and gradients down through
Send/Recv between the processes. Worker 0 is the client: it builds the graph, computes the
loss, outputs and every gradient, writes them to --out (a .npz), and then releases the other
tasks through a queue on its own task (TensorFlow's "done queue" idiom: each of them waits on
it). With --local the same graph runs in one process, with no device constraints; the two
.npz files are bit-identical. (The local run is at optimizer level L0, as the workers compile
their partitions: the L1 graph optimizer sums the per-step weight gradients as one GEMM, which
rounds in another order.)
"""
import argparse
import sys
import time

import numpy as np

import tensorflux as tf
from tensorflux.distributed import cluster_resolver

LAYERS = 4


def build(num_steps, batch, dim, hidden, vocab, distributed):
    """The model: returns (inputs, labels, loss, outputs, gradient tensors, variables)."""
    tf.set_random_seed(1234)
    inputs = [tf.placeholder(tf.float32, [batch, dim], name=f"x{t}") for t in range(num_steps)]
    labels = tf.placeholder(tf.int32, [batch * num_steps], name="labels")
    layer_in = inputs
    for k in range(LAYERS):
        device = f"/job:worker/task:{k}" if distributed else None
        with tf.device(device), tf.variable_scope(f"layer{k}"):
            cell = tf.nn.rnn_cell.BasicLSTMCell(hidden)
            layer_in, _ = tf.nn.rnn(cell, layer_in, dtype=tf.float32)
    with tf.device(f"/job:worker/task:{LAYERS - 1}" if distributed else None):
        w = tf.get_variable("softmax_w", [hidden, vocab])
        b = tf.get_variable("softmax_b", [vocab], initializer=tf.zeros_initializer())
        logits = tf.matmul(tf.concat(0, layer_in), w) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            logits=logits, labels=labels))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables, colocate_gradients_with_ops=True)
    return inputs, labels, loss, layer_in[-1], grads, variables


def run(args, target, distributed):
    rng = np.random.RandomState(0)
    inputs, labels, loss, output, grads, variables = build(
        args.num_steps, args.batch, args.dim, args.hidden, args.vocab, distributed)
    feed = {x: rng.standard_normal((args.batch, args.dim)).astype(np.float32) for x in inputs}
    feed[labels] = rng.randint(0, args.vocab, args.batch * args.num_steps)
    config = tf.ConfigProto()
    if not distributed:  # the rounding the workers have (see the module's docstring)
        config.graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
    with tf.Session(target, config=config) as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run([loss, output] + grads, feed)
    results = {"loss": values[0], "output": values[1]}
    for v, g in zip(variables, values[2:]):
        results["grad/" + v.op.name] = g
    print(f"loss {values[0]:.6f}; {len(grads)} gradients over {len(variables)} variables")
    if args.out:
        np.savez(args.out, **results)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--local", action="store_true", help="one process, no cluster")
    parser.add_argument("--out", default="", help="write loss, outputs and gradients (.npz)")
    parser.add_argument("--num_steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=20)
    args = parser.parse_args(argv)
    if args.local:
        run(args, "", distributed=False)
        return 0
    cluster, job_name, task_index = cluster_resolver.resolve()
    if cluster.num_tasks("worker") != LAYERS:
        raise SystemExit(f"needs {LAYERS} worker tasks, the cluster has {cluster}")
    server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)
    if task_index != 0:
        # Serve until the client says it is done (its dequeue holds no thread meanwhile).
        with tf.Session(server.target) as sess:
            sess.run(done_queue().dequeue())
        print(f"worker {task_index}: released")
        return 0
    run(args, server.target, distributed=True)
    with tf.Session(server.target) as sess:  # (made after the model: op seeds stay the same)
        done = done_queue()
        sess.run(done.enqueue_many([list(range(LAYERS - 1))]))
        size = done.size()
        deadline = time.monotonic() + 60
        while sess.run(size) and time.monotonic() < deadline:  # every task took its token
            time.sleep(0.05)
    return 0


def done_queue():
    with tf.device("/job:worker/task:0"):
        return tf.FIFOQueue(LAYERS, tf.int32, shapes=[[]], shared_name="done_queue",
                            name="done_queue")


if __name__ == "__main__":
    sys.exit(main())
