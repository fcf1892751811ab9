"""tf.test: TestCase sessions and assertions, gradient checking, module helpers."""
import os
import unittest

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import gradient_checker


class _Demo(tf.test.TestCase):
    """A TestCase exercised by the pytest functions below (run through unittest)."""

    def testSessionIsDefaultAndCached(self):  # noqa: N802
        c = tf.constant(2.0) * 3.0
        with self.test_session() as sess:
            self.assertIs(tf.get_default_session(), sess)
            self.assertIs(sess.graph, tf.get_default_graph())
            self.assertAllClose(c.eval(), 6.0)
        with self.test_session() as again:
            self.assertIs(again, sess)
        with self.cached_session() as cached:
            self.assertIs(cached, sess)

    def testExplicitGraphGetsNewSession(self):  # noqa: N802
        graph = tf.Graph()
        with graph.as_default():
            c = tf.constant([1, 2])
        with self.test_session(graph=graph) as sess:
            self.assertIs(sess.graph, graph)
            self.assertIs(tf.get_default_graph(), graph)
            self.assertAllEqual(sess.run(c), [1, 2])
        with self.session() as other:
            self.assertIsNot(other, sess)

    def testFreshGraphPerTest(self):  # noqa: N802
        self.assertEqual(tf.get_default_graph().get_operations(), [])
        tf.constant(1.0, name="leftover")

    def testFreshGraphPerTestAgain(self):  # noqa: N802
        self.assertEqual(tf.get_default_graph().get_operations(), [])
        tf.constant(1.0, name="leftover")

    def testEvaluate(self):  # noqa: N802
        self.assertAllEqual(self.evaluate({"a": tf.constant([3])}), {"a": [3]})

    def testForceGpuSkips(self):  # noqa: N802
        with self.test_session(force_gpu=True):
            self.fail("force_gpu should skip on a machine without GPUs")

    def testTempDir(self):  # noqa: N802
        path = self.get_temp_dir()
        self.assertTrue(os.path.isdir(path))
        self.assertEqual(path, self.get_temp_dir())
        self.assertTrue(path.startswith(tf.test.get_temp_dir()))

    def testAssertRaisesOpError(self):  # noqa: N802
        x = tf.placeholder(tf.float32)
        with self.test_session():
            with self.assertRaisesOpError("must feed|placeholder|Placeholder"):
                x.eval()


def _run_demo():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(_Demo)
    result = unittest.TestResult()
    suite.run(result)
    return result


def test_demo_test_case_passes():
    result = _run_demo()
    problems = [f"{t.id()}: {tb}" for t, tb in result.failures + result.errors]
    assert not problems, "\n".join(problems)
    assert result.testsRun == 9  # eight tests, and test_session skipping itself as TF's does
    skipped = sorted(t.id().rsplit(".", 1)[1] for t, _ in result.skipped)
    assert skipped == ["testForceGpuSkips", "test_session"]


@pytest.fixture
def case():
    return tf.test.TestCase("__init__")


def test_assert_all_close(case):
    case.assertAllClose([1.0, 2.0], np.array([1.0, 2.0 + 1e-7]))
    case.assertAllClose({"a": [1.0], "b": (2.0, [3.0, 4.0])},
                        {"a": [1.0], "b": (2.0, [3.0, 4.0])})
    case.assertAllClose([np.zeros(2), np.ones(3)], [np.zeros(2), np.ones(3)])
    case.assertAllClose(1.0, 1.05, rtol=0.1)
    with pytest.raises(AssertionError):
        case.assertAllClose([1.0, 2.0], [1.0, 2.001])
    with pytest.raises(AssertionError, match="Shape mismatch"):
        case.assertAllClose(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(AssertionError, match="structures differ"):
        case.assertAllClose({"a": 1.0}, {"b": 1.0})
    with pytest.raises(TypeError, match="eval"):
        case.assertAllClose(tf.constant(1.0), 1.0)


def test_assert_all_equal_and_shape(case):
    case.assertAllEqual([[1, 2]], np.array([[1, 2]]))
    case.assertAllEqual([b"a"], np.array([b"a"], dtype=object))
    with pytest.raises(AssertionError):
        case.assertAllEqual([1, 2], [1, 3])
    with pytest.raises(AssertionError, match="Shape mismatch"):
        case.assertAllEqual([1, 2], [[1, 2]])
    case.assertShapeEqual(np.zeros((2, 3)), tf.zeros([2, 3]))
    with pytest.raises(AssertionError):
        case.assertShapeEqual(np.zeros((3, 2)), tf.zeros([2, 3]))
    with pytest.raises(TypeError, match="tf.Tensor"):
        case.assertShapeEqual(np.zeros(2), np.zeros(2))


def test_assert_near(case):
    case.assertNear(1.0, 1.05, 0.1)
    case.assertArrayNear([1.0, 2.0], [1.01, 1.99], 0.02)
    with pytest.raises(AssertionError):
        case.assertNear(1.0, 1.2, 0.1)
    with pytest.raises(AssertionError):
        case.assertArrayNear([1.0, 2.0], [1.0, 2.5], 0.1)
    with pytest.raises(AssertionError):
        case.assertArrayNear([1.0], [1.0, 2.0], 0.1)


def test_assert_raises_with_predicate_match(case):
    with case.assertRaisesWithPredicateMatch(ValueError, "bad.*value"):
        raise ValueError("a bad value")
    with case.assertRaisesWithPredicateMatch(ValueError, lambda e: "x" in str(e)):
        raise ValueError("x")
    with pytest.raises(AssertionError, match="does not satisfy"):
        with case.assertRaisesWithPredicateMatch(ValueError, "other"):
            raise ValueError("a bad value")
    with pytest.raises(AssertionError, match="not raised"):
        with case.assertRaisesWithPredicateMatch(ValueError, "x"):
            pass
    with pytest.raises(KeyError):
        with case.assertRaisesOpError("x"):
            raise KeyError("not an OpError")


def test_assert_proto_equals(case):
    shape = tf.TensorShape([2, 3]).as_proto()
    case.assertProtoEquals("dim { size: 2 } dim { size: 3 }", shape)
    with pytest.raises(AssertionError, match="Protos differ"):
        case.assertProtoEquals("dim { size: 2 }", shape)


def test_module_helpers():
    assert tf.test.is_built_with_cuda() is False
    assert tf.test.is_gpu_available() is False
    assert tf.test.gpu_device_name() == ""
    assert os.path.isdir(tf.test.get_temp_dir())
    assert tf.test.compute_gradient is gradient_checker.compute_gradient
    assert callable(tf.test.main)


def test_compute_gradient_matmul_layout():
    x_value = np.arange(6, dtype=np.float64).reshape(2, 3) / 10
    x = tf.constant(x_value)
    w_value = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = tf.matmul(x, tf.constant(w_value))
    with tf.Session():
        theoretical, numerical = tf.test.compute_gradient(x, [2, 3], y, [2, 2],
                                                          x_init_value=x_value)
    assert theoretical.shape == (6, 4) and numerical.shape == (6, 4)
    # d y[r, c] / d x[r', k] = w[k, c] if r == r'; rows are x's flat index, columns y's.
    expected = np.zeros((6, 4))
    for r in range(2):
        for k in range(3):
            for c in range(2):
                expected[r * 3 + k, r * 2 + c] = w_value[k, c]
    np.testing.assert_allclose(theoretical, expected)
    np.testing.assert_allclose(numerical, expected, atol=1e-8)


def test_compute_gradient_error_small_for_correct_and_large_for_wrong_gradient():
    @tf.RegisterGradient("TestTestCaseWrongSquareGrad")
    def _wrong(op, grad):
        return [grad]

    x = tf.placeholder(tf.float64, [3])
    y = tf.square(x) * x
    with tf.get_default_graph().gradient_override_map({"Square": "TestTestCaseWrongSquareGrad"}):
        bad = tf.square(x)
    with tf.Session():
        error = tf.test.compute_gradient_error(x, [3], y, [3], x_init_value=[0.5, -1.0, 2.0])
        bad_error = tf.test.compute_gradient_error(x, [3], bad, [3],
                                                   x_init_value=[1.0, 2.0, 3.0])
    assert error < 1e-5
    assert bad_error > 1.0


def test_compute_gradient_list_of_inputs_with_extra_feed_and_variables():
    a = tf.placeholder(tf.float64, [2])
    b = tf.Variable(np.array([1.0, 2.0]))
    scale = tf.placeholder(tf.float64, [])
    y = tf.reduce_sum(a * b) * scale
    with tf.Session():
        results = tf.test.compute_gradient(
            [a, b], [[2], [2]], y, [], x_init_value=[np.array([3.0, 4.0]), np.array([1.0, 2.0])],
            init_targets=[tf.initialize_all_variables()], extra_feed_dict={scale: 2.0})
    (ta, na), (tb, nb) = results
    np.testing.assert_allclose(ta, [[2.0], [4.0]])
    np.testing.assert_allclose(na, [[2.0], [4.0]], atol=1e-8)
    np.testing.assert_allclose(tb, [[6.0], [8.0]])
    np.testing.assert_allclose(nb, [[6.0], [8.0]], atol=1e-8)


def test_compute_gradient_float32_and_unconnected():
    x = tf.placeholder(tf.float32, [2])
    y = x * 2.0
    z = tf.constant([1.0, 1.0]) + 0.0
    with pytest.raises(ValueError, match="default session"):
        tf.test.compute_gradient(x, [2], y, [2])
    with tf.Session():
        _check_float32_and_unconnected(x, y, z)


def _check_float32_and_unconnected(x, y, z):
    theoretical, numerical = tf.test.compute_gradient(x, [2], y, [2])
    assert theoretical.dtype == np.float32
    np.testing.assert_allclose(theoretical, 2 * np.eye(2))
    np.testing.assert_allclose(numerical, 2 * np.eye(2), rtol=1e-2)
    theoretical, numerical = tf.test.compute_gradient(x, [2], z, [2])
    np.testing.assert_array_equal(theoretical, np.zeros((2, 2)))


def test_compute_gradient_errors():
    x = tf.placeholder(tf.int32, [2])
    with pytest.raises(TypeError, match="floating point x"):
        tf.test.compute_gradient(x, [2], x, [2])
    f = tf.placeholder(tf.float32, [2])
    with tf.Session(graph=tf.Graph()):
        with pytest.raises(ValueError, match="another graph"):
            tf.test.compute_gradient(f, [2], f * 2.0, [2])
    with pytest.raises(ValueError, match="x_shape"):
        tf.test.compute_gradient(f, [3], f * 2.0, [2])
    with pytest.raises(ValueError, match="x_init_value"):
        tf.test.compute_gradient(f, [2], f * 2.0, [2], x_init_value=[1.0, 2.0, 3.0])


class _GradientCheckInTestCase(tf.test.TestCase):
    def testComputeGradientErrorInTestSession(self):  # noqa: N802
        with self.test_session():
            x = tf.constant([1.0, 2.0], dtype=tf.float64)
            y = tf.square(x)
            self.assertLess(tf.test.compute_gradient_error(x, [2], y, [2]), 1e-6)


def test_compute_gradient_inside_test_session():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(_GradientCheckInTestCase)
    result = unittest.TestResult()
    suite.run(result)
    assert result.wasSuccessful(), result.failures + result.errors
