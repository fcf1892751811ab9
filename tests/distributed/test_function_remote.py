"""Defun calls in distributed steps: each task's registered GraphDef carries the functions its
call nodes run (the worker imports them with the partition)."""
import numpy as np
import pytest

import tensorflux as tf
from cluster_util import in_process_cluster
from tensorflux.python.framework import function

pytestmark = pytest.mark.timeout(60)


def test_call_on_the_ps_task_runs_there_and_agrees_with_local():
    def build():
        @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
        def plus_minus(a, b):
            return a + b, a - b

        x = tf.placeholder(tf.float32, [3], name="x")
        with tf.device("/job:ps/task:0"):
            s, d = plus_minus(x, x * 2.0)
        with tf.device("/job:worker/task:0"):
            out = s * d
        return x, out, tf.gradients(out, x)[0]

    feed = np.array([1.0, 2.0, 3.0], np.float32)
    with tf.Graph().as_default():
        x, out, grad = build()
        with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
            local = sess.run([out, grad], {x: feed})
    with in_process_cluster(1, 1) as (_, servers), tf.Graph().as_default():
        x, out, grad = build()
        with tf.Session(servers["worker/0"].target) as sess:
            metadata = tf.RunMetadata()
            remote = sess.run([out, grad], {x: feed},
                              options=tf.RunOptions(trace_level=3), run_metadata=metadata)
    np.testing.assert_allclose(remote[0], local[0])
    np.testing.assert_allclose(remote[1], local[1])
    np.testing.assert_allclose(local[0], -3.0 * feed ** 2)
    on_ps = {n.node_name for d in metadata.step_stats.dev_stats if "ps" in d.device
             for n in d.node_stats}
    assert "PlusMinus" in on_ps
