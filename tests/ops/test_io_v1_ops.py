"""Harness entries and behaviour tests for TF 0.9's checkpoint ops on the V1 format (Save,
SaveSlices, Restore, RestoreSlice) and RestoreV2 reading V1 files."""
import os
import shutil
import tempfile

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run
from tensorflux.ops import io_ops
from tensorflux.ops import io_v1_ops

_TMP = tempfile.mkdtemp(prefix="tfx_io_v1_ops")
ALL_KINDS = [tf.float32, tf.float64, tf.int32, tf.int64, tf.bool, tf.uint8, tf.float16,
             tf.complex64]


def teardown_module():
    shutil.rmtree(_TMP, ignore_errors=True)


def _save_restore(x):
    path = os.path.join(_TMP, "whole")
    save = io_v1_ops.save(path, ["x"], [x])
    with tf.control_dependencies([save]):
        restored = io_v1_ops.restore(path, "x", x.dtype)
    restored.set_shape(x.get_shape())
    return restored


def _save_slices_restore_slice(x):
    """x saved as rows 0..1 and 2..3 of a [4, 3] tensor in two shards, read back as rows 1..2."""
    base = os.path.join(_TMP, "sliced")
    saves = [io_v1_ops.save_slices(io_ops.sharded_filename(base, k, 2), ["x"],
                                   [f"4 3 {2 * k},2:-"], [x[2 * k:2 * k + 2]]) for k in (0, 1)]
    with tf.control_dependencies(saves):
        pattern = io_ops.sharded_filespec(base, 2)
        middle = io_v1_ops.restore_slice(pattern, "x", "4 3 1,2:-", x.dtype)
        whole = io_v1_ops.restore_slice(pattern, "x", "", x.dtype)
    middle.set_shape([2, 3])  # restored shapes are unknown until run, as TF's
    whole.set_shape(x.get_shape())
    return [middle, whole]


def _restore_v2_of_v1(x):
    path = os.path.join(_TMP, "for_v2")
    save = io_v1_ops.save_slices(path, ["x"], [""], [x])
    with tf.control_dependencies([save]):
        (restored,) = io_ops.restore_v2(path, ["x"], [""], [x.dtype])
    restored.set_shape(x.get_shape())
    return restored


SPECS = [
    OpSpec(("Save", "Restore"), _save_restore, lambda x: x, [((3, 4),), ((),), ((2, 0),)],
           dtypes=ALL_KINDS, grad=()),
    OpSpec(("SaveSlices", "RestoreSlice"), _save_slices_restore_slice,
           lambda x: [x[1:3], x], [((4, 3),)], dtypes=ALL_KINDS, grad=()),
    OpSpec("RestoreV2", _restore_v2_of_v1, lambda x: x, [((2, 2),)], grad=(),
           name="RestoreV2_of_V1"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_strings_round_trip():
    values = np.array([b"a", b"", b"\x00\xff"], object)
    assert list(_run(_save_restore(tf.constant(values)))) == list(values)


def test_missing_files_and_keys_use_tf_wording():
    with pytest.raises(tf.errors.NotFoundError,
                       match="^Unsuccessful TensorSliceReader constructor: Failed to find any "
                             "matching files for"):
        _run(io_v1_ops.restore(os.path.join(_TMP, "nothing-?????-of-00002"), "x", tf.float32))
    path = os.path.join(_TMP, "one")
    _run(io_v1_ops.save(path, ["x"], [tf.constant([1.0])]))
    with pytest.raises(tf.errors.NotFoundError, match="^Key y not found in checkpoint"):
        _run(io_v1_ops.restore(path, "y", tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected dtype int32 does not "
                                                             "equal restored dtype float32"):
        _run(io_v1_ops.restore(path, "x", tf.int32))


def test_save_checks_its_inputs():
    with pytest.raises(tf.errors.InvalidArgumentError, match="tensor_names must be a vector of 2"):
        _run(io_v1_ops.save(os.path.join(_TMP, "bad"), ["x"], [tf.constant(1), tf.constant(2)]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="has shape \\[2\\], the value has "
                                                             "shape \\[3\\]"):
        _run(io_v1_ops.save_slices(os.path.join(_TMP, "bad"), ["x"], ["4 0,2"],
                                   [tf.constant([1, 2, 3])]))
