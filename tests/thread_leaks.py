"""A fixture failing a test that leaves threads running (import it into a test module)."""
import threading

import pytest

import tensorflux as tf


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    before = set(threading.enumerate())
    yield
    tf.summary.FileWriterCache.clear()
    for t in set(threading.enumerate()) - before:
        t.join(timeout=5)  # a closed session's inter-op pool exits on its own, soon after
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads leaked: {leaked}"
