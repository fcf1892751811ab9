"""Test setup: make tests/ importable (op_harness) and give every test a fresh default graph."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    import tensorflux as tf
    tf.reset_default_graph()
    yield
