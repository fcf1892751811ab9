"""Slice keys of V2 checkpoints against TensorFlow's own: tf_slices/ was written by TensorFlow
2.21's Saver (tests/data/checkpoints/make_tf_slice_golden.py) for variables split where
OrderedCode's signed numbers change length (63/64, 8191/8192)."""
import importlib.util
import os

import numpy as np
import pytest

from tensorflux.lib.io import tensor_bundle as tb

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "checkpoints")
PREFIX = os.path.join(DATA_DIR, "tf_slices", "model-1")


def _tf_values():
    spec = importlib.util.spec_from_file_location(
        "make_tf_slice_golden", os.path.join(DATA_DIR, "make_tf_slice_golden.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tf_values()


def _row_slices(rows, shards):
    """fixed_size_partitioner's split: the first rows % shards shards get one row more."""
    sizes = [rows // shards + (k < rows % shards) for k in range(shards)]
    starts = np.cumsum([0] + sizes[:-1])
    return [(int(s), n) for s, n in zip(starts, sizes)]


@pytest.mark.parametrize("name", sorted(_tf_values()))
def test_reads_every_slice_tensorflow_wrote(name):
    full, _ = _tf_values()[name]
    got = tb.BundleReader(PREFIX).lookup(name)
    assert got.dtype == full.dtype
    np.testing.assert_array_equal(got, full)


def test_slice_keys_are_tensorflows_bytes(tmp_path):
    prefix = str(tmp_path / "model")
    writer = tb.BundleWriter(prefix)
    for name, (full, shards) in sorted(_tf_values().items()):
        for start, rows in _row_slices(full.shape[0], shards):
            # A Saver names every dimension of a partition's slice ("0,1"), never "-".
            spec = tb.TensorSlice([(start, rows)] + [(0, d) for d in full.shape[1:]])
            writer.add_slice(name, full.shape, spec, full[start:start + rows])
    writer.finish()
    theirs = set(tb.BundleReader(PREFIX).raw_entries())
    ours = set(tb.BundleReader(prefix).raw_entries())
    assert sorted(ours - theirs) == [] and sorted(theirs - ours) == []
    # The keys of the 64-row and 8192-row slices (two- and three-byte numbers) are among them.
    assert tb.slice_key("rows128", [(64, 64), (0, 1)]) in theirs
    assert tb.slice_key("rows16384", [(8192, 8192), (0, 1)]) in theirs
