"""The V1 checkpoint format against TensorFlow's own files: tf_v1/ and tf_v1_sharded/ were
written by TensorFlow 2.21's Saver(write_version=V1)
(tests/data/checkpoints/make_tf_v1_golden.py)."""
import importlib.util
import os

import numpy as np
import pytest

from tensorflux.framework import errors
from tensorflux.lib.io import table
from tensorflux.lib.io import tensor_bundle as tb
from tensorflux.lib.io import tensor_slice_v1 as v1

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "checkpoints")
SINGLE = os.path.join(DATA_DIR, "tf_v1", "model.ckpt-7")
SHARDED = os.path.join(DATA_DIR, "tf_v1_sharded", "model.ckpt-3-?????-of-00002")


def _golden():
    spec = importlib.util.spec_from_file_location(
        "make_tf_v1_golden", os.path.join(DATA_DIR, "make_tf_v1_golden.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN = _golden()


@pytest.mark.parametrize("path", [SINGLE, SHARDED], ids=["single", "sharded"])
def test_reads_every_tensor_tensorflow_wrote(path):
    reader = v1.V1Reader(path)
    values = GOLDEN.v1_values()
    assert reader.tensor_names() == sorted(list(values) + ["part"])
    for name, want in values.items():
        got = reader.lookup(name)
        assert got.dtype == want.dtype, name
        assert list(got.shape) == reader.shape(name) == list(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=name)
    np.testing.assert_array_equal(reader.lookup("part"), GOLDEN.partitioned_value())
    np.testing.assert_array_equal(reader.lookup_slice("part", tb.TensorSlice([(1, 3), (0, -1)])),
                                  GOLDEN.partitioned_value()[1:4])


def test_sharded_pattern_matches_both_files():
    files = v1.matching_files(SHARDED)
    assert [os.path.basename(f) for f in files] == ["model.ckpt-3-00000-of-00002",
                                                    "model.ckpt-3-00001-of-00002"]
    assert v1.is_v1_checkpoint(SHARDED) and v1.is_v1_checkpoint(SINGLE)
    assert not v1.is_v1_checkpoint(SINGLE + "-nope")


def test_our_file_is_tensorflows_byte_for_byte(tmp_path):
    path = str(tmp_path / "ours")
    writer = v1.V1Writer(path)
    for name, value in GOLDEN.v1_values().items():
        writer.add(name, value)
    full = GOLDEN.partitioned_value()
    for start, rows in ((0, 3), (3, 2)):
        writer.add_slice("part", full.shape, tb.TensorSlice([(start, rows), (0, 2)]),
                         full[start:start + rows])
    writer.finish()
    ours, theirs = table.open_table(path), table.open_table(SINGLE)
    assert list(ours.items()) == list(theirs.items())
    with open(path, "rb") as a, open(SINGLE, "rb") as b:
        assert a.read() == b.read()


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        v1.V1Reader(str(tmp_path / "none"))
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a table at all, just some bytes that are long enough" * 2)
    with pytest.raises(errors.DataLossError):
        v1.V1Reader(str(bad))


def test_missing_slices_are_data_loss(tmp_path):
    path = str(tmp_path / "half")
    writer = v1.V1Writer(path)
    writer.add_slice("x", [4], tb.TensorSlice([(0, 2)]), np.ones(2, np.float32))
    writer.finish()
    with pytest.raises(errors.DataLossError, match="does not hold every element of x"):
        v1.V1Reader(path).lookup("x")


def test_writer_refuses_inconsistent_tensors(tmp_path):
    writer = v1.V1Writer(str(tmp_path / "w"))
    writer.add_slice("x", [4], tb.TensorSlice([(0, 2)]), np.ones(2, np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="saved as float32\\[4\\] and as"):
        writer.add_slice("x", [5], tb.TensorSlice([(2, 2)]), np.ones(2, np.float32))
    with pytest.raises(errors.UnimplementedError, match="cannot hold uint64"):
        writer.add("u", np.array([1], np.uint64))
