"""Replication on in-process clusters (real gRPC between tasks): in-graph replication with
synchronous averaged updates, bit-identical across runs and to one process; a partitioned
embedding whose shards and sparse updates live on two parameter servers."""
import numpy as np
import pytest

import tensorflux as tf
from cluster_util import in_process_cluster

pytestmark = pytest.mark.timeout(120)


def _in_graph_replicated_training(towers, device_of, steps=5):
    """One client, `towers` towers each on its device, gradients averaged and applied on the
    ps: returns the final weights and losses."""
    tf.set_random_seed(7)
    rng = np.random.RandomState(3)
    data = [(rng.standard_normal((16, 8)).astype(np.float32), rng.randint(0, 4, 16))
            for _ in range(towers)]
    with tf.device(device_of("ps", 0)):
        w = tf.get_variable("w", [8, 4], initializer=tf.truncated_normal_initializer(0.5))
        b = tf.get_variable("b", [4], initializer=tf.zeros_initializer())
    opt = tf.train.GradientDescentOptimizer(0.3)
    tower_grads, losses = [], []
    for k, (x, y) in enumerate(data):
        with tf.device(device_of("worker", k)), tf.name_scope(f"tower_{k}"):
            logits = tf.matmul(tf.constant(x), w) + b
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                logits=logits, labels=tf.constant(y)))
            losses.append(loss)
            tower_grads.append(opt.compute_gradients(loss, [w, b]))
    with tf.device(device_of("ps", 0)):
        averaged = [(tf.add_n([g[i][0] for g in tower_grads]) / float(towers), v)
                    for i, (_, v) in enumerate(tower_grads[0])]
        train = opt.apply_gradients(averaged)
    return w, b, losses, train


def test_in_graph_replication_sync_is_bit_identical_across_runs_and_to_one_process():
    results = []
    for _ in range(2):
        with in_process_cluster(1, 3) as (cluster, servers):
            target = servers["worker/0"].target
            with tf.Graph().as_default():
                w, b, losses, train = _in_graph_replicated_training(
                    3, lambda job, k: f"/job:{job}/task:{k}")
                with tf.Session(target) as sess:
                    sess.run(tf.global_variables_initializer())
                    history = [sess.run(losses + [train])[:3] for _ in range(5)]
                    results.append((history, sess.run([w, b])))
    with tf.Graph().as_default():
        w, b, losses, train = _in_graph_replicated_training(3, lambda job, k: None)
        # at L0, as the workers compile their partitions (L1's batched_sums would add the
        # replicas' gradient products as one GEMM, in another rounding order)
        config = tf.ConfigProto(graph_options=tf.GraphOptions(
            optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            history = [sess.run(losses + [train])[:3] for _ in range(5)]
            local = (history, sess.run([w, b]))
    for run in results:
        np.testing.assert_array_equal(np.array(run[0]), np.array(local[0]))
        for got, want in zip(run[1], local[1]):
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(local[1][0], results[0][1][0] * 0)  # it trained something


def test_partitioned_embedding_on_two_parameter_servers_matches_one_process():
    def train(target, device_setter):
        tf.set_random_seed(11)
        with tf.device(device_setter):
            emb = tf.get_variable("emb", [10, 3], partitioner=tf.fixed_size_partitioner(2),
                                  initializer=tf.random_uniform_initializer(-1, 1))
            ids = tf.constant([1, 7, 4, 9, 1])
            loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, ids,
                                                                  partition_strategy="mod")))
            step = tf.train.AdagradOptimizer(0.5).minimize(loss)
        with tf.Session(target) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(step)
            metadata = tf.RunMetadata()
            sess.run(step, options=tf.RunOptions(trace_level=3), run_metadata=metadata)
            return sess.run(emb.as_tensor()), metadata
    with tf.Graph().as_default():
        local, _ = train("", None)
    with in_process_cluster(2, 1) as (cluster, servers), tf.Graph().as_default():
        setter = tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:0")
        remote, metadata = train(servers["worker/0"].target, setter)
    np.testing.assert_array_equal(local, remote)
    updates = {}
    for dev in metadata.step_stats.dev_stats:
        for node in dev.node_stats:
            if node.node_name.endswith("/SparseApplyAdagrad"):
                updates.setdefault(dev.device.split("/device:")[0], []).append(node.node_name)
    # Each shard's sparse update ran on the ps that owns it.
    assert updates == {"/job:ps/replica:0/task:0": ["Adagrad/update_emb/part_0/SparseApplyAdagrad"],
                       "/job:ps/replica:0/task:1": ["Adagrad/update_emb/part_1/SparseApplyAdagrad"]}
