"""The golden files TensorFlow wrote under tests/data, and the values they hold.

tests/data/make_tf_goldens.py wrote them with TensorFlow 2.21 (run with the peer installation);
its value functions need no TensorFlow, so tests without it import them from here.
"""
import importlib.util
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "make_tf_goldens", os.path.join(DATA, "make_tf_goldens.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make = _load_script()


def path(*parts):
    """A path under tests/data."""
    return os.path.join(DATA, *parts)


def read(*parts):
    with open(path(*parts), "rb") as f:
        return f.read()
