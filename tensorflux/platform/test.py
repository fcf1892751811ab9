"""tf.test: the TestCase base class, gradient checking and test-runner helpers.

    class MyOpTest(tf.test.TestCase):
        def testAdd(self):
            with self.test_session():
                self.assertAllClose(tf.add(1.0, 2.0).eval(), 3.0)

    if __name__ == "__main__":
        tf.test.main()

Each test starts with a fresh default graph; `test_session()` gives a session on it (cached
for the test) that is the default session inside the `with` block.
"""
import contextlib
import math
import re
import tempfile
import threading
import unittest

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.ops.gradient_checker import compute_gradient, compute_gradient_error

__all__ = [
    "TestCase", "main", "get_temp_dir", "is_built_with_cuda", "is_built_with_gpu_support",
    "is_built_with_rocm", "is_gpu_available", "gpu_device_name", "compute_gradient",
    "compute_gradient_error", "assert_equal_graph_def",
]

_TEMP_DIR = None


def main(argv=None):
    """Runs the tests of the calling `__main__` module (unittest.main)."""
    return unittest.main(module="__main__", argv=argv)


def get_temp_dir():
    """A temporary directory for this test process (created once, reused)."""
    global _TEMP_DIR
    if _TEMP_DIR is None:
        _TEMP_DIR = tempfile.mkdtemp(prefix="tensorflux_test_")
    return _TEMP_DIR


def is_built_with_cuda():
    """False: tensorflux runs its kernels on the CPU."""
    return False


def is_built_with_gpu_support():
    return False


def is_built_with_rocm():
    return False


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """False: no GPU device is available to tensorflux sessions."""
    return False


def gpu_device_name():
    """'' (the name of the GPU device, if there were one)."""
    return ""


def assert_equal_graph_def(actual, expected, checkpoint_v2=False):
    """Raises AssertionError unless two GraphDefs have the same nodes (order ignored)."""
    def by_name(graph_def):
        return {node.name: node for node in graph_def.node}
    got, want = by_name(actual), by_name(expected)
    if set(got) != set(want):
        raise AssertionError(f"GraphDefs differ in nodes: only in actual "
                             f"{sorted(set(got) - set(want))}, only in expected "
                             f"{sorted(set(want) - set(got))}")
    for name, node in want.items():
        if got[name] != node:
            raise AssertionError(f"GraphDefs differ at node {name!r}:\nactual:\n{got[name]}"
                                 f"\nexpected:\n{node}")


def _nested_items(a, b, path):
    """Pairs of leaves of two nested dict/list/tuple structures, with their paths."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or set(a) != set(b):
            raise AssertionError(f"At {path or 'top level'}: structures differ: {a!r:.200} vs "
                                 f"{b!r:.200}")
        for key in a:
            yield from _nested_items(a[key], b[key], f"{path}[{key!r}]")
        return
    if _is_structure(a) and _is_structure(b):
        if len(a) != len(b):
            raise AssertionError(f"At {path or 'top level'}: lengths differ: {len(a)} vs "
                                 f"{len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _nested_items(x, y, f"{path}[{i}]")
        return
    yield a, b, path


def _is_structure(value):
    """A list/tuple that is not one rectangular array (e.g. a list of differently shaped arrays)."""
    if not isinstance(value, (list, tuple)):
        return False
    try:
        return np.asarray(value).dtype == object and any(
            isinstance(v, (np.ndarray, list, tuple, dict)) for v in value)
    except ValueError:  # ragged
        return True


class TestCase(unittest.TestCase):
    """unittest.TestCase with TensorFlow's session helpers and array assertions."""

    def __init__(self, methodName="runTest"):  # noqa: N803 (unittest's name)
        super().__init__(methodName)
        self._cached_session = None
        self._temp_dir = None
        self._threads = []

    def setUp(self):
        self._clear_cached_session()
        ops.reset_default_graph()

    def tearDown(self):
        self._clear_cached_session()
        threads, self._threads = self._threads, []
        for thread in threads:  # as TF: a test must join every checkedThread it started
            thread.check_termination()

    def checkedThread(self, target, args=None, kwargs=None):  # noqa: N802 (TF's name)
        """A thread running `target` whose failure fails the test when it is joined.

        Returns:
          An object with `start()`, `join()`, `is_alive()` (and `isAlive()`): `join()` re-raises
          an exception (an assertion included) that `target` raised.
        """
        thread = _CheckedThread(self, target, args, kwargs)
        self._threads.append(thread)
        return thread

    def _clear_cached_session(self):
        if self._cached_session is not None:
            self._cached_session.close()
            self._cached_session = None

    def get_temp_dir(self):
        """A temporary directory unique to this test method."""
        if self._temp_dir is None:
            base = get_temp_dir()
            safe = re.sub(r"[^\w.]", "_", self.id())
            self._temp_dir = tempfile.mkdtemp(prefix=safe[-80:] + "_", dir=base)
        return self._temp_dir

    # ---- sessions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _as_default(self, sess, force_gpu):
        if force_gpu and not is_gpu_available():
            self.skipTest("force_gpu=True but no GPU is available (tensorflux runs on CPU)")
        with sess.graph.as_default(), sess.as_default():
            yield sess

    def _new_session(self, graph, config):
        from tensorflux.runtime.session import Session
        return Session(graph=graph, config=config)

    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """A new session on `graph` (default: the default graph), default inside the block."""
        sess = self._new_session(graph, config)
        try:
            with self._as_default(sess, force_gpu):
                yield sess
        finally:
            sess.close()

    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """The session cached for this test (created on first use on the default graph)."""
        if self._cached_session is None:
            self._cached_session = self._new_session(graph, config)
        elif graph is not None and self._cached_session.graph is not graph:
            raise ValueError("cached_session() was already used with another graph in this "
                             "test; use session(graph=...) for a second graph")
        with self._as_default(self._cached_session, force_gpu):
            yield self._cached_session

    def test_session(self, graph=None, config=None, use_gpu=False, force_gpu=False):
        """TF 1.x's test session: the cached session if graph is None, else a new one."""
        if self.id().endswith(".test_session"):
            self.skipTest("Not a test.")  # unittest's loader collects it by its name
        if graph is None:
            return self.cached_session(None, config, use_gpu, force_gpu)
        return self.session(graph, config, use_gpu, force_gpu)

    test_session.__test__ = False  # not a test, despite its name (for pytest)

    def evaluate(self, tensors):
        """Runs `tensors` (nested structure) in the default session, or a cached one."""
        sess = ops.get_default_session()
        if sess is not None:
            return sess.run(tensors)
        with self.cached_session() as sess:
            return sess.run(tensors)

    # ---- assertions ------------------------------------------------------------------------
    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802 (TensorFlow's names)
        """|f1 - f2| <= err."""
        self.assertTrue(f1 == f2 or math.fabs(f1 - f2) <= err,
                        f"{f1} != {f2} +/- {err}" + (f" ({msg})" if msg else ""))

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        """Element-wise assertNear over two equal-length lists of floats."""
        self.assertEqual(len(farray1), len(farray2),
                         f"lengths differ: {len(farray1)} vs {len(farray2)}")
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def _NDArrayNear(self, ndarray1, ndarray2, err):  # noqa: N802 (TF's helper name)
        """Whether the Euclidean norm of the difference is at most `err`."""
        return bool(np.linalg.norm(np.asarray(ndarray1) - np.asarray(ndarray2)) <= err)

    def assertNDArrayNear(self, ndarray1, ndarray2, err, msg=None):  # noqa: N802
        """The norm of ndarray1 - ndarray2 is at most `err`."""
        self.assertTrue(self._NDArrayNear(ndarray1, ndarray2, err),
                        msg or f"arrays differ by more than {err}")

    def _GetNdArray(self, a):  # noqa: N802 (TF's helper name, used by TF's own tests)
        """`a` as a NumPy array (arrays unchanged)."""
        return a if isinstance(a, np.ndarray) else np.array(a)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """Element-wise |a - b| <= atol + rtol * |b|, also over nested dicts/lists/tuples."""
        for x, y, path in _nested_items(a, b, ""):
            self._assert_array_close(x, y, rtol, atol, path, msg)

    def _assert_array_close(self, a, b, rtol, atol, path, msg):
        a, b = self._as_array(a), self._as_array(b)
        where = (f" at {path}" if path else "") + (f": {msg}" if msg else "")
        if a.shape != b.shape:
            raise AssertionError(f"Shape mismatch{where}: expected {b.shape}, got {a.shape}")
        if a.dtype.kind in "OSUb" or b.dtype.kind in "OSUb":
            np.testing.assert_array_equal(a, b, err_msg=where)
            return
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)

    @staticmethod
    def _as_array(value):
        if isinstance(value, ops.Tensor):
            raise TypeError(f"assertAllClose got the graph Tensor {value.name}; evaluate it "
                            "first (sess.run or .eval())")
        return np.asarray(value)

    def assertAllCloseAccordingToType(self, a, b, rtol=1e-6, atol=1e-6,  # noqa: N802
                                      float_rtol=1e-6, float_atol=1e-6, half_rtol=1e-3,
                                      half_atol=1e-3, bfloat16_rtol=1e-2, bfloat16_atol=1e-2):
        """assertAllClose with tolerances loosened for float32 / float16 / bfloat16 values."""
        a, b = np.asarray(a), np.asarray(b)
        names = {a.dtype.name, b.dtype.name}
        if names & {"float32", "complex64"}:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        if "float16" in names:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        if "bfloat16" in names:
            rtol, atol = max(rtol, bfloat16_rtol), max(atol, bfloat16_atol)
            a, b = a.astype(np.float32), b.astype(np.float32)
        self.assertAllClose(a, b, rtol=rtol, atol=atol)

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        """Same shape and equal elements."""
        a, b = self._as_array(a), self._as_array(b)
        where = f": {msg}" if msg else ""
        if a.shape != b.shape:
            raise AssertionError(f"Shape mismatch{where}: expected {b.shape}, got {a.shape}")
        np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertShapeEqual(self, np_array, tf_tensor, msg=None):  # noqa: N802
        """The static shape of `tf_tensor` equals the shape of `np_array`."""
        if not isinstance(tf_tensor, ops.Tensor):
            raise TypeError(f"assertShapeEqual requires a tf.Tensor second, got "
                            f"{type(tf_tensor).__name__}")
        self.assertAllEqual(np.asarray(np_array).shape, tf_tensor.get_shape().as_list(), msg)

    def assertDeviceEqual(self, device1, device2, msg=None):  # noqa: N802
        from tensorflux.framework import device as pydev
        self.assertEqual(pydev.canonical_name(device1), pydev.canonical_name(device2), msg)

    def assertStartsWith(self, actual, expected_start, msg=None):  # noqa: N802
        if not actual.startswith(expected_start):
            self.fail(msg or f"{actual!r:.200} does not start with {expected_start!r}")

    @contextlib.contextmanager
    def assertRaisesWithPredicateMatch(self, exception_type,  # noqa: N802
                                       expected_err_re_or_predicate):
        """The block raises `exception_type` whose message matches the regex (or predicate)."""
        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
            wanted = getattr(predicate, "__name__", "the predicate")
        else:
            pattern = expected_err_re_or_predicate

            def predicate(e):
                return re.search(pattern, str(e)) is not None
            wanted = f"a message matching {pattern!r}"
        try:
            yield
        except exception_type as e:
            if not predicate(e):
                raise AssertionError(f"Exception {type(e).__name__} raised, but it does not "
                                     f"satisfy {wanted}: {e}") from e
        else:
            raise AssertionError(f"{exception_type.__name__} not raised (expected {wanted})")

    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802
        """The block raises a tf.errors.OpError matching the regex (or predicate)."""
        return self.assertRaisesWithPredicateMatch(errors.OpError, expected_err_re_or_predicate)

    def _AssertProtoEquals(self, a, b, msg=None):  # noqa: N802 (TF 0.9's helper)
        """Two messages of one type are equal (their text forms shown otherwise)."""
        self.assertProtoEquals(a, b, msg)

    def assertProtoEquals(self, expected_message_maybe_ascii, message, msg=None):  # noqa: N802
        """`message` equals the expected proto, given as a message or in text format."""
        expected = expected_message_maybe_ascii
        if isinstance(expected, (str, bytes)):
            from google.protobuf import text_format
            text = expected.decode() if isinstance(expected, bytes) else expected
            expected = text_format.Parse(text, type(message)())
        if expected != message:
            from google.protobuf import text_format
            self.fail((msg + "\n" if msg else "") + "Protos differ.\nexpected:\n"
                      f"{text_format.MessageToString(expected)}\nactual:\n"
                      f"{text_format.MessageToString(message)}")


class _CheckedThread:
    """A thread for `TestCase.checkedThread`: keeps what `target` raised for `join()`."""

    def __init__(self, testcase, target, args=None, kwargs=None):
        self._testcase = testcase
        self._target = target
        self._args = () if args is None else args
        self._kwargs = {} if kwargs is None else kwargs
        self._exception = None
        self._joined = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self._target(*self._args, **self._kwargs)
        except BaseException as e:  # noqa: BLE001 (handed to the test thread by join)
            self._exception = e

    def start(self):
        self._thread.start()

    def join(self, timeout=None):
        """Waits for the thread; fails the test with the target's exception, if any."""
        self._thread.join(timeout)
        self._joined = not self._thread.is_alive()
        if self._exception is not None:
            self._testcase.fail(f"checkedThread target raised {type(self._exception).__name__}: "
                                f"{self._exception}")

    def is_alive(self):
        return self._thread.is_alive()

    isAlive = is_alive  # noqa: N815 (the Python 2 spelling TF 0.9's tests call)

    def check_termination(self):
        """Fails the test if the thread was started and is still running."""
        if self._thread.is_alive():
            self._testcase.fail("A checkedThread did not terminate")

