"""Local devices: DeviceSpec parsing/matching, ConfigProto.device_count, Session.list_devices."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework.device import DeviceSpec
from tensorflux.runtime.device_mgr import DeviceMgr, LocalDevice

pytestmark = pytest.mark.timeout(30)

LOCAL = "/job:localhost/replica:0/task:0/device:CPU:%d"


def test_default_session_has_one_cpu():
    with tf.Session() as sess:
        devices = sess.list_devices()
    assert [d.name for d in devices] == [LOCAL % 0]
    assert devices[0].device_type == "CPU"
    assert devices[0].memory_limit_bytes == 256 << 20


def test_device_count_gives_that_many_cpus():
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 4})) as sess:
        devices = sess.list_devices()
    assert [d.name for d in devices] == [LOCAL % k for k in range(4)]
    assert len({d.incarnation for d in devices}) == 4
    assert all(0 < d.incarnation < 2 ** 63 for d in devices)


def test_device_objects_own_array_module_and_allocator():
    mgr = DeviceMgr.from_config(tf.ConfigProto(device_count={"CPU": 2}))
    dev = mgr.lookup("/cpu:1")
    assert dev.name == LOCAL % 1 and dev.xp is np
    dev.allocator.record_allocation(100)
    dev.allocator.record_allocation(50)
    dev.allocator.record_deallocation(100)
    stats = dev.allocator.stats()
    assert stats == {"bytes_in_use": 50, "peak_bytes_in_use": 150,
                     "total_allocated_bytes": 150, "num_allocs": 2}
    with pytest.raises(tf.errors.InvalidArgumentError, match="CPU:1"):
        mgr.lookup("/cpu:5")


def test_kernels_see_their_device():
    with tf.device("/cpu:1"):
        x = tf.constant(1.0)
    sess = tf.Session(config=tf.ConfigProto(device_count={"CPU": 2}))
    sess.run(x)
    ctx = sess._contexts[x.op]
    assert ctx.device == LOCAL % 1 and ctx.xp is np
    sess.close()


@pytest.mark.parametrize("text, fields", [
    ("/job:worker/replica:0/task:1/device:CPU:0", ("worker", 0, 1, "CPU", 0)),
    ("/cpu:0", (None, None, None, "CPU", 0)),
    ("/gpu:1", (None, None, None, "GPU", 1)),
    ("/device:GPU:*", (None, None, None, "GPU", None)),
    ("/job:ps", ("ps", None, None, None, None)),
    ("", (None, None, None, None, None)),
])
def test_device_spec_parses(text, fields):
    spec = DeviceSpec.from_string(text)
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == fields


def test_device_spec_matching_and_conflicts():
    full = DeviceSpec.from_string(LOCAL % 2)
    assert DeviceSpec.from_string("/cpu:*").is_satisfied_by(full)
    assert DeviceSpec.from_string("/job:localhost").is_satisfied_by(full)
    assert DeviceSpec.from_string("/device:CPU:2").is_satisfied_by(full)
    assert not DeviceSpec.from_string("/cpu:1").is_satisfied_by(full)
    assert not DeviceSpec.from_string("/job:worker").is_satisfied_by(full)
    assert DeviceSpec.from_string("/cpu:1").conflicts_with(DeviceSpec.from_string("/cpu:2")) \
        == "device_index"
    assert DeviceSpec.from_string("/job:a").conflicts_with(DeviceSpec.from_string("/cpu:2")) \
        is None
    spec = DeviceSpec().parse_from_string("/job:ps/task:3")
    assert spec.to_string() == "/job:ps/task:3"
    with pytest.raises(ValueError, match="cannot parse"):
        DeviceSpec.from_string("/nonsense:1")


def test_nested_device_scopes_merge_and_functions_apply():
    with tf.device("/job:worker/task:1"):
        with tf.device("/cpu:0"):
            a = tf.constant(1.0, name="a")
        with tf.device(lambda op: "/gpu:0" if op.type == "Const" else None):
            b = tf.constant(2.0, name="b")
    assert a.op.device == "/job:worker/task:1/device:CPU:0"
    # TF runs the innermost device function first; outer string scopes fill what it left unset
    assert b.op.device == "/job:worker/task:1/device:GPU:0"
    with tf.device(lambda op: "/cpu:0"):
        with tf.device("/job:ps/task:2"):
            c = tf.constant(3.0, name="c")
    assert c.op.device == "/device:CPU:0"  # an outer function sees, and may replace, the inner


def test_local_device_names():
    dev = LocalDevice("cpu", 3)
    assert dev.name == LOCAL % 3 and dev.short_name == "CPU:3"
    assert "CPU:3" in repr(dev.attributes())
