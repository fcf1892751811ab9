"""Partitioning: a 4-device model-parallel deep LSTM gives bit-identical results to one device
and has exactly the expected _Send/_Recv pairs; control edges cross devices too."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.runtime import partition as partition_lib
from tensorflux.runtime.device_mgr import DeviceMgr
from tensorflux.runtime.executor import prune, topological_order
from tensorflux.runtime.placer import Placer

pytestmark = pytest.mark.timeout(60)

LOCAL = "/job:localhost/replica:0/task:0/device:CPU:%d"
LAYERS, STEPS, BATCH, DIM, HIDDEN = 4, 3, 2, 4, 5


def _lstm_layer(inputs, in_dim, rng, name):
    """A plain LSTM layer unrolled over `inputs`; returns its output at each step."""
    def weights(shape, label):
        return tf.Variable(rng.standard_normal(shape).astype(np.float32) * 0.5, name=label)
    with tf.name_scope(name):
        gates = {g: (weights([in_dim, HIDDEN], f"W{g}"), weights([HIDDEN, HIDDEN], f"U{g}"),
                     weights([HIDDEN], f"b{g}")) for g in "ifoc"}
        h = tf.zeros([BATCH, HIDDEN])
        c = tf.zeros([BATCH, HIDDEN])
        outputs = []
        for x in inputs:
            pre = {g: tf.matmul(x, w) + tf.matmul(h, u) + b for g, (w, u, b) in gates.items()}
            c = tf.sigmoid(pre["f"]) * c + tf.sigmoid(pre["i"]) * tf.tanh(pre["c"])
            h = tf.sigmoid(pre["o"]) * tf.tanh(c)
            outputs.append(h)
    return outputs


def _deep_lstm(model_parallel):
    """The talk's example: layer d on /cpu:d (or everything on the default device)."""
    rng = np.random.default_rng(42)
    xs = [tf.placeholder(tf.float32, [BATCH, DIM], name=f"x{t}") for t in range(STEPS)]
    outputs, in_dim = xs, DIM
    for d in range(LAYERS):
        if model_parallel:
            with tf.device("/cpu:%d" % d):
                outputs = _lstm_layer(outputs, in_dim, rng, f"layer{d}")
        else:
            outputs = _lstm_layer(outputs, in_dim, rng, f"layer{d}")
        in_dim = HIDDEN
    return xs, outputs


def _run_deep_lstm(model_parallel, devices):
    graph = tf.Graph()
    with graph.as_default():
        xs, outputs = _deep_lstm(model_parallel)
        init = tf.global_variables_initializer()
    feed_rng = np.random.default_rng(7)
    feed = {x: feed_rng.standard_normal([BATCH, DIM]).astype(np.float32) for x in xs}
    config = tf.ConfigProto(device_count={"CPU": devices})
    with tf.Session(graph=graph, config=config) as sess:
        sess.run(init)
        metadata = tf.RunMetadata()
        result = sess.run(outputs, feed, options=tf.RunOptions(output_partition_graphs=True),
                          run_metadata=metadata)
        again = sess.run(outputs, feed)
        devices_seen = {d.name for d in sess.list_devices()}
    return result, again, metadata.partition_graphs, devices_seen


def test_model_parallel_lstm_is_bit_identical_to_one_device():
    parallel, parallel_again, graphs, _ = _run_deep_lstm(True, 4)
    single, _, single_graphs, _ = _run_deep_lstm(False, 1)
    assert len(graphs) == 4 and len(single_graphs) == 1
    for a, b, c in zip(parallel, parallel_again, single):
        assert a.dtype == np.float32 and a.shape == (BATCH, HIDDEN)
        assert np.array_equal(a, c)
        assert np.array_equal(a, b)


def test_model_parallel_lstm_has_expected_send_recv_pairs():
    _, _, graphs, _ = _run_deep_lstm(True, 4)
    by_device = {g.node[0].device: g for g in graphs}
    assert sorted(by_device) == [LOCAL % d for d in range(4)]
    sends, recvs = {}, {}
    for device, graph_def in by_device.items():
        for node in graph_def.node:
            assert node.device == device
            if node.op == "_Send":
                assert node.attr["send_device"].s.decode() == device
                sends[node.attr["tensor_name"].s.decode()] = node
            elif node.op == "_Recv":
                assert node.attr["recv_device"].s.decode() == device
                recvs[node.attr["tensor_name"].s.decode()] = node
    # Layer d's output at each step goes to layer d+1: one pair per (tensor, device).
    assert len(sends) == len(recvs) == (LAYERS - 1) * STEPS
    assert sorted(sends) == sorted(recvs)
    for name, send in sends.items():
        recv = recvs[name]
        src = int(send.attr["send_device"].s.decode()[-1])
        assert recv.attr["send_device"].s.decode() == LOCAL % src
        assert recv.attr["recv_device"].s.decode() == LOCAL % (src + 1)
        assert send.attr["recv_device"] == recv.attr["recv_device"]
        assert send.attr["send_device_incarnation"].i == recv.attr[
            "send_device_incarnation"].i != 0
        assert send.attr["T"].type == recv.attr["tensor_type"].type == tf.float32.as_datatype_enum
        assert send.attr["client_terminated"].b is False
        assert len(send.input) == 1 and send.input[0].startswith(f"layer{src}/")
        assert not recv.input
    # Consumers on the next device read the _Recv, not the remote tensor.
    layer1 = [n for n in by_device[LOCAL % 1].node if n.op == "MatMul"]
    recv_names = {n.name for n in by_device[LOCAL % 1].node if n.op == "_Recv"}
    # Each received h feeds the four gate MatMuls: one Recv, four consumers.
    assert sum(1 for n in layer1 for i in n.input if i in recv_names) == 4 * STEPS


def _partitions(fetches, devices=4, fed=()):
    graph = fetches[0].graph
    order = topological_order(prune(fetches, [], set(fed)), set(fed))
    placer = Placer(DeviceMgr.from_config(tf.ConfigProto(device_count={"CPU": devices})))
    assignment = placer.place(graph, order)
    return partition_lib.partition(order, assignment, set(fed), placer.device_mgr.devices)


def test_one_recv_per_tensor_and_destination():
    with tf.device("/cpu:0"):
        x = tf.constant(np.arange(3, dtype=np.float32), name="x")
    with tf.device("/cpu:1"):
        a = tf.negative(x, name="a")
        b = tf.square(x, name="b")
    with tf.device("/cpu:2"):
        c = tf.abs(x, name="c")
    parts = _partitions([a, b, c])
    by_device = {p.device.name: p for p in parts}
    assert len(by_device[LOCAL % 0].sends) == 2
    assert len(by_device[LOCAL % 1].recvs) == 1
    assert len(by_device[LOCAL % 2].recvs) == 1
    recv = by_device[LOCAL % 1].recvs[0]
    assert recv.get_attr("tensor_name") == "x:0"
    assert recv._outputs[0].get_shape().as_list() == [3]
    nodes = {n.op.name: n for n in by_device[LOCAL % 1].nodes}
    assert nodes["a"].inputs == [recv._outputs[0]] and nodes["b"].inputs == [recv._outputs[0]]
    assert x.op.graph.get_operations()[-1].name == "c"  # the user's graph is unchanged
    assert x.consumers() == [a.op, b.op, c.op]


def test_partitions_are_topologically_ordered_and_fed_tensors_do_not_cross():
    p = tf.placeholder(tf.float32, [2], name="p")
    with tf.device("/cpu:1"):
        y = tf.negative(p, name="y")
    with tf.device("/cpu:2"):
        z = tf.add(y, p, name="z")
    parts = _partitions([z], fed=[p])
    for part in parts:
        seen = set()
        for node in part.nodes:
            for t in node.inputs:
                assert t is p or t.op in seen
            seen.add(node.op)
    names = [t for part in parts for op in part.recvs for t in [op.get_attr("tensor_name")]]
    assert names == ["y:0"]


def test_cross_device_control_edges_order_the_step():
    with tf.device("/cpu:0"):
        v = tf.Variable(np.float32(1.0), name="v")
        bump = tf.assign_add(v, np.float32(10.0), name="bump")
    with tf.device("/cpu:1"):
        with tf.control_dependencies([bump]):
            out = tf.identity(tf.constant(5.0, name="five"), name="out")
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        sess.run(v.initializer)
        metadata = tf.RunMetadata()
        assert sess.run(out, options=tf.RunOptions(output_partition_graphs=True),
                        run_metadata=metadata) == 5.0
        assert sess.run(v) == 11.0
    graphs = {g.node[0].device: {n.name: n for n in g.node} for g in metadata.partition_graphs}
    src, dst = graphs[LOCAL % 0], graphs[LOCAL % 1]
    dummy = [n for n in src.values() if n.op == "Const" and "^bump" in list(n.input)]
    assert len(dummy) == 1
    send = [n for n in src.values() if n.op == "_Send"]
    assert len(send) == 1 and list(send[0].input) == [dummy[0].name]
    assert send[0].attr["tensor_name"].s == b"^bump"
    recv = [n for n in dst.values() if n.op == "_Recv"]
    assert len(recv) == 1 and f"^{recv[0].name}" in list(dst["five"].input)


@pytest.mark.parametrize("devices", [1, 2])
def test_control_edges_from_fed_ops_are_satisfied_by_the_feed(devices):
    x = tf.placeholder(tf.float32, [2], name="x")
    with tf.device("/cpu:%d" % (devices - 1)):
        with tf.control_dependencies([x.op]):
            y = tf.identity(tf.constant([1.0, 2.0]), name="y")
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": devices})) as sess:
        np.testing.assert_array_equal(sess.run(y, {x: np.zeros(2)}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed"):
            sess.run(y)  # unfed, the placeholder runs (and fails)
