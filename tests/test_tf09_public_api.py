"""TF 0.9 public API items: Variable.ref(), Variable._as_graph_element(), QueueBase.from_list,
tf.train.generate_checkpoint_state_proto."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


def test_variable_ref_and_graph_element():
    v = tf.Variable([1.0, 2.0], name="v")
    assert v.ref() is v._ref() and v.ref().dtype == tf.float32_ref
    assert v._as_graph_element() is v.ref()
    assert v.ref().op.name == "v"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign_add(v.ref(), [1.0, 1.0]))
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_queue_from_list_picks_the_queue_at_run_time():
    q0 = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    q1 = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
    index = tf.placeholder(tf.int32, [])
    q = tf.QueueBase.from_list(index, [q0, q1])
    assert q.dtypes == [tf.int32] and q.shapes[0].as_list() == []
    enqueue = q.enqueue([7])
    dequeue = q.dequeue()
    with tf.Session() as sess:
        sess.run(enqueue, {index: 1})
        sess.run(enqueue, {index: 1})
        sess.run(enqueue, {index: 0})
        assert sess.run([q0.size(), q1.size()]) == [1, 2]
        assert sess.run(dequeue, {index: 1}) == 7
        assert sess.run(q.size(), {index: 1}) == 1


def test_queue_from_list_checks_the_queues():
    q0 = tf.FIFOQueue(5, [tf.int32], shapes=[[2]])
    q1 = tf.FIFOQueue(5, [tf.int32], shapes=[[3]])
    q2 = tf.FIFOQueue(5, [tf.float32])
    assert tf.QueueBase.from_list(0, [q0, q1]).shapes[0].ndims is None
    with pytest.raises(TypeError, match="different component types"):
        tf.QueueBase.from_list(0, [q0, q2])
    with pytest.raises(TypeError, match="A list of queues expected"):
        tf.QueueBase.from_list(0, [q0, "q"])


def test_generate_checkpoint_state_proto_is_exported():
    state = tf.train.generate_checkpoint_state_proto(
        "/tmp/train", "/tmp/train/model-2", ["/tmp/train/model-1"])
    assert state.model_checkpoint_path == "/tmp/train/model-2"
    assert list(state.all_model_checkpoint_paths) == ["/tmp/train/model-1",
                                                      "/tmp/train/model-2"]
