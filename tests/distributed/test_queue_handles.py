"""TF 0.9's handle types across tasks: string_ref queue handles shared by name between clients'
graphs on a server, and string TensorArray handles whose ops stay with the array."""
import numpy as np
import pytest

import tensorflux as tf
from cluster_util import in_process_cluster

pytestmark = pytest.mark.timeout(60)


def _remote_target(server):
    # "localhost" instead of the server's own "127.0.0.1": the client takes the gRPC path.
    return "grpc://" + server.address.replace("127.0.0.1", "localhost")


def test_clients_share_a_v1_queue_on_the_ps_by_shared_name():
    with in_process_cluster(1, 1) as (cluster, servers):
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                q = tf.FIFOQueue(4, tf.int32, shapes=[[]], shared_name="work")
            assert q.queue_ref.dtype == tf.string_ref
            with tf.Session(servers["worker/0"].target) as sess:
                sess.run(q.enqueue_many([[1, 2, 3]]))
        with tf.Graph().as_default():  # another client, its graph sent over gRPC
            with tf.device("/job:ps/task:0"):
                q = tf.FIFOQueue(4, tf.int32, shapes=[[]], shared_name="work", name="other")
            with tf.device("/job:worker/task:0"):
                doubled = q.dequeue_many(2) * 2
            with tf.Session(_remote_target(servers["worker/0"])) as sess:
                assert sess.run(doubled).tolist() == [2, 4]
                assert sess.run([q.size(), q.queue_ref])[1].tolist() == [b"localhost", b"work"]


def test_tensor_array_ops_follow_their_string_handle_to_the_ps():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3, 2])
        with tf.device("/job:ps/task:0"):
            ta = tf.TensorArray(tf.float32, size=3)
        with tf.device("/job:worker/task:0"):
            stacked = ta.unstack(x * 2.0).stack()
            grad = tf.gradients(tf.reduce_sum(stacked), x)[0]
        value = np.arange(6, dtype=np.float32).reshape(3, 2)
        with tf.Session(servers["worker/0"].target) as sess:
            got, g = sess.run([stacked, grad], {x: value})
        np.testing.assert_array_equal(got, 2 * value)
        np.testing.assert_array_equal(g, np.full([3, 2], 2.0, np.float32))
