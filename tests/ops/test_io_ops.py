"""Harness entries and behaviour tests for the checkpoint I/O ops (SaveV2, RestoreV2, ...)."""
import os
import shutil
import tempfile

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.framework import errors
from tensorflux.lib.io import tensor_bundle
from tensorflux.ops import io_ops

_TMP = tempfile.mkdtemp(prefix="tfx_io_ops")


def teardown_module():
    shutil.rmtree(_TMP, ignore_errors=True)


def _save_then_restore(x, spec="", out_shape=None):
    prefix = os.path.join(_TMP, "roundtrip")
    save = io_ops.save_v2(prefix, ["x"], [""], [x])
    with tf.control_dependencies([save]):
        (restored,) = io_ops.restore_v2(prefix, ["x"], [spec], [x.dtype])
    restored.set_shape(out_shape if out_shape is not None else x.get_shape())
    return restored


def _sharded_round_trip(x, y):
    base = os.path.join(_TMP, "sharded")
    p0 = io_ops.sharded_filename(base, 0, 2)
    p1 = io_ops.sharded_filename(base, 1, 2)
    saves = [io_ops.save_v2(p0, ["x"], [""], [x]), io_ops.save_v2(p1, ["y"], [""], [y])]
    with tf.control_dependencies(saves):
        merge = io_ops.merge_v2_checkpoints(tf.stack([p0, p1]), base)
    with tf.control_dependencies([merge]):
        rx, ry = io_ops.restore_v2(base, ["x", "y"], ["", ""], [x.dtype, y.dtype])
    rx.set_shape(x.get_shape())
    ry.set_shape(y.get_shape())
    return [rx, ry]


def _check_merged_files(spec):
    reader = tensor_bundle.BundleReader(os.path.join(_TMP, "sharded"))
    assert reader.header.num_shards == 2
    assert reader.entry("y").shard_id == 1
    assert not os.path.exists(os.path.join(_TMP, "sharded-00000-of-00002.index"))


ALL_KINDS = [tf.float32, tf.float64, tf.int32, tf.int64, tf.bool, tf.uint8, tf.float16]

SPECS = [
    OpSpec(("SaveV2", "RestoreV2"), _save_then_restore, lambda x: x,
           [((3, 4),), ((),), ((2, 0),)], dtypes=ALL_KINDS, grad=()),
    OpSpec("RestoreV2", lambda x: _save_then_restore(x, "6 4 1,2:-", [2, 4]),
           lambda x: x[1:3], [((6, 4),)], grad=(), name="RestoreV2_slice"),
    OpSpec(("MergeV2Checkpoints", "ShardedFilename"), _sharded_round_trip,
           lambda x, y: [x, y], [((2, 3), ()), ((), (5,))], dtypes=[tf.float32, tf.int64],
           grad=(), check=_check_merged_files),
    OpSpec("ShardedFilename", lambda: io_ops.sharded_filename("dir/m", 1, 3),
           lambda: np.array(b"dir/m-00001-of-00003", dtype=object), [()], dtypes=[tf.string],
           name="ShardedFilename_const"),
    OpSpec("ShardedFilespec", lambda: io_ops.sharded_filespec("m", 12),
           lambda: np.array(b"m-?????-of-00012", dtype=object), [()], dtypes=[tf.string]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetch):
    with tf.Session() as sess:
        return sess.run(fetch)


def test_strings_round_trip(tmp_path):
    prefix = str(tmp_path / "s")
    value = np.array([[b"a", b""], [b"\x00\xff", "\u00e9".encode()]], dtype=object)
    save = io_ops.save_v2(prefix, ["s"], [""], [tf.constant(value)])
    _run(save)
    (restored,) = io_ops.restore_v2(prefix, ["s"], [""], [tf.string])
    np.testing.assert_array_equal(_run(restored), value)


def test_save_slices_then_restore_whole(tmp_path):
    prefix = str(tmp_path / "p")
    full = np.arange(12, dtype=np.float32).reshape(4, 3)
    save = io_ops.save_v2(prefix, ["v", "v"], ["4 3 0,1:-", "4 3 1,3:0,3"],
                          [tf.constant(full[:1]), tf.constant(full[1:])])
    _run(save)
    (restored,) = io_ops.restore_v2(prefix, ["v"], [""], [tf.float32])
    np.testing.assert_array_equal(_run(restored), full)


def _saved(tmp_path):
    prefix = str(tmp_path / "c")
    _run(io_ops.save_v2(prefix, ["x"], [""], [tf.constant([1.0, 2.0])]))
    return prefix


def test_restore_missing_key_is_not_found(tmp_path):
    prefix = _saved(tmp_path)
    (restored,) = io_ops.restore_v2(prefix, ["nope"], [""], [tf.float32])
    with pytest.raises(errors.NotFoundError, match="Key nope not found"):
        _run(restored)


def test_restore_wrong_dtype_is_invalid_argument(tmp_path):
    prefix = _saved(tmp_path)
    (restored,) = io_ops.restore_v2(prefix, ["x"], [""], [tf.int32])
    with pytest.raises(errors.InvalidArgumentError, match="expected dtype int32 does not equal "
                                                          "restored dtype float32"):
        _run(restored)


def test_restore_from_missing_checkpoint_is_not_found(tmp_path):
    (restored,) = io_ops.restore_v2(str(tmp_path / "none"), ["x"], [""], [tf.float32])
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        _run(restored)


def test_save_count_mismatch_is_invalid_argument(tmp_path):
    save = io_ops.save_v2(str(tmp_path / "c"), ["a", "b"], ["", ""], [tf.constant(1.0)])
    with pytest.raises(errors.InvalidArgumentError, match="tensor_names must be a vector of 1"):
        _run(save)
    assert os.listdir(tmp_path) == []


def test_bad_slice_spec_is_invalid_argument(tmp_path):
    save = io_ops.save_v2(str(tmp_path / "c"), ["a"], ["2 0,5"], [tf.constant([1.0, 2.0])])
    with pytest.raises(errors.InvalidArgumentError, match="Bad shape_and_slice spec"):
        _run(save)


def test_shape_functions_reject_bad_ranks():
    with pytest.raises(ValueError, match="prefix must be a scalar"):
        io_ops.save_v2(["a", "b"], ["x"], [""], [tf.constant(1.0)])
    with pytest.raises(ValueError, match="tensor_names must be a vector"):
        io_ops.restore_v2("p", "x", [""], [tf.float32])


def test_merge_missing_shard(tmp_path):
    merge = io_ops.merge_v2_checkpoints([str(tmp_path / "a")], str(tmp_path / "m"))
    with pytest.raises(errors.NotFoundError, match="missing checkpoint"):
        _run(merge)
