"""Tensor bundles (V2 checkpoints): round trips, golden files, slices, merging, corruption."""
import os
import shutil
import tempfile

import numpy as np
import pytest
import tf_goldens
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.lib.io import table, tf_record
from tensorflux.lib.io import tensor_bundle as tb
from tensorflux.ops import io_ops

DATA_DIR = tf_goldens.path("checkpoints")
GOLDEN = os.path.join(DATA_DIR, "golden")


def assert_same(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    assert got.dtype == want.dtype, f"{what}: {got.dtype} != {want.dtype}"
    if want.dtype == object:
        assert list(got.reshape(-1)) == list(want.reshape(-1)), what
    else:
        assert got.tobytes() == want.tobytes(), what


# ---- round trips ------------------------------------------------------------------------------
VALUES = {
    "f32": np.array([[1.5, -0.0, np.inf], [np.nan, 1e-45, 3.4e38]], np.float32),
    "f64": np.array([np.pi, -np.e, 5e-324]),
    "i32": np.array([-2**31, 0, 2**31 - 1], np.int32),
    "i64": np.array(-2**63, np.int64),
    "bool": np.array([[True], [False]]),
    "bf16": np.array([1.0, -3.5], tf.bfloat16.as_numpy_dtype),
    "c128": np.array([1 - 1j], np.complex128),
    "u16": np.array([65535], np.uint16),
    "str": np.array([b"", b"a\x00b", "\u00fc".encode(), b"z" * 70000], dtype=object),
    "str0": np.array(b"", dtype=object),
    "empty": np.zeros((2, 0), np.int64),
    "large": np.arange(600_000, dtype=np.float32).reshape(600, 1000),
}


def test_round_trip_every_dtype(tmp_path):
    prefix = str(tmp_path / "ckpt")
    writer = tb.BundleWriter(prefix)
    for name, value in VALUES.items():
        writer.add(name, value)
    writer.finish()
    assert sorted(os.listdir(tmp_path)) == ["ckpt.data-00000-of-00001", "ckpt.index"]
    reader = tb.BundleReader(prefix)
    assert reader.tensor_names() == sorted(VALUES)
    for name, value in VALUES.items():
        assert_same(reader.lookup(name), value, name)
    assert reader.dtype("bf16") == tf.bfloat16
    assert reader.shape("large") == [600, 1000]
    assert reader.header.num_shards == 1


def test_data_is_raw_bytes_in_add_order(tmp_path):
    prefix = str(tmp_path / "c")
    writer = tb.BundleWriter(prefix)
    writer.add("z", np.array([1, 2], np.int32))
    writer.add("a", np.array([3.0], np.float64))
    writer.finish()
    data = open(tb.data_filename(prefix, 0, 1), "rb").read()
    assert data == np.array([1, 2], "<i4").tobytes() + np.array([3.0], "<f8").tobytes()
    entry = tb.BundleReader(prefix).entry("a")
    assert (entry.offset, entry.size, entry.shape) == (8, 8, [1])


def test_duplicate_key_rejected(tmp_path):
    writer = tb.BundleWriter(str(tmp_path / "c"))
    writer.add("x", np.zeros(2))
    with pytest.raises(errors.InvalidArgumentError, match="duplicate"):
        writer.add("x", np.zeros(2))
    writer.abort()
    assert os.listdir(tmp_path) == []


def test_missing_bundle_is_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        tb.BundleReader(str(tmp_path / "none"))
    writer = tb.BundleWriter(str(tmp_path / "c"))
    writer.add("x", np.zeros(2))
    writer.finish()
    with pytest.raises(errors.NotFoundError, match="Key y not found"):
        tb.BundleReader(str(tmp_path / "c")).lookup("y")


# ---- golden files (written by TensorFlow 2.21: tests/data/make_tf_goldens.py) ------------------
def _write_like_tensorflow(prefix, tensors, slices):
    writer = tb.BundleWriter(prefix)
    for name, value in tensors.items():
        writer.add(name, value)
    for name, spec, value in slices:
        full_shape, tensor_slice = io_ops.parse_shape_and_slice(spec)
        writer.add_slice(name, full_shape, tensor_slice, value)
    return writer.finish()


def _assert_same_files(prefix, golden):
    for suffix in (".index", ".data-00000-of-00001"):
        with open(prefix + suffix, "rb") as f, open(golden + suffix, "rb") as g:
            assert f.read() == g.read(), f"{suffix} differs from TensorFlow's {golden}{suffix}"


def test_writer_reproduces_tensorflows_golden_files_byte_for_byte(tmp_path):
    tensors, slices, _ = tf_goldens.make.golden_tensors()
    prefix = _write_like_tensorflow(str(tmp_path / "golden"), tensors, slices)
    _assert_same_files(prefix, GOLDEN)


def test_reader_reads_tensorflows_golden_files():
    tensors, slices, part = tf_goldens.make.golden_tensors()
    reader = tb.BundleReader(GOLDEN)
    assert reader.tensor_names() == sorted(list(tensors) + ["part"])
    for name, value in tensors.items():
        assert_same(reader.lookup(name), value, name)
    assert_same(reader.lookup("part"), part)
    assert len(reader.entry("part").slices) == 3
    got = reader.lookup_slice("part", tb.TensorSlice.parse_spec("5,10:1,1"))
    assert_same(got, part[5:15, 1:2])


def test_reads_checkpoint_written_by_tensorflow_saver():
    """tf_saver/ was written by TensorFlow 2.21's tf.compat.v1.train.Saver (`part` partitioned
    in three by fixed_size_partitioner)."""
    prefix = os.path.join(DATA_DIR, "tf_saver", "model-1")
    reader = tb.BundleReader(prefix)
    values = tf_goldens.make.saver_values()
    assert reader.tensor_names() == sorted(values)
    for name, value in values.items():
        assert_same(reader.lookup(name), value, name)
    assert [repr(s) for s in reader.entry("part").slices] == ["0,4:0,4", "4,3:0,4", "7,3:0,4"]


# ---- slices, merging, encodings -----------------------------------------------------------------
def test_slices_write_and_assemble(tmp_path):
    prefix = str(tmp_path / "p")
    full = np.arange(24, dtype=np.float32).reshape(6, 4)
    writer = tb.BundleWriter(prefix)
    for spec in ("0,2:-", "2,4:0,2", "2,4:2,2"):
        tensor_slice = tb.TensorSlice.parse_spec(spec)
        index = tuple(slice(s, s + n) for s, n in tensor_slice.resolved([6, 4]))
        writer.add_slice("v", [6, 4], tensor_slice, full[index])
    writer.finish()
    reader = tb.BundleReader(prefix)
    assert reader.tensor_names() == ["v"]
    assert_same(reader.lookup("v"), full)


def test_incomplete_slices_are_data_loss(tmp_path):
    prefix = str(tmp_path / "p")
    writer = tb.BundleWriter(prefix)
    writer.add_slice("v", [4], tb.TensorSlice.parse_spec("0,2"), np.zeros(2))
    writer.finish()
    with pytest.raises(errors.DataLossError, match="2 elements of the 4"):
        tb.BundleReader(prefix).lookup("v")


def test_merge_bundles(tmp_path):
    parts = []
    for i in range(3):
        prefix = str(tmp_path / "tmp" / f"part-{i}")
        writer = tb.BundleWriter(prefix)
        writer.add(f"v{i}", np.full(3, i, np.int32))
        writer.add_slice("shared", [3], tb.TensorSlice([(i, 1)]), np.array([10.0 * i]))
        writer.finish()
        parts.append(prefix)
    dest = str(tmp_path / "model")
    tb.merge_bundles(parts, dest)
    assert sorted(os.listdir(tmp_path)) == [f"model.data-0000{i}-of-00003" for i in range(3)] + [
        "model.index"]
    reader = tb.BundleReader(dest)
    assert reader.header.num_shards == 3
    assert reader.entry("v2").shard_id == 2
    assert_same(reader.lookup("v1"), np.full(3, 1, np.int32))
    assert_same(reader.lookup("shared"), np.array([0.0, 10.0, 20.0]))


def test_entry_and_header_encoding_matches_tensorflow_bytes():
    items = dict(table.open_table(GOLDEN + ".index").items())
    assert tb.BundleHeader().serialize() == items[b""]
    entry = tb.BundleEntry.parse(items[b"a"])  # float32 [2, 3], the first tensor in the data
    assert (entry.dtype, entry.shape, entry.offset, entry.size) == (1, [2, 3], 0, 24)
    assert entry.crc32c == tf_record.masked_crc32c(np.arange(6, dtype=np.float32).tobytes())
    for key, raw in items.items():
        if key:
            assert tb.BundleEntry.parse(raw).serialize() == raw, key


def _slice_key_cases():
    for name, spec, shape in tf_goldens.make.slice_key_cases():
        full_shape, tensor_slice = io_ops.parse_shape_and_slice(spec)
        yield name, spec, shape, full_shape, tensor_slice


def test_ordered_code_slice_keys_are_tensorflows():
    """Slice keys whose starts and lengths sit on OrderedCode's length edges (63/64, 8191/8192,
    ..., 2**62, and -1 for a whole dimension), against the index TensorFlow's SaveV2 wrote."""
    prefix = os.path.join(DATA_DIR, "slice_keys")
    tf_keys = [k for k in table.open_table(prefix + ".index").keys() if k.startswith(b"\x00")]
    ours = []
    for name, _, _, _, tensor_slice in _slice_key_cases():
        ours.append(tb.slice_key(name, tensor_slice.extents))
    assert sorted(ours) == tf_keys
    # 64 is the first start that takes two bytes; the whole second dimension is (0, -1)
    key = b"\x00start/03\x00\x01\x01\x02" b"\xc0\x40" b"\x81" b"\x80\x7f"
    assert key in tf_keys and tb.slice_key("start/03", [(64, 1), (0, -1)]) == key


def test_writer_reproduces_tensorflows_slice_keys_checkpoint(tmp_path):
    slices = [(name, spec, tf_goldens.make.slice_value(shape))
              for name, spec, shape, _, _ in _slice_key_cases()]
    prefix = _write_like_tensorflow(str(tmp_path / "slice_keys"), {}, slices)
    _assert_same_files(prefix, os.path.join(DATA_DIR, "slice_keys"))


def test_reader_reads_tensorflows_slices_at_the_edges():
    reader = tb.BundleReader(os.path.join(DATA_DIR, "slice_keys"))
    for name, spec, shape, full_shape, tensor_slice in _slice_key_cases():
        assert reader.shape(name) == full_shape, spec
        (saved,) = reader.entry(name).slices
        assert saved == tensor_slice, spec
        if name.startswith("length/"):
            want = tf_goldens.make.slice_value(shape)
            assert_same(reader.lookup_slice(name, tensor_slice), want, spec)


def test_ordered_code_order_holds_for_negatives():
    """TensorFlow cannot write a negative start or a length below -1, so the negative edges
    (-64/-65, ...) are checked by OrderedCode's defining property: byte order is number order."""
    numbers = [-2**63, -2**62, -8193, -8192, -65, -64, -1, 0, 63, 64, 8191, 8192, 2**63 - 1]
    keys = [tb._ordered_signed(v) for v in numbers]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert [len(tb._ordered_signed(v)) for v in (-64, -65, -8192, -8193)] == [1, 2, 2, 3]


def test_string_layout(tmp_path):
    raw, crc = tb.encode_tensor(np.array([b"ab", b"c"], dtype=object), tf.string)
    assert raw[:2] == b"\x02\x01" and raw[6:] == b"abc"
    entry = tb.BundleEntry(tf.string.as_datatype_enum, [2], size=len(raw), crc32c=crc)
    assert list(tb.decode_tensor(raw, entry, "t")) == [b"ab", b"c"]


# ---- corruption ---------------------------------------------------------------------------------
def _write_index(prefix, entries, header=None):
    items = [(b"", (header or tb.BundleHeader()).serialize())]
    items += [(k.encode(), e.serialize()) for k, e in sorted(entries.items())]
    with open(prefix + ".index", "wb") as f:
        f.write(table.build_table(items))
    if not os.path.exists(tb.data_filename(prefix, 0, 1)):
        open(tb.data_filename(prefix, 0, 1), "wb").write(b"\0" * 16)


@pytest.mark.parametrize("entry, message", [
    (tb.BundleEntry(999, [2], size=8), "unknown dtype"),
    (tb.BundleEntry(101, [2], size=8), "cannot hold"),
    (tb.BundleEntry(1, [2], shard_id=3, size=8), "shard 3"),
    (tb.BundleEntry(1, [2], offset=-5, size=8), "negative"),
    (tb.BundleEntry(1, [2**40, 2**40], size=8), "needs"),
    (tb.BundleEntry(1, [2], offset=12, size=8), "truncated"),
    (tb.BundleEntry(7, [10**12], size=8), "strings cannot fit"),
    (tb.BundleEntry(1, [2], size=8, crc32c=1), "checksum"),
    (tb.BundleEntry(1, [10**9, 10**9], slices=[tb.TensorSlice([(0, 1), (0, 1)])]), "not stored"),
])
def test_bad_entries_are_data_loss_naming_file_and_tensor(tmp_path, entry, message):
    prefix = str(tmp_path / "bad")
    _write_index(prefix, {"victim": entry})
    with pytest.raises(errors.DataLossError, match=message) as info:
        tb.BundleReader(prefix).lookup("victim")
    assert "victim" in str(info.value) and "bad" in str(info.value)


def test_bad_header_is_data_loss(tmp_path):
    prefix = str(tmp_path / "h")
    _write_index(prefix, {}, tb.BundleHeader(num_shards=0))
    with pytest.raises(errors.DataLossError, match="0 shards"):
        tb.BundleReader(prefix)
    with open(prefix + ".index", "wb") as f:
        f.write(table.build_table([(b"x", b"")]))
    with pytest.raises(errors.DataLossError, match="no header"):
        tb.BundleReader(prefix)


def test_missing_data_shard_is_data_loss(tmp_path):
    prefix = str(tmp_path / "m")
    writer = tb.BundleWriter(prefix)
    writer.add("x", np.zeros(2))
    writer.finish()
    os.remove(tb.data_filename(prefix, 0, 1))
    with pytest.raises(errors.DataLossError, match="missing"):
        tb.BundleReader(prefix).lookup("x")


_FUZZ_DIR = tempfile.mkdtemp(prefix="tfx_bundle_fuzz")
_FUZZ_VALUES = {
    "a": np.arange(12, dtype=np.float32).reshape(3, 4),
    "b": np.array(-3, np.int64),
    "s": np.array([b"one", b"", b"three"], dtype=object),
    "t": np.array([True, False, True]),
}


def _fuzz_base():
    prefix = os.path.join(_FUZZ_DIR, "base")
    if not os.path.exists(prefix + ".index"):
        writer = tb.BundleWriter(prefix)
        for name, value in _FUZZ_VALUES.items():
            writer.add(name, value)
        writer.add_slice("p", [4], tb.TensorSlice([(0, 2)]), np.array([1.0, 2.0]))
        writer.add_slice("p", [4], tb.TensorSlice([(2, 2)]), np.array([3.0, 4.0]))
        writer.finish()
    return {suffix: open(prefix + suffix, "rb").read()
            for suffix in (".index", ".data-00000-of-00001")}


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 16)),
)


def _mutate(data, mutations):
    data = bytearray(data)
    for kind, pos, arg in mutations:
        pos = pos % (len(data) + 1)
        if kind == "flip" and pos < len(data):
            data[pos] ^= arg
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = bytes([arg])
        elif kind == "delete":
            del data[pos:pos + arg]
    return bytes(data)


def _read_everything(prefix):
    reader = tb.BundleReader(prefix)
    return {name: reader.lookup(name) for name in reader.tensor_names()}


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(which=st.sampled_from([".index", ".data-00000-of-00001"]),
       mutations=st.lists(_MUTATION, min_size=1, max_size=3), case=st.integers(0, 10**9))
def test_fuzzed_bundles_read_correctly_or_raise_data_loss(which, mutations, case):
    files = _fuzz_base()
    prefix = os.path.join(_FUZZ_DIR, f"case{case % 7}")
    for suffix, data in files.items():
        with open(prefix + suffix, "wb") as f:
            f.write(_mutate(data, mutations) if suffix == which else data)
    try:
        values = _read_everything(prefix)
    except errors.DataLossError as e:
        assert "Corrupt" in e.message or "truncated" in e.message or "missing" in e.message
        return
    want = dict(_FUZZ_VALUES, p=np.array([1.0, 2.0, 3.0, 4.0]))
    assert sorted(values) == sorted(want)
    for name, value in want.items():
        assert_same(values[name], value, name)


def teardown_module():
    shutil.rmtree(_FUZZ_DIR, ignore_errors=True)


def test_parse_shape_and_slice_errors():
    with pytest.raises(errors.InvalidArgumentError, match="Bad shape_and_slice"):
        io_ops.parse_shape_and_slice("4 2 0,5:-")
    with pytest.raises(errors.InvalidArgumentError, match="Bad shape_and_slice"):
        io_ops.parse_shape_and_slice("4 x")
    assert io_ops.parse_shape_and_slice("") == (None, None)
