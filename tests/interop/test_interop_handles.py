"""TensorFlow 2.21 runs our graphs with TF 0.9's handle types (V1 queues and readers with
string_ref handles, TensorArrayV2 with string handles, RefSelect), and we run the V2 queues and
V3 TensorArrays TensorFlow builds today; skipped without TensorFlow.

Run with a Python that has TensorFlow, e.g.
    PYTHONPATH=$PWD /work/peers/bin/python -m pytest -q -m "interop or tensorflow" tests/interop
"""
import numpy as np
import pytest

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1

import tensorflux as tf  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def _in_tensorflow(graph_def, steps):
    """Imports `graph_def` into TensorFlow and runs `steps` [(fetches, feed)] in one session."""
    with real_tf.Graph().as_default() as graph:
        tf1.import_graph_def(tf1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with tf1.Session(graph=graph) as sess:
            return [sess.run(fetches, feed) for fetches, feed in steps]


def _in_tensorflux(graph, steps):
    with tf.Session(graph=graph) as sess:
        return [sess.run(fetches, feed) for fetches, feed in steps]


def _both(graph, steps):
    return _in_tensorflux(graph, steps), _in_tensorflow(graph.as_graph_def(), steps)


def test_tensorflow_runs_our_v1_queues_and_ref_select():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        index = tf.placeholder(tf.int32, [], name="index")
        q = tf.FIFOQueue(8, tf.float32, shapes=[[2]], name="q")
        p = tf.PaddingFIFOQueue(8, tf.float32, shapes=[[None]], name="p")
        pq = tf.PriorityQueue(8, [tf.float32], shapes=[[2]], name="pq")
        picked = tf.QueueBase.from_list(index, [q, tf.FIFOQueue(8, tf.float32, shapes=[[2]])])
        q.enqueue_many(x, name="fill")
        p.enqueue(x[0], name="fill_p")
        pq.enqueue_many([tf.constant([3, 1], tf.int64), x], name="fill_pq")
        picked.dequeue(name="take")
        tf.identity(q.size(), name="left")
        tf.identity(p.dequeue_many(1), name="padded")
        tf.identity(pq.dequeue()[1], name="first_by_priority")
    assert {n.op for n in g.as_graph_def().node} >= {
        "FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "RefSelect", "QueueEnqueueMany",
        "QueueDequeue", "QueueSize"}
    value = np.arange(4, dtype=np.float32).reshape(2, 2)
    steps = [(["fill", "fill_p", "fill_pq"], {"x:0": value}),
             ("take:0", {"index:0": 0}), ("left:0", None), ("padded:0", None),
             ("first_by_priority:0", None)]
    ours, theirs = _both(g, steps)
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(theirs[4], value[1])


def test_tensorflow_runs_our_reader_pipeline(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("alpha\nbeta\ngamma\n")
    with tf.Graph().as_default() as g:
        files = tf.FIFOQueue(2, tf.string, shapes=[[]], name="files")
        files.enqueue([str(path)], name="add_file")
        files.close(name="close_files")
        reader = tf.TextLineReader(name="lines")
        tf.identity(reader.read_up_to(files, 5)[1], name="values")
    assert {n.op for n in g.as_graph_def().node} >= {"TextLineReader", "ReaderReadUpTo"}
    steps = [("add_file", None), ("close_files", None), ("values:0", None)]
    ours, theirs = _both(g, steps)
    assert list(ours[2]) == list(theirs[2]) == [b"alpha", b"beta", b"gamma"]


def test_tensorflow_runs_our_tensor_arrays_and_their_gradients():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [4, 3], name="x")
        ta = tf.TensorArray(tf.float32, size=4, clear_after_read=False).unstack(x)
        squares = tf.map_fn(lambda row: row * row, x)
        total = tf.reduce_sum(ta.stack() * 3.0) + tf.reduce_sum(squares)
        tf.identity(tf.gradients(total, x)[0], name="dx")
        tf.identity(ta.concat(), name="joined")
    types = {n.op for n in g.as_graph_def().node}
    assert "TensorArrayV2" in types and "TensorArrayGradV2" in types
    assert not any(t.endswith("V3") for t in types)
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    ours, theirs = _both(g, [(["dx:0", "joined:0"], {"x:0": value})])
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(ours[0][0], 3.0 + 2 * value, rtol=1e-6)


def test_tensorflow_runs_our_dynamic_rnn_the_same():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2, 5, 3], name="x")
        cell = tf.nn.rnn_cell.BasicRNNCell(4)
        out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        tf.identity(out, name="out")
        tf.identity(tf.gradients(tf.reduce_sum(out * out), x)[0], name="dx")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            frozen = tf.graph_util.convert_variables_to_constants(
                sess, g.as_graph_def(), ["out", "dx"])
    value = np.random.default_rng(0).standard_normal([2, 5, 3]).astype(np.float32)
    with tf.Graph().as_default() as ours_graph:
        tf.import_graph_def(frozen, name="")
    ours = _in_tensorflux(ours_graph, [(["out:0", "dx:0"], {"x:0": value})])[0]
    theirs = _in_tensorflow(frozen, [(["out:0", "dx:0"], {"x:0": value})])[0]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _tensorflow_graph_with_v2_queue_and_v3_tensor_array():
    """TF 1.x's graph ops, made by TensorFlow 2.21 with v1 control flow (with v2 it would
    build TensorLists)."""
    was_v2 = tf1.control_flow_v2_enabled()
    tf1.disable_control_flow_v2()
    try:
        with real_tf.Graph().as_default() as theirs:
            x = tf1.placeholder(tf1.float32, [3, 2], name="x")
            q = tf1.FIFOQueue(4, tf1.float32, shapes=[[2]], name="q")
            q.enqueue_many(x, name="fill")
            real_tf.identity(q.dequeue_many(3), name="taken")
            ta = tf1.TensorArray(tf1.float32, size=3).unstack(x)
            real_tf.identity(tf1.gradients(tf1.reduce_sum(ta.stack() * 2.0), x)[0], name="dx")
        return theirs.as_graph_def()
    finally:
        if was_v2:
            tf1.enable_control_flow_v2()


def test_we_run_tensorflows_v2_queues_and_v3_tensor_arrays():
    graph_def = _tensorflow_graph_with_v2_queue_and_v3_tensor_array()
    types = {n.op for n in graph_def.node}
    assert {"FIFOQueueV2", "TensorArrayV3", "TensorArrayGradV3"} <= types
    with tf.Graph().as_default() as g:
        tf.import_graph_def(tf.GraphDef.FromString(graph_def.SerializeToString()), name="")
    value = np.arange(6, dtype=np.float32).reshape(3, 2)
    ours = _in_tensorflux(g, [("fill", {"x:0": value}), (["taken:0", "dx:0"], {"x:0": value})])
    np.testing.assert_array_equal(ours[1][0], value)
    np.testing.assert_array_equal(ours[1][1], np.full([3, 2], 2.0, np.float32))
