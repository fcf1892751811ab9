"""The TF 0.9 surface of tf.test.TestCase that TF's own tests lean on: checkedThread,
_GetNdArray, assertNDArrayNear, assertAllCloseAccordingToType, assertDeviceEqual, ..."""
import os
import threading
import unittest

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)
_RELEASE = threading.Event()


class _Threads(tf.test.TestCase):
    __test__ = False  # two of these fail on purpose: run through unittest below, not by pytest
    def testJoinedThreadsRunTheirTargets(self):  # noqa: N802
        results = []
        threads = [self.checkedThread(results.append, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
            self.assertFalse(t.is_alive())
        self.assertEqual(sorted(results), [0, 1, 2, 3])

    def testFailureInThreadFailsAtJoin(self):  # noqa: N802
        def target():
            self.assertEqual(1, 2)
        t = self.checkedThread(target)
        t.start()
        t.join()

    def testKwargsAndIsAlive(self):  # noqa: N802
        seen = {}
        t = self.checkedThread(seen.update, kwargs={"k": 5})
        t.start()
        t.join()
        self.assertFalse(t.isAlive())
        self.assertEqual(seen, {"k": 5})

    def testUnjoinedRunningThreadFailsTearDown(self):  # noqa: N802
        t = self.checkedThread(_RELEASE.wait, args=(30,))
        t.start()


def test_checked_thread_results_as_tf():
    _RELEASE.clear()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(_Threads)
    result = unittest.TestResult()
    try:
        suite.run(result)
    finally:
        _RELEASE.set()
    failed = {t.id().rsplit(".", 1)[1]: tb for t, tb in result.failures}
    assert not result.errors
    assert sorted(failed) == ["testFailureInThreadFailsAtJoin",
                              "testUnjoinedRunningThreadFailsTearDown"]
    assert "checkedThread target raised AssertionError: 1 != 2" in \
        failed["testFailureInThreadFailsAtJoin"]
    assert "A checkedThread did not terminate" in failed["testUnjoinedRunningThreadFailsTearDown"]


@pytest.fixture
def case():
    return tf.test.TestCase("__init__")


def test_get_nd_array(case):
    arr = np.arange(3)
    assert case._GetNdArray(arr) is arr
    got = case._GetNdArray([[1, 2], [3, 4]])
    assert isinstance(got, np.ndarray) and got.shape == (2, 2)


def test_nd_array_near_uses_the_norm_of_the_difference(case):
    case.assertNDArrayNear(np.zeros((2, 2)), np.full((2, 2), 0.1), 0.21)
    assert case._NDArrayNear([0.0, 0.0], [3.0, 4.0], 5.0)
    with pytest.raises(AssertionError):
        case.assertNDArrayNear(np.zeros((2, 2)), np.full((2, 2), 0.1), 0.19)


def test_all_close_according_to_type_loosens_for_narrow_floats(case):
    half = np.array([1.0, 2.0], np.float16)
    case.assertAllCloseAccordingToType(half, np.array([1.0005, 2.001], np.float16))
    with pytest.raises(AssertionError):
        case.assertAllCloseAccordingToType(np.array([1.0, 2.0]), [1.0005, 2.001])
    case.assertAllCloseAccordingToType(np.float32([1.0]), np.float32([1.0 + 5e-7]))


def test_device_and_starts_with(case):
    case.assertDeviceEqual("/job:a/task:0/cpu:0", "/job:a/task:0/device:CPU:0")
    with pytest.raises(AssertionError):
        case.assertDeviceEqual("/cpu:0", "/cpu:1")
    case.assertStartsWith("model.ckpt-10", "model")
    with pytest.raises(AssertionError, match="does not start with 'x'"):
        case.assertStartsWith("model", "x")


def test_internal_proto_helper(case):
    shape = tf.TensorShape([2]).as_proto()
    case._AssertProtoEquals(shape, tf.TensorShape([2]).as_proto())
    with pytest.raises(AssertionError, match="Protos differ"):
        case._AssertProtoEquals(shape, tf.TensorShape([3]).as_proto())


def test_module_level_helpers():
    assert tf.test.is_built_with_cuda() is False
    temp = tf.test.get_temp_dir()
    assert os.path.isdir(temp) and tf.test.get_temp_dir() == temp
