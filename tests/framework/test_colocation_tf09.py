"""Colocation and devices as TF 1.x sets them (issue 10): an op updating a variable is created
with the variable (its device and a loc:@ group), an initializer with its variable, a dequeue
runs where its queue lives, nested device scopes and functions merge as in TF, and step stats
name devices as TF 1.x/2.x print them. The `tensorflow`-marked test builds the same graphs with
TensorFlow 2.21 (compat.v1, reference variables) and compares."""
import pytest

import tensorflux

pytestmark = pytest.mark.timeout(60)
tf = tensorflux


def _devices(tf_module, var_kwargs):
    """(name, device, colocation groups) of the ops the cases build."""
    with tf_module.device("/job:ps"):
        with tf_module.device("/cpu:0"):
            a = tf_module.constant(1.0, name="a")
        with tf_module.device("/job:worker/task:1"):
            b = tf_module.constant(1.0, name="b")
    with tf_module.device(lambda op: "/job:ps/task:0" if op.type.startswith("Variable")
                          else "/job:worker"):
        with tf_module.device("/cpu:0"):
            v = tf_module.Variable(tf_module.zeros([2]), name="v", **var_kwargs)
            c = tf_module.constant(2.0, name="c")
    with tf_module.device("/job:worker/task:1"):
        assign = tf_module.assign(v, [1.0, 2.0], name="assign")
        add = tf_module.assign_add(v, [1.0, 1.0], name="assign_add")
        read = tf_module.identity(v, name="read")
    ops = [a.op, b.op, v.op, v.initializer, c.op, assign.op, add.op, read.op]
    return [(op.name, op.device, [g.decode() for g in op.colocation_groups()]) for op in ops]


EXPECTED = [
    ("a", "/job:ps/device:CPU:0", ["loc:@a"]),
    ("b", "/job:worker/task:1", ["loc:@b"]),
    ("v", "/job:ps/task:0", ["loc:@v"]),
    ("v/Assign", "/job:ps/task:0", ["loc:@v"]),  # the initializer, with its variable
    ("c", "/job:worker", ["loc:@c"]),
    ("assign", "/job:ps/task:0", ["loc:@v"]),  # created with the variable it updates
    ("assign_add", "/job:ps/task:0", ["loc:@v"]),
    ("read", "/job:worker/task:1", ["loc:@read"]),  # a plain read is not
]


def test_devices_and_colocation_groups_as_tf():
    assert _devices(tf, {}) == EXPECTED


@pytest.mark.tensorflow
def test_tensorflow_sets_the_same_devices_and_groups():
    real = pytest.importorskip("tensorflow")
    v1 = real.compat.v1
    with v1.Graph().as_default():
        assert _devices(v1, {"use_resource": False}) == EXPECTED


def _step_devices(fetch, config, feed=None):
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(fetch, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=meta)
    return {node.node_name: dev.device for dev in meta.step_stats.dev_stats
            for node in dev.node_stats}


def test_updates_and_dequeues_run_where_their_state_lives():
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.device("/cpu:1"):
        v = tf.Variable(1.0, name="v")
        q = tf.FIFOQueue(3, tf.float32, name="q")
    with tf.device("/cpu:0"):
        up = tf.assign_add(v, 1.0, name="up")
        enq = q.enqueue(5.0, name="enq")
        deq = q.dequeue(name="deq")
        other = tf.constant(3.0, name="other") * 2.0
    cpu1 = "/job:localhost/replica:0/task:0/device:CPU:1"
    cpu0 = "/job:localhost/replica:0/task:0/device:CPU:0"
    placed = _step_devices([up, enq], config)
    assert placed["up"] == cpu1 and placed["enq"] == cpu1
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(enq)
        meta = tf.RunMetadata()
        assert sess.run(deq, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                        run_metadata=meta) == 5.0
        placed = {n.node_name: d.device for d in meta.step_stats.dev_stats for n in d.node_stats}
    assert placed["deq"] == cpu1
    assert _step_devices(other, config)[other.op.name] == cpu0
