"""Graph construction: names, scopes, collections, control dependencies, devices, errors."""
import os

import numpy as np
import pytest

import tensorflux as tf


def test_names_are_unique_and_scoped():
    a = tf.constant(1.0, name="a")
    a2 = tf.constant(2.0, name="a")
    with tf.name_scope("layer"):
        b = tf.constant(3.0, name="b")
        with tf.name_scope("inner") as scope:
            c = tf.add(a, b)
    with tf.name_scope("layer"):
        d = tf.constant(4.0, name="b")
    assert (a.name, a2.name, b.name, c.name, d.name) == (
        "a:0", "a_1:0", "layer/b:0", "layer/inner/Add:0", "layer_1/b:0")
    assert scope == "layer/inner/"
    with tf.name_scope("layer/"):
        e = tf.constant(5.0, name="e")
    assert e.name == "layer/e:0"


def test_op_scope_09_argument_order():
    x = tf.constant(1.0)
    with tf.op_scope([x], "mine", "default") as scope:
        assert scope == "mine/"


def test_graph_element_lookup_and_errors():
    x = tf.constant([1.0, 2.0], name="x")
    g = tf.get_default_graph()
    assert g.get_tensor_by_name("x:0") is x
    assert g.get_operation_by_name("x") is x.op
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("y:0")
    with pytest.raises(ValueError, match="refers to an Operation"):
        g.as_graph_element("x", allow_operation=False)


def test_control_dependencies_and_clearing():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    with tf.control_dependencies([a]):
        c = tf.identity(b)
        with tf.control_dependencies(None):
            d = tf.identity(b)
    assert c.op.control_inputs == [a.op]
    assert d.op.control_inputs == []


def test_device_scopes_merge():
    with tf.device("/job:ps/task:1"):
        with tf.device("/cpu:0"):
            a = tf.constant(1.0)
        b = tf.constant(2.0)
    assert a.device == "/job:ps/task:1/device:CPU:0"
    assert b.device == "/job:ps/task:1"
    with tf.device(lambda op: "/gpu:1" if op.type == "Const" else None):
        c = tf.constant(3.0)
    assert c.device == "/device:GPU:1"


def test_colocate_with_sets_class_attr():
    v = tf.Variable(1.0, name="v")
    with tf.colocate_with(v.op):
        c = tf.constant(3.0)
    assert c.op.get_attr("_class") == ["loc:@v"]


def test_collections():
    tf.add_to_collection("things", 1)
    tf.add_to_collections(["things", "more"], 2)
    assert tf.get_collection("things") == [1, 2]
    assert tf.get_collection("more") == [2]
    v = tf.Variable(0.0, name="w")
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="w") == [v]


def test_finalize_blocks_new_ops():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0)
        g.finalize()
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(2.0)


def test_op_records_user_location():
    x = tf.constant(1.0)
    filename, line, _, _ = x.op.traceback[0]
    assert os.path.basename(filename) == "test_graph.py"
    assert line > 0


def test_shape_error_names_op_type_name_shapes_and_location():
    a = tf.placeholder(tf.float32, [3, 4], name="a")
    b = tf.placeholder(tf.float32, [5, 6], name="b")
    with pytest.raises(ValueError) as info:
        tf.matmul(a, b, name="dense")
    message = str(info.value)
    for part in ("MatMul", "'dense'", "(3, 4)", "(5, 6)", "test_graph.py"):
        assert part in message, (part, message)


def test_convert_to_tensor_python_defaults():
    assert tf.convert_to_tensor(1.0).dtype == tf.float32
    assert tf.convert_to_tensor(1).dtype == tf.int32
    assert tf.convert_to_tensor(2**40).dtype == tf.int64
    assert tf.convert_to_tensor([True]).dtype == tf.bool
    assert tf.convert_to_tensor(np.float64(1)).dtype == tf.float64
    assert tf.convert_to_tensor("s").dtype == tf.string
    with pytest.raises(TypeError, match="Expected int32, got 1.5"):
        tf.constant(1.5, dtype=tf.int32)


def test_tensor_is_not_a_bool():
    with pytest.raises(TypeError, match="bool"):
        bool(tf.constant(True))


def test_set_shape_merges_and_rejects():
    p = tf.placeholder(tf.float32, [None, 3])
    p.set_shape([2, None])
    assert p.get_shape().as_list() == [2, 3]
    with pytest.raises(ValueError, match="incompatible"):
        p.set_shape([4, 3])
