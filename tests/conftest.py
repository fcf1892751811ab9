"""Test setup: make tests/ importable (op_harness) and give every test a fresh default graph.

Tests that need a real TensorFlow carry the `tensorflow` mark (tests/interop/ gets the
`interop` mark here); without TensorFlow they skip. `make interop` runs them against
TensorFlow 2.21 in its own virtualenv with TENSORFLUX_INTEROP=1, where TensorFlow must import
and any skip fails the run.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

_INTEROP = os.environ.get("TENSORFLUX_INTEROP") == "1"
_INTEROP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop")
_skipped = []


def pytest_configure(config):
    config.addinivalue_line("markers", "tensorflow: needs a real TensorFlow beside tensorflux")
    config.addinivalue_line("markers", "interop: under tests/interop (goldens and TensorFlow)")
    config.addinivalue_line("markers", "keras1: needs Keras 1.x (make interop installs it)")
    if _INTEROP:
        try:
            import tensorflow  # noqa: F401
        except ImportError as e:
            raise pytest.UsageError(f"TENSORFLUX_INTEROP=1 but TensorFlow does not import: {e}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).startswith(_INTEROP_DIR + os.sep):
            item.add_marker(pytest.mark.interop)


def _note_skip(report):
    if _INTEROP and report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


pytest_collectreport = _note_skip
pytest_runtest_logreport = _note_skip


def pytest_sessionfinish(session, exitstatus):
    if _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nTENSORFLUX_INTEROP=1: {len(_skipped)} skipped where nothing may skip:",
              *_skipped, sep="\n  ")


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    import tensorflux as tf
    tf.reset_default_graph()
    yield
