"""tf.train.replica_device_setter and tf.contrib.training's greedy ps strategy: op.device
strings as TensorFlow assigns them, and a run on a session with several local CPU devices."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import protos

pytestmark = pytest.mark.timeout(60)


def test_round_robin_over_ps_tasks_and_worker_for_the_rest():
    with tf.device(tf.train.replica_device_setter(ps_tasks=3)):
        v = [tf.Variable(np.zeros([2], np.float32), name=f"v{i}") for i in range(4)]
        y = tf.add(v[0], v[1], name="y")
    assert [x.op.device for x in v] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:2",
                                        "/job:ps/task:0"]
    assert y.op.device == "/job:worker"
    # a variable's initializer, Assign and read snapshot are colocated with it
    assert v[1].initializer.device == "/job:ps/task:1"
    assert v[2].value().op.device == "/job:ps/task:2"


def test_get_variable_and_custom_worker_and_ps_devices():
    setter = tf.train.replica_device_setter(ps_tasks=2, ps_device="/job:params/cpu:0",
                                            worker_device="/job:worker/task:3/cpu:0")
    with tf.device(setter):
        a = tf.get_variable("a", [3])
        b = tf.get_variable("b", [3])
        total = tf.reduce_sum(a * b)
    assert a.op.device == "/job:params/task:0/device:CPU:0"
    assert b.op.device == "/job:params/task:1/device:CPU:0"
    assert total.op.device == "/job:worker/task:3/device:CPU:0"


def test_merge_devices_merges_the_ops_own_spec():
    setter = tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:1")
    with tf.device(setter):
        with tf.device("/cpu:0"):
            v = tf.Variable(1.0, name="v")
            c = tf.constant(2.0, name="c")
        with tf.device("/job:ps/task:1"):
            pinned = tf.Variable(1.0, name="pinned")
        with tf.device("/job:other"):
            elsewhere = tf.Variable(1.0, name="elsewhere")
        w = tf.Variable(1.0, name="w")
    assert v.op.device == "/job:ps/task:0/device:CPU:0"
    assert c.op.device == "/job:worker/task:1/device:CPU:0"
    # the strategy picks a task only for ops left in the ps job; its own task is kept
    assert pinned.op.device == "/job:ps/task:1"
    assert elsewhere.op.device == "/job:other"
    # round-robin counted the ps-job ops (v, pinned) but not the one in another job
    assert w.op.device == "/job:ps/task:0"


def test_without_merge_devices_a_set_device_is_kept():
    setter = tf.train.replica_device_setter(ps_tasks=2, merge_devices=False)
    with tf.device(setter):
        with tf.device("/cpu:0"):
            v = tf.Variable(1.0, name="v")
            c = tf.constant(2.0, name="c")
        free = tf.constant(3.0, name="free")
    assert v.op.device == "/device:CPU:0"
    assert c.op.device == "/device:CPU:0"
    assert free.op.device == "/job:worker"


def test_cluster_gives_the_ps_task_count_and_no_ps_means_none():
    cluster = {"ps": ["h0:2222", "h1:2222"], "worker": ["h2:2222"]}
    with tf.device(tf.train.replica_device_setter(cluster=cluster)):
        v = [tf.Variable(0.0, name=f"v{i}") for i in range(3)]
    assert [x.op.device for x in v] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0"]

    class _Spec:  # anything with as_dict, as ClusterSpec has
        def as_dict(self):
            return {"ps": {0: "h0:1", 5: "h5:1"}, "worker": ["h:1"]}
    with tf.device(tf.train.replica_device_setter(cluster=_Spec())):
        u = [tf.Variable(0.0, name=f"u{i}") for i in range(3)]
    assert [x.op.device for x in u] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0"]
    cluster_def = protos.ClusterDef(job=[protos.JobDef(name="ps", tasks={0: "a:1", 1: "b:1"}),
                                         protos.JobDef(name="worker", tasks={0: "c:1"})])
    with tf.device(tf.train.replica_device_setter(cluster=cluster_def)):
        w = [tf.Variable(0.0, name=f"w{i}") for i in range(2)]
    assert [x.op.device for x in w] == ["/job:ps/task:0", "/job:ps/task:1"]
    assert tf.train.replica_device_setter(cluster={"worker": ["h:1"]}) is None
    assert tf.train.replica_device_setter(ps_tasks=0) is None
    with pytest.raises(TypeError, match="cluster"):
        tf.train.replica_device_setter(cluster=["ps"])
    with pytest.raises(TypeError, match="ps_strategy must be callable"):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy=3)


def test_ps_ops_choose_which_op_types_go_to_the_ps():
    setter = tf.train.replica_device_setter(ps_tasks=2, ps_ops=["Const"])
    with tf.device(setter):
        c0 = tf.constant(1.0, name="c0")
        v = tf.Variable(2.0, name="v")
        c1 = tf.constant(1.0, name="c1")
    assert c0.op.device == "/job:ps/task:0"
    # v's initial value is a Const too (task 1), so c1 comes round to task 0
    assert v.initial_value.op.device == "/job:ps/task:1"
    assert c1.op.device == "/job:ps/task:0"
    assert v.op.device == "/job:worker"


def test_greedy_strategy_balances_bytes():
    strategy = tf.contrib.training.GreedyLoadBalancingStrategy(
        2, tf.contrib.training.byte_size_load_fn)
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
        big = tf.Variable(np.zeros([100, 10], np.float32), name="big")       # 4000 bytes
        small1 = tf.Variable(np.zeros([10], np.float32), name="small1")     # 40
        small2 = tf.Variable(np.zeros([10, 10], np.float64), name="small2")  # 800
        small3 = tf.Variable(np.zeros([5], np.int32), name="small3")         # 20
    # round-robin would put small2 with big; greedy fills the lighter task first
    assert [v.op.device for v in (big, small1, small2, small3)] == [
        "/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:1", "/job:ps/task:1"]


def test_byte_size_load_fn():
    load = tf.contrib.training.byte_size_load_fn
    v = tf.Variable(np.zeros([3, 4], np.float64))
    assert load(v.op) == 96
    assert load(tf.Variable(np.int8(1)).op) == 1
    with pytest.raises(ValueError, match="single output"):
        load(tf.group(v.initializer))
    holder = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(ValueError, match="not fully defined"):
        load(holder.op)


def test_training_under_the_setter_runs_across_local_devices():
    """ps and worker as two CPU devices of one session: the step is partitioned in two and
    the variables' updates run on the 'ps' device."""
    setter = tf.train.replica_device_setter(
        ps_tasks=1, ps_device="/job:localhost/replica:0/task:0/cpu:1",
        worker_device="/job:localhost/replica:0/task:0/cpu:0")
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    with tf.device(setter):
        w = tf.Variable(np.ones([2, 1], np.float32), name="w")
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    config = tf.ConfigProto(device_count={"CPU": 2})
    options = tf.RunOptions(output_partition_graphs=True)
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, options=options, run_metadata=metadata)
        got = sess.run(w)
    want = np.ones([2, 1], np.float32) - 0.01 * 2 * x.T @ (x @ np.ones([2, 1], np.float32))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    devices = {g.node[0].device: {n.op for n in g.node} for g in metadata.partition_graphs}
    ps, worker = (f"/job:localhost/replica:0/task:0/device:CPU:{i}" for i in (1, 0))
    assert set(devices) == {ps, worker}
    assert "ApplyGradientDescent" in devices[ps] and "MatMul" in devices[worker]
    assert "_Send" in devices[ps] and "_Recv" in devices[worker]


def test_log_device_placement_shows_the_setters_choices(capsys):
    setter = tf.train.replica_device_setter(
        ps_tasks=1, ps_device="/job:localhost/replica:0/task:0/cpu:1",
        worker_device="/job:localhost/replica:0/task:0/cpu:0")
    with tf.device(setter):
        v = tf.Variable(np.float32(3.0), name="v")
        doubled = tf.multiply(v, 2.0, name="doubled")
    config = tf.ConfigProto(device_count={"CPU": 2}, log_device_placement=True)
    with tf.Session(config=config) as sess:
        sess.run(v.initializer)
        assert sess.run(doubled) == 6.0
    log = capsys.readouterr().err.splitlines()
    cpu = "/job:localhost/replica:0/task:0/device:CPU:"
    assert f"v: (VariableV2): {cpu}1" in log
    assert f"v/read: (Identity): {cpu}1" in log
    assert f"doubled: (Mul): {cpu}0" in log
