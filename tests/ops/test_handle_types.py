"""Handle types as TF 0.9/1.0 had them (issue 10): queues and readers with `string_ref`
handles ([container, name] in a reference), TensorArrays with a string handle; the V2 queue
and V3 TensorArray ops (resource handles) still build and run, in one graph and through
GraphDef export and import."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import data_flow_ops, tensor_array_ops
from tensorflux.python.ops import gen_data_flow_ops

pytestmark = pytest.mark.timeout(60)


def _attrs(node_def):
    return {k: node_def.attr[k].WhichOneof("value") for k in node_def.attr}


def test_fifo_queue_node_def_is_tf09s():
    """TF 0.9's fifo_queue_test.testConstructor: the NodeDef, field for field."""
    with tf.Graph().as_default():
        q = tf.FIFOQueue(10, tf.float32, name="Q")
    assert isinstance(q.queue_ref, tf.Tensor) and q.queue_ref.dtype == tf.string_ref
    node = q.queue_ref.op.node_def
    assert (node.name, node.op, list(node.input)) == ("Q", "FIFOQueue", [])
    assert _attrs(node) == {"component_types": "list", "shapes": "list", "capacity": "i",
                            "container": "s", "shared_name": "s"}
    assert list(node.attr["component_types"].list.type) == [tf.float32.as_datatype_enum]
    assert len(node.attr["shapes"].list.shape) == 0 and node.attr["capacity"].i == 10
    assert node.attr["container"].s == b"" and node.attr["shared_name"].s == b""


@pytest.mark.parametrize("make,op_type", [
    (lambda: tf.FIFOQueue(2, tf.int32), "FIFOQueue"),
    (lambda: tf.PaddingFIFOQueue(2, tf.int32, shapes=[[None]]), "PaddingFIFOQueue"),
    (lambda: tf.RandomShuffleQueue(2, 0, tf.int32), "RandomShuffleQueue"),
    (lambda: tf.PriorityQueue(2, [tf.int32], shapes=[[]]), "PriorityQueue")])
def test_queue_handles_are_string_refs_and_verbs_are_v1(make, op_type):
    q = make()
    assert q.queue_ref.op.type == op_type and q.queue_ref.dtype == tf.string_ref
    assert q.queue_ref.get_shape().as_list() == [2]
    batch = {"PriorityQueue": [[1], [1]], "PaddingFIFOQueue": [[[1]]]}.get(op_type, [[1]])
    verbs = [q.enqueue_many(batch).type,
             q.size().op.type, q.close().type, q.is_closed().op.type]
    assert verbs == ["QueueEnqueueMany", "QueueSize", "QueueClose", "QueueIsClosed"]
    deq = q.dequeue()
    assert (deq[0] if isinstance(deq, list) else deq).op.type == "QueueDequeue"


def test_queue_handle_values_name_container_and_queue():
    shared = tf.FIFOQueue(2, tf.int32, shared_name="jobs")
    private = tf.FIFOQueue(2, tf.int32, name="mine")
    boxed = data_flow_ops.QueueBase([tf.int32], None, None, apply_op(
        "FIFOQueue", component_types=[tf.int32], container="box", shared_name="jobs"))
    with tf.Session() as sess:
        values = sess.run([shared.queue_ref, private.queue_ref, boxed.queue_ref])
        sess.run(boxed.enqueue(5))
        assert sess.run([shared.size(), boxed.size()]) == [0, 1]  # containers apart
    assert values[0].tolist() == [b"localhost", b"jobs"]
    assert values[1][0] == b"localhost" and b"mine" in values[1][1]
    assert values[2].tolist() == [b"box", b"jobs"]


def test_v1_and_v2_queue_ops_share_a_queue_by_shared_name():
    v1 = tf.FIFOQueue(3, tf.int32, shapes=[[]], shared_name="both")
    v2 = data_flow_ops.QueueBase(v1.dtypes, v1.shapes, None, gen_data_flow_ops.fifo_queue_v2(
        [tf.int32], shapes=[[]], capacity=3, shared_name="both"))
    assert v2.queue_ref.dtype == tf.resource and v2.enqueue(1).type == "QueueEnqueueV2"
    with tf.Session() as sess:
        sess.run(v1.enqueue_many([[1, 2]]))
        sess.run(v2.enqueue(3))
        assert sess.run(v2.dequeue_many(2)).tolist() == [1, 2]
        assert sess.run(v1.dequeue()) == 3


def test_from_list_selects_v1_handles_with_ref_select_and_v2_with_gather():
    qs = [tf.FIFOQueue(3, tf.int32, shapes=[[]]) for _ in range(2)]
    index = tf.placeholder(tf.int32, [])
    chosen = tf.QueueBase.from_list(index, qs)
    assert chosen.queue_ref.op.type == "RefSelect" and chosen.queue_ref.dtype == tf.string_ref
    v2 = [data_flow_ops.QueueBase(q.dtypes, q.shapes, None, gen_data_flow_ops.fifo_queue_v2(
        [tf.int32], shapes=[[]], capacity=3)) for q in qs]
    assert tf.QueueBase.from_list(1, v2).queue_ref.op.type in ("Gather", "GatherV2")
    with tf.Session() as sess:
        sess.run(chosen.enqueue(7), {index: 1})
        assert sess.run([qs[0].size(), qs[1].size()]) == [0, 1]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"range \[0, 2\) but got 2"):
            sess.run(chosen.size(), {index: 2})


def test_readers_read_v1_queues_and_through_fake_queue_v2_queues(tmp_path):
    path = str(tmp_path / "lines.txt")
    with open(path, "w") as f:
        f.write("one\ntwo\n")
    reader = tf.TextLineReader()
    assert reader.reader_ref.dtype == tf.string_ref and reader.reader_ref.op.type == \
        "TextLineReader"
    v1 = tf.FIFOQueue(2, tf.string, shapes=[[]])
    v2 = data_flow_ops.QueueBase([tf.string], [tf.TensorShape([])], None,
                                 gen_data_flow_ops.fifo_queue_v2([tf.string], shapes=[[]]))
    read_v1, read_v2 = reader.read(v1)[1], reader.read(v2)[1]
    assert read_v1.op.type == "ReaderRead"
    assert read_v2.op.inputs[1].op.type == "FakeQueue"
    with tf.Session() as sess:
        sess.run(v1.enqueue(path))
        assert sess.run(read_v1) == b"one"
        sess.run(v2.enqueue(path))
        assert [sess.run(read_v2), sess.run(read_v2), sess.run(read_v2)] == [b"two", b"one",
                                                                            b"two"]


def test_tensor_array_handle_is_a_fresh_string_vector_per_run():
    ta = tf.TensorArray(tf.float32, size=2, tensor_array_name="acc")
    assert ta.handle.op.type == "TensorArrayV2" and ta.handle.dtype == tf.string
    assert ta.handle.get_shape().as_list() == [2] and ta.flow.op.type == "Const"
    grad = ta.grad("gradients")
    assert grad.handle.op.type == "TensorArrayGradV2" and grad.handle.dtype == tf.string
    with tf.Session() as sess:
        first, second = sess.run(ta.handle), sess.run(ta.handle)
    assert type(first) is np.ndarray and first[0] == b"_tensor_arrays"
    assert first[1].startswith(b"acc_") and first[1] != second[1]


def test_dynamic_rnn_and_its_gradient_use_only_v2_tensor_arrays():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    cell = tf.nn.rnn_cell.BasicRNNCell(5)
    out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    grad = tf.gradients(tf.reduce_sum(out), x)[0]
    types = {op.type for op in tf.get_default_graph().get_operations()}
    array_types = {t for t in types if t.startswith("TensorArray")}
    assert array_types and all(t.endswith("V2") for t in array_types), array_types
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(grad, {x: np.ones([2, 3, 4], np.float32)})
    assert value.shape == (2, 3, 4) and np.all(np.isfinite(value))


def _three_families(x):
    """x stacked back and its gradient, through a TensorArray of each family."""
    outs = []
    for version in (1, 2, 3):
        family = tensor_array_ops.FAMILIES[version]
        made = apply_op(family[""], tf.constant(3), dtype=tf.float32, name=f"ta{version}")
        handle, flow = made if version == 3 else (made, None)
        ta = tf.TensorArray(tf.float32, handle=handle, flow=flow).unstack(x)
        outs.append(tf.identity(ta.stack(), name=f"stacked{version}"))
    return outs


def test_graph_def_round_trip_runs_v1_v2_and_v3_ops():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3, 2], name="x")
        stacked = _three_families(x)
        dx = tf.gradients(tf.add_n([tf.reduce_sum(s * s) for s in stacked]), x)[0]
        q1 = tf.FIFOQueue(4, tf.float32, shapes=[[2]], name="q1")
        q1.enqueue_many(x, name="fill1")
        q1.dequeue_many(3, name="take1")
        q2 = data_flow_ops.QueueBase([tf.float32], [tf.TensorShape([2])], None,
                                     gen_data_flow_ops.fifo_queue_v2([tf.float32], shapes=[[2]],
                                                                     name="q2"))
        q2.enqueue_many(x, name="fill2")
        q2.dequeue_many(3, name="take2")
    ops_in_def = {n.op for n in g.as_graph_def().node}
    assert {"TensorArray", "TensorArrayV2", "TensorArrayV3", "TensorArrayPack",
            "TensorArrayUnpack", "FIFOQueue", "FIFOQueueV2", "QueueEnqueueMany",
            "QueueEnqueueManyV2"} <= ops_in_def
    value = np.arange(6, dtype=np.float32).reshape(3, 2)
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(g.as_graph_def(), name="")
        with tf.Session(graph=imported) as sess:
            got = sess.run(["stacked1:0", "stacked2:0", "stacked3:0", dx.name],
                           {"x:0": value})
            sess.run(["fill1", "fill2"], {"x:0": value})
            taken = sess.run(["take1:0", "take2:0"])
    for s in got[:3]:
        np.testing.assert_array_equal(s, value)
    np.testing.assert_array_equal(got[3], 6 * value)  # three arrays, d(s*s) = 2s each
    np.testing.assert_array_equal(taken[0], value)
    np.testing.assert_array_equal(taken[1], value)
