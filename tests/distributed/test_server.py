"""Servers, masters and workers talking real gRPC on loopback, several tasks in one process."""
import threading
import time

import grpc
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.distributed import wire
from cluster_util import in_process_cluster

pytestmark = pytest.mark.timeout(60)


def _config(**kwargs):
    return tf.ConfigProto(**kwargs)


def test_server_target_binds_loopback_and_local_server():
    server = tf.train.Server.create_local_server()
    try:
        assert server.target.startswith("grpc://localhost:")
        assert server.server_def.job_name == "local"
        with tf.Session(server.target) as sess:
            assert isinstance(sess, tf.Session)
            assert sess.run(tf.constant(2.0) * 3.0) == 6.0
            names = [d.name for d in sess.list_devices()]
        assert names == ["/job:local/replica:0/task:0/device:CPU:0"]
    finally:
        server.stop()


def test_step_across_ps_and_worker_matches_local():
    x_value = np.arange(6, dtype=np.float32).reshape(2, 3)
    def build():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, name="w")
        with tf.device("/job:worker/task:0"):
            x = tf.placeholder(tf.float32, [None, 3])
            loss = tf.reduce_sum(tf.tanh(tf.matmul(x, w)))
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        return x, loss, train
    with tf.Graph().as_default():
        x, loss, train = build()
        with tf.Session(config=_config(allow_soft_placement=True)) as sess:
            sess.run(tf.global_variables_initializer())
            local = [sess.run([loss, train], {x: x_value})[0] for _ in range(5)]
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        x, loss, train = build()
        with tf.Session(servers["worker/0"].target) as sess:
            sess.run(tf.global_variables_initializer())
            remote = [sess.run([loss, train], {x: x_value})[0] for _ in range(5)]
            metadata = tf.RunMetadata()
            sess.run(loss, {x: x_value}, options=tf.RunOptions(trace_level=3),
                     run_metadata=metadata)
    np.testing.assert_array_equal(local, remote)
    devices = {d.device for d in metadata.step_stats.dev_stats}
    assert devices == {"/job:ps/replica:0/task:0/device:CPU:0",
                       "/job:worker/replica:0/task:0/device:CPU:0"}


def test_variables_outlive_sessions_until_reset():
    with in_process_cluster(1, 1) as (cluster, servers):
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(1.0, name="v")
                bump = v.assign_add(2.0)
            with tf.Session(servers["worker/0"].target) as sess:
                sess.run(v.initializer)
                sess.run(bump)
        with tf.Graph().as_default():  # another client, another graph, same names
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(1.0, name="v")
            with tf.Session(servers["worker/0"].target) as sess:
                assert sess.run(v) == 3.0
            tf.Session.reset(servers["worker/0"].target)
            with tf.Session(servers["worker/0"].target) as sess:
                with pytest.raises(tf.errors.FailedPreconditionError,
                                   match="Attempting to use uninitialized value v"):
                    sess.run(v)


def test_device_filters_leave_dead_tasks_out():
    cluster = {"ps": ["127.0.0.1:1"], "worker": ["localhost:0"]}  # nothing listens on port 1
    server = tf.train.Server(cluster, job_name="worker", task_index=0)
    try:
        config = _config(device_filters=["/job:worker/task:0"])
        with tf.Session(server.target, config=config) as sess:
            assert sess.run(tf.constant(5)) == 5
        config = _config(operation_timeout_in_ms=500)
        with tf.Session(server.target, config=config) as sess:
            with pytest.raises(tf.errors.UnavailableError, match="/job:ps/replica:0/task:0"):
                sess.run(tf.constant(5))
    finally:
        server.stop()


def test_error_on_another_task_reaches_the_client_with_its_class_and_op():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(tf.zeros([2]), name="never_initialized")
        with tf.device("/job:worker/task:0"):
            y = v * 2.0
        with tf.Session(servers["worker/0"].target) as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="never_initialized") as e:
                sess.run(y)
            assert "test_server.py" in str(e.value)  # where the client created the op
            assert sess.run(tf.constant(1.0) + 1.0) == 2.0  # the session still works


def test_large_tensor_crosses_in_chunks_bit_exact():
    value = np.random.RandomState(0).standard_normal((3, 1 << 20)).astype(np.float32)  # 12 MB
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(value, name="big")
        with tf.device("/job:worker/task:0"):
            y = tf.identity(v)
        with tf.Session(servers["worker/0"].target) as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(y), value)


def test_tensor_over_the_message_limit_is_resource_exhausted_and_server_goes_on():
    with in_process_cluster(1, 1, max_message_bytes=1 << 20) as (cluster, servers), \
            tf.Graph().as_default():
        with tf.device("/job:worker/task:0"):
            x = tf.placeholder(tf.float32, [None])
        with tf.device("/job:ps/task:0"):
            y = x * 2.0
        with tf.Session(servers["worker/0"].target) as sess:
            with pytest.raises(tf.errors.ResourceExhaustedError, match="larger than max"):
                sess.run(y, {x: np.ones(1 << 19, np.float32)})  # 2 MB feed to the ps
            np.testing.assert_array_equal(sess.run(y, {x: np.ones(4, np.float32)}), 2.0)


def test_step_timeout_on_a_blocked_remote_dequeue_and_abort_everywhere():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            queue = tf.FIFOQueue(4, tf.float32, shapes=[[]], name="q")
            item = queue.dequeue()
        with tf.device("/job:worker/task:0"):
            y = item + 1.0
        with tf.Session(servers["worker/0"].target) as sess:
            start = time.monotonic()
            with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out.*q_Dequeue"):
                sess.run(y, options=tf.RunOptions(timeout_in_ms=300))
            assert time.monotonic() - start < 10
            sess.run(queue.enqueue(41.0))
            assert sess.run(y) == 42.0


def test_restarted_task_is_detected_not_silently_used():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(3.0, name="v")
        with tf.device("/job:worker/task:0"):
            y = v + 1.0
        with tf.Session(servers["worker/0"].target) as sess:
            sess.run(v.initializer)
            assert sess.run(y) == 4.0
            servers["ps/0"].stop()
            with pytest.raises((tf.errors.UnavailableError, tf.errors.AbortedError)):
                sess.run(y)
            servers["ps/0"] = tf.train.Server(cluster, job_name="ps", task_index=0)
            deadline = time.monotonic() + 10
            while True:  # Unavailable until the channel reconnects, then Aborted
                with pytest.raises((tf.errors.UnavailableError, tf.errors.AbortedError)) as info:
                    sess.run(y)
                if info.type is tf.errors.AbortedError or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert info.type is tf.errors.AbortedError
            assert "restarted" in str(info.value)
        with tf.Session(servers["worker/0"].target) as sess:  # a new session works again
            with pytest.raises(tf.errors.FailedPreconditionError,
                               match="Attempting to use uninitialized value v"):
                sess.run(y)  # ... and sees the restarted task's empty state
            sess.run(v.initializer)
            assert sess.run(y) == 4.0


def _raw_call(address, method, payload):
    with grpc.insecure_channel(address) as channel:
        stub = channel.unary_unary(f"/{wire.WORKER_SERVICE}/{method}")
        return stub(payload, timeout=10)


def test_malformed_payload_and_unknown_handles_are_invalid_argument():
    with in_process_cluster(1, 1) as (cluster, servers):
        address = servers["ps/0"].address
        with pytest.raises(grpc.RpcError) as info:
            _raw_call(address, "RunGraph", b"\xff\xff\xff\xff garbage")
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Malformed" in info.value.details()
        worker = servers["ps/0"].worker
        request = wire.M.RunGraphRequest(graph_handle=f"{worker.incarnation:016x}/999",
                                         step_id=7)
        with pytest.raises(grpc.RpcError) as info:
            _raw_call(address, "RunGraph", request.SerializeToString())
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Graph handle is not found" in info.value.details()
        request = wire.M.RunGraphRequest(graph_handle="0123456789abcdef/1", step_id=7)
        with pytest.raises(grpc.RpcError) as info:
            _raw_call(address, "RunGraph", request.SerializeToString())
        assert info.value.code() == grpc.StatusCode.ABORTED
        bad_key = wire.M.RecvTensorRequest(step_id=1, rendezvous_key="no;such")
        with grpc.insecure_channel(address) as channel:
            stub = channel.unary_stream(f"/{wire.WORKER_SERVICE}/RecvTensor")
            with pytest.raises(grpc.RpcError) as info:
                list(stub(bad_key.SerializeToString(), timeout=10))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # ... and the server goes on serving.
        status = _raw_call(address, "GetStatus", b"")
        assert wire.M.GetStatusResponse.FromString(status).task == "/job:ps/replica:0/task:0"


def test_remote_client_creates_and_extends_its_session():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        # "localhost" instead of the server's own "127.0.0.1": the client takes the gRPC path.
        target = "grpc://" + servers["worker/0"].address.replace("127.0.0.1", "localhost")
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(tf.ones([2, 2]), name="v")
        with tf.Session(target) as sess:
            from tensorflux.distributed import session as dsession
            assert isinstance(sess._master, dsession._RemoteMaster)
            sess.run(v.initializer)
            y = tf.reduce_sum(v * 3.0)  # the graph grows: ExtendSession
            assert sess.run(y) == 12.0
            p = tf.placeholder(tf.float32)
            assert sess.run(p * 2.0, {p: 4.0}) == 8.0


def test_concurrent_steps_from_several_threads():
    with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            counter = tf.Variable(0, name="counter")
            bump = tf.assign_add(counter, 1)
        with tf.device("/job:worker/task:0"):
            x = tf.placeholder(tf.float32, [])
            y = x * 2.0 + tf.cast(bump, tf.float32) * 0.0
        with tf.Session(servers["worker/0"].target) as sess:
            sess.run(counter.initializer)
            errors = []

            def work(k):
                try:
                    for i in range(20):
                        assert sess.run(y, {x: float(k * 100 + i)}) == 2.0 * (k * 100 + i)
                except Exception as e:  # noqa: BLE001
                    errors.append(e)
            threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not errors
            assert sess.run(counter) == 80


def test_stopped_servers_leave_no_thread_behind():
    before = set(threading.enumerate())
    for _ in range(2):
        with in_process_cluster(1, 1) as (cluster, servers), tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(1.0, name="v")
            with tf.device("/job:worker/task:0"):
                y = v * 2.0
            with tf.Session(servers["worker/0"].target) as sess:
                sess.run(v.initializer)
                assert sess.run(y) == 2.0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
        if not left:
            break
        time.sleep(0.1)
    assert not left
