"""Placement: explicit and partial constraints, soft placement, impossible placements,
colocation groups and log_device_placement."""
import io

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import registry
from tensorflux.runtime.device_mgr import DeviceMgr
from tensorflux.runtime.placer import Placer, colocation_groups

pytestmark = pytest.mark.timeout(30)

LOCAL = "/job:localhost/replica:0/task:0/device:CPU:%d"


def _config(n=4, **kwargs):
    return tf.ConfigProto(device_count={"CPU": n}, **kwargs)


def _placer(n=4, **kwargs):
    return Placer(DeviceMgr.from_config(_config(n)), log_stream=io.StringIO(), **kwargs)


def _place(ops, n=4, **kwargs):
    placer = _placer(n, **kwargs)
    graph = ops[0].graph
    return {op.name: d.name for op, d in placer.place(graph, graph.get_operations()).items()}


def test_explicit_and_default_placement():
    a = tf.constant(1.0, name="a")
    with tf.device("/cpu:2"):
        b = tf.constant(2.0, name="b")
    with tf.device("/device:CPU:3"):
        c = tf.add(a, b, name="c")
    placed = _place([a.op, b.op, c.op])
    assert placed == {"a": LOCAL % 0, "b": LOCAL % 2, "c": LOCAL % 3}


@pytest.mark.parametrize("spec, want", [("/cpu:*", 0), ("/job:localhost", 0),
                                        ("/job:localhost/replica:0/task:0", 0),
                                        ("/job:localhost/device:CPU:1", 1)])
def test_partial_specs(spec, want):
    with tf.device(spec):
        a = tf.constant(1.0, name="a")
    assert _place([a.op])["a"] == LOCAL % want


@pytest.mark.parametrize("spec", ["/gpu:0", "/cpu:7", "/job:worker/task:1"])
def test_impossible_placement_names_op_request_and_devices(spec):
    with tf.device(spec):
        a = tf.constant(1.0, name="impossible")
    with tf.Session(config=_config(2)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(a)
    message = str(info.value)
    assert "'impossible'" in message
    assert tf.DeviceSpec.from_string(spec).to_string() in message
    assert LOCAL % 0 in message and LOCAL % 1 in message
    assert info.value.op is a.op


def test_soft_placement_falls_back():
    with tf.device("/gpu:0"):
        a = tf.constant(3.0, name="a")
    with tf.device("/cpu:9"):
        b = a * 2.0
    with tf.Session(config=_config(2, allow_soft_placement=True)) as sess:
        assert sess.run(b) == 6.0
    placed = _place([a.op, b.op], n=2, allow_soft_placement=True)
    assert placed["a"] == LOCAL % 0
    assert placed[b.op.name] == LOCAL % 0  # the CPU type is kept, the index dropped


def _fake_op_def(name, device_types):
    op_def = registry.OpDef(name, [], ["y: float"], {}, False, "test")
    for device_type in device_types:
        op_def.kernel(device_type)(lambda ctx: np.float32(1))
    return op_def


def test_op_without_kernel_for_device_type():
    g = tf.get_default_graph()
    gpu_only = g.create_op("GpuOnlyOp", [], [tf.float32], name="gpu_only",
                           op_def=_fake_op_def("GpuOnlyOp", ["GPU"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="gpu_only.*kernel"):
        _place([gpu_only])
    with pytest.raises(tf.errors.InvalidArgumentError, match="gpu_only"):
        _place([gpu_only], allow_soft_placement=True)  # no feasible device at all


def test_colocate_with_overrides_device_scopes():
    with tf.device("/cpu:1"):
        a = tf.constant(1.0, name="a")
    with tf.device("/cpu:3"):
        with tf.colocate_with(a.op):
            b = tf.identity(a, name="b")
    assert b.op.get_attr("_class") == ["loc:@a"]
    assert _place([a.op, b.op]) == {"a": LOCAL % 1, "b": LOCAL % 1}


def test_variable_group_follows_any_member_constraint():
    from tensorflux.python.ops import gen_data_flow_ops
    q = tf.QueueBase([tf.float32], None, None,
                     gen_data_flow_ops.fifo_queue_v2([tf.float32], name="q"))
    with tf.device("/cpu:2"):  # a resource handle's consumer: grouped with the queue
        deq = q.dequeue(name="deq")
    groups = colocation_groups(tf.get_default_graph())
    assert groups[deq.op] is groups[q.queue_ref.op]
    placed = _place(tf.get_default_graph().get_operations())
    assert placed["q"] == placed["deq"] == LOCAL % 2


def test_v1_queue_consumer_is_made_with_its_queue():
    q = tf.FIFOQueue(3, tf.float32, name="q")  # a string_ref handle: TF 1.x's op_def_library
    with tf.device("/cpu:2"):  # colocates the reference's consumer when it is created
        deq = q.dequeue(name="deq")
    assert deq.op.device == q.queue_ref.op.device
    placed = _place(tf.get_default_graph().get_operations())
    assert placed["q"] == placed["deq"]


def test_an_update_is_created_with_its_variable_ignoring_device_scopes():
    # TF 1.x builds an op taking a reference inside colocate_with(variable): its device scope
    # is ignored (TF 0.9 let it pull the variable's group to /cpu:2 instead)
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    with tf.device("/cpu:2"):
        update = tf.assign_add(v, np.ones(3, np.float32), name="update")
    assert update.device == "" and update.op.colocation_groups() == [b"loc:@v"]
    groups = colocation_groups(tf.get_default_graph())
    assert groups[update.op] is groups[v.op] is groups[v.initializer]
    placed = _place(tf.get_default_graph().get_operations())
    for name in ("v", "v/Assign", "v/read", "update"):
        assert placed[name] == LOCAL % 0, name
    with tf.Session(config=_config()) as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(update), np.ones(3))


def test_an_op_taking_a_reference_runs_where_the_variable_is():
    # TensorFlow: "Ignoring device specification /cpu:2 for node 'update' because the input
    # edge from 'v' is a reference connection and already has a device field set to /cpu:1".
    with tf.device("/cpu:1"):
        v = tf.Variable(np.zeros(2, np.float32), name="v")
    with tf.device("/cpu:2"):
        update = tf.assign_add(v, np.ones(2, np.float32), name="update")
    placed = _place([update.op])
    assert placed["update"] == placed["v"] == LOCAL % 1


def test_conflicting_explicit_colocation_fails_unless_soft():
    with tf.device("/cpu:1"):
        tf.constant(1.0, name="a")
    with tf.device("/cpu:2"):
        b = tf.constant(2.0, name="b")
    b.op._set_attr("_class", [b"loc:@a"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot colocate.*'a'.*'b'"):
        _place([b.op])
    placed = _place([b.op], allow_soft_placement=True)
    assert placed["b"] == LOCAL % 1


def test_log_device_placement_prints_each_decision(capsys):
    with tf.device("/cpu:1"):
        a = tf.constant(1.0, name="a")
    b = tf.negative(a, name="b")
    with tf.Session(config=_config(2, log_device_placement=True)) as sess:
        sess.run(b)
        sess.run(b)  # decisions are printed once
    err = capsys.readouterr().err
    assert f"a: (Const): {LOCAL % 1}\n" in err
    assert f"b: (Neg): {LOCAL % 0}\n" in err
    assert err.count("b: (Neg)") == 1


def test_placement_is_stable_across_plans_and_graph_extension():
    with tf.device("/cpu:1"):
        v = tf.Variable(np.float32(1.0), name="v")
    with tf.Session(config=_config(2)) as sess:
        sess.run(v.initializer)
        with tf.device("/cpu:0"):
            w = v * 3.0  # added after the first run
        assert sess.run(w) == 3.0
        assert sess._placer.assignment[v.op].name == LOCAL % 1
        assert sess._placer.assignment[w.op].name == LOCAL % 0


def test_op_without_kernel_fails_on_a_one_device_session_too():
    g = tf.get_default_graph()
    gpu_only = g.create_op("GpuOnlyOp1", [], [tf.float32], name="gpu_only",
                           op_def=_fake_op_def("GpuOnlyOp1", ["GPU"]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Cannot assign a device for operation 'gpu_only'"):
        _place([gpu_only], n=1)


def test_queue_ops_run_where_the_queue_is():
    with tf.device("/cpu:2"):
        queue = tf.FIFOQueue(4, tf.float32, name="queue")
    enqueue = queue.enqueue(tf.constant(1.0), name="enqueue")
    with tf.device("/cpu:1"):
        size = queue.size(name="size")
    placed = _place([queue.queue_ref.op, enqueue, size.op])
    assert placed["enqueue"] == placed["size"] == placed["queue"] == LOCAL % 2
