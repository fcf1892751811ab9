"""graph_util: freezing variables, extracting subgraphs, removing training nodes."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import graph_util
from tensorflux.framework import protos
from tensorflux.framework.importer import import_graph_def
from tensorflux.python.framework import graph_util as shim


def _trained_session():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable(np.array([[1.0], [2.0]], np.float32), name="w")
    b = tf.Variable(np.array([0.5], np.float32), name="b")
    y = tf.identity(tf.matmul(x, w) + b, name="y")
    unused = tf.Variable(3.0, name="unused")
    tf.identity(unused, name="other_output")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(w.assign([[10.0], [20.0]]))  # "trained" values, not the initial ones
    return sess, x, y


def test_freeze_converts_needed_variables_and_drops_the_rest():
    sess, x, y = _trained_session()
    frozen = graph_util.convert_variables_to_constants(sess, sess.graph.as_graph_def(), ["y"])
    ops_by_name = {n.name: n.op for n in frozen.node}
    assert ops_by_name["w"] == "Const" and ops_by_name["b"] == "Const"
    assert "unused" not in ops_by_name and "w/Assign" not in ops_by_name
    expected = sess.run(y, {x: [[1.0, 1.0]]})
    with tf.Graph().as_default():
        y2, x2 = import_graph_def(frozen, return_elements=["y:0", "x:0"], name="")
        with tf.Session() as sess2:  # no initialization needed any more
            np.testing.assert_allclose(sess2.run(y2, {x2: [[1.0, 1.0]]}), expected)
    np.testing.assert_allclose(expected, [[30.5]])


def test_freeze_white_and_black_lists():
    sess, _, _ = _trained_session()
    graph_def = sess.graph.as_graph_def()
    only_w = graph_util.convert_variables_to_constants(sess, graph_def, ["y"],
                                                       variable_names_whitelist=["w"])
    assert {n.name: n.op for n in only_w.node}["b"] == "VariableV2"
    not_w = graph_util.convert_variables_to_constants(sess, graph_def, ["y"],
                                                      variable_names_blacklist=["w"])
    assert {n.name: n.op for n in not_w.node}["w"] == "VariableV2"
    assert shim.convert_variables_to_constants is graph_util.convert_variables_to_constants


def test_extract_sub_graph_follows_data_and_control_inputs():
    graph_def = protos.GraphDef()
    for name, inputs in [("a", []), ("b", ["a"]), ("c", ["b:0", "^d"]), ("d", []), ("e", ["a"])]:
        graph_def.node.add(name=name, op="NoOp", input=inputs)
    graph_def.versions.producer = 21
    sub = graph_util.extract_sub_graph(graph_def, ["c"])
    assert [n.name for n in sub.node] == ["a", "b", "c", "d"]
    assert sub.versions.producer == 21
    with pytest.raises(TypeError, match="list of node names"):
        graph_util.extract_sub_graph(graph_def, "c")
    with pytest.raises(AssertionError, match="zzz"):
        graph_util.extract_sub_graph(graph_def, ["zzz"])
    with pytest.raises(TypeError, match="GraphDef proto"):
        graph_util.extract_sub_graph(b"", ["c"])


def test_remove_training_nodes_rewires_consumers():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [2], name="x")
        i1 = tf.identity(x, name="i1")
        i2 = tf.identity(i1, name="i2")
        keep = tf.identity(i2, name="keep")
        tf.add(i2, keep, name="out")
    stripped = graph_util.remove_training_nodes(graph.as_graph_def(), protected_nodes=["keep"])
    inputs = {n.name: list(n.input) for n in stripped.node}
    assert "i1" not in inputs and "i2" not in inputs
    assert inputs["keep"] == ["x"] and inputs["out"] == ["x", "keep"]
    with tf.Graph().as_default():
        out, x2 = import_graph_def(stripped, return_elements=["out:0", "x:0"])
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out, {x2: [1.0, 2.0]}), [2.0, 4.0])
