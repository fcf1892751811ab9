"""Harness entries and behaviour tests for _Send/_Recv (tensorflux/ops/sendrecv_ops.py)."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import sendrecv_ops
from op_harness import OpSpec, run_spec

pytestmark = pytest.mark.timeout(30)

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
INCARNATION = 0x1234ABCD


def _send_then_recv(x):
    """A _Send and the _Recv with the same attrs on one device (the Recv waits for the Send)."""
    send = sendrecv_ops.send(x, "edge_x", CPU0, INCARNATION, CPU0)
    with tf.control_dependencies([send]):
        return sendrecv_ops.recv(x.dtype, "edge_x", CPU0, INCARNATION, CPU0,
                                 shape=x.get_shape())


SPECS = [
    OpSpec(("_Send", "_Recv"), _send_then_recv, lambda x: x, [((3, 4),), ((),), ((2, 0),)],
           dtypes=[tf.float32, tf.float64, tf.int32, tf.bool], grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_attrs_are_tensorflow_s():
    x = tf.constant([1.0, 2.0])
    send = sendrecv_ops.send(x, "edge_x", CPU0, INCARNATION, CPU0)
    recv = sendrecv_ops.recv(tf.float32, "edge_x", CPU0, INCARNATION, CPU0)
    assert send.type == "_Send" and not send.outputs
    assert send.get_attr("T") == tf.float32
    assert recv.op.get_attr("tensor_type") == tf.float32
    for op in (send, recv.op):
        assert op.get_attr("tensor_name") == "edge_x"
        assert op.get_attr("send_device") == CPU0
        assert op.get_attr("recv_device") == CPU0
        assert op.get_attr("send_device_incarnation") == INCARNATION
        assert op.get_attr("client_terminated") is False
    node = recv.op.node_def
    assert set(node.attr) >= {"tensor_type", "tensor_name", "send_device",
                              "send_device_incarnation", "recv_device", "client_terminated"}
    assert node.attr["send_device_incarnation"].i == INCARNATION


def test_recv_shape_is_unknown_unless_given():
    recv = sendrecv_ops.recv(tf.float32, "e", CPU0, 1, CPU0)
    assert recv.get_shape().ndims is None
    recv2 = sendrecv_ops.recv(tf.float32, "e2", CPU0, 1, CPU0, shape=[2, 3])
    assert recv2.get_shape().as_list() == [2, 3]


def test_recv_without_send_times_out():
    recv = sendrecv_ops.recv(tf.float32, "never_sent", CPU0, 1, CPU0)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match="_Recv"):
            sess.run(recv, options=tf.RunOptions(timeout_in_ms=50))


def test_incarnation_mismatch_never_matches():
    x = tf.constant(1.0)
    send = sendrecv_ops.send(x, "e", CPU0, 1, CPU0)
    with tf.control_dependencies([send]):
        recv = sendrecv_ops.recv(tf.float32, "e", CPU0, 2, CPU0)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out.*Recv"):
            sess.run(recv, options=tf.RunOptions(timeout_in_ms=50))


def test_values_arrive_unchanged():
    value = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = tf.placeholder(tf.float64, [2, 3])
    recv = _send_then_recv(x)
    with tf.Session() as sess:
        got = sess.run(recv, {x: value})
    np.testing.assert_array_equal(got, value)
