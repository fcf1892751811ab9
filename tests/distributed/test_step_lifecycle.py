"""A distributed step's life on the tasks: the master's deadline from ConfigProto, the
rendezvous of finished steps dropped, a failing task aborting its own rendezvous."""
import threading
import time

import pytest

import tensorflux as tf
from cluster_util import in_process_cluster

pytestmark = pytest.mark.timeout(60)


def _blocked_dequeue():
    with tf.device("/job:ps/task:0"):
        queue = tf.FIFOQueue(4, tf.float32, shapes=[[]], name="q")
        item = queue.dequeue()
    with tf.device("/job:worker/task:0"):
        y = item + 1.0
    return queue, y


def test_operation_timeout_from_the_session_config_ends_a_blocked_step():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        queue, y = _blocked_dequeue()
        config = tf.ConfigProto(operation_timeout_in_ms=300)
        with tf.Session(servers["worker/0"].target, config=config) as sess:
            outcome = []

            def run():
                try:
                    outcome.append(sess.run(y))
                except Exception as e:  # noqa: BLE001 - the test inspects it
                    outcome.append(e)
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            thread.join(10)
            blocked = thread.is_alive()
            if blocked:
                sess.run(queue.enqueue(0.0))  # let the step end before the servers stop
                thread.join(10)
            assert not blocked, "the step ignored ConfigProto.operation_timeout_in_ms"
            assert isinstance(outcome[0], tf.errors.DeadlineExceededError)


def test_tasks_drop_the_rendezvous_of_completed_steps():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(1.0, name="v")
            doubled = v * 2.0
        with tf.device("/job:worker/task:0"):
            y = doubled + 1.0
        config = tf.ConfigProto(operation_timeout_in_ms=20000)
        with tf.Session(servers["worker/0"].target, config=config) as sess:
            sess.run(v.initializer)
            for _ in range(10):
                assert sess.run(y) == 3.0
        for name, server in servers.items():
            assert len(server.worker._steps) <= 2, (name, sorted(server.worker._steps))


def test_a_failing_task_aborts_its_own_rendezvous():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(tf.zeros([2]), name="never_initialized")
            doubled = v * 2.0
        with tf.device("/job:worker/task:0"):
            y = doubled + tf.random_uniform([2])
        with tf.Session(servers["worker/0"].target) as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized"):
                sess.run(y)
        steps = list(servers["ps/0"].worker._steps.values())
        deadline = time.monotonic() + 5
        while not steps and time.monotonic() < deadline:
            time.sleep(0.01)
            steps = list(servers["ps/0"].worker._steps.values())
        assert steps, "the failed step left no rendezvous on the ps"
        assert all(isinstance(r.aborted_with, tf.errors.FailedPreconditionError) for r in steps)
