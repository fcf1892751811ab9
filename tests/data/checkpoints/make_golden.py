"""Writes the golden checkpoint `golden` in this directory. Run once; the files are committed.

    .venv/bin/python tests/data/checkpoints/make_golden.py

TensorFlow 2.21's SaveV2 given the same tensors, names and slice specs writes byte-identical
`.index` and `.data-00000-of-00001` files (checked when the golden files were made), so the test
that compares against these files also pins compatibility with TensorFlow's writer.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = os.path.join(HERE, "golden")


def golden_tensors():
    """{name: array} of whole tensors, and [(name, spec, array)] slices of `part`."""
    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array(7, np.int64),
        "dir/c": np.array([True, False]),
        "f64": np.sin(np.arange(60, dtype=np.float64)).reshape(3, 4, 5),
        "i32": np.array([-1, 2**31 - 1, -2**31], np.int32),
        "i16": np.array([-7, 300], np.int16),
        "u8": np.arange(0, 256, 17, dtype=np.uint8),
        "h": np.array([1.5, -2.25], np.float16),
        "c64": np.array([1 + 2j, -0.5j], np.complex64),
        "empty": np.zeros((0, 3), np.float32),
        "s": np.array([b"hello", b"", b"x" * 200, "\u00e9".encode()], dtype=object),
        "s0": np.array(b"scalar", dtype=object),
        "scope/w": np.linspace(-1, 1, 35, dtype=np.float32).reshape(7, 5),
    }
    part = np.cos(np.arange(300 * 2, dtype=np.float64)).reshape(300, 2)
    slices = [("part", "300 2 0,100:0,2", part[0:100]),
              ("part", "300 2 100,150:-", part[100:250]),
              ("part", "300 2 250,50:0,2", part[250:300])]
    return tensors, slices, part


def write(prefix=PREFIX):
    from tensorflux.lib.io import tensor_bundle
    from tensorflux.ops import io_ops
    tensors, slices, _ = golden_tensors()
    writer = tensor_bundle.BundleWriter(prefix)
    for name, value in tensors.items():
        writer.add(name, value)
    for name, spec, value in slices:
        full_shape, tensor_slice = io_ops.parse_shape_and_slice(spec)
        writer.add_slice(name, full_shape, tensor_slice, value)
    return writer.finish()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
    write(sys.argv[1] if len(sys.argv) > 1 else PREFIX)
