"""Corrupt files the reader fuzzer (tools/fuzz/readers.py) found mishandled in tensorflux/lib:
each ends in a TensorFlow error, with no allocation driven by a length field that lies."""
import contextlib
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.lib import png
from tensorflux.lib.io import table
from tensorflux.lib.io import tensor_bundle as tb
from tensorflux.lib.io import tensor_slice_v1
from tensorflux.lib.io import tf_record

pytestmark = pytest.mark.timeout(60)


@contextlib.contextmanager
def peak_bytes_below(limit):
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < limit, f"peak allocation {peak} bytes"


def _lying_record(length):
    """A record header claiming `length` bytes, with its length CRC forged, then 3 bytes."""
    field = struct.pack("<Q", length)
    return field + struct.pack("<I", tf_record.masked_crc32c(field)) + b"abc"


@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 10**12, 2**31])
def test_tfrecord_length_that_lies_is_data_loss_without_allocating_it(tmp_path, length):
    path = tmp_path / "lie.tfrecord"
    path.write_bytes(tf_record.encode_record(b"first") + _lying_record(length))
    records = tf_record.tf_record_iterator(str(path))
    assert next(records) == b"first"
    with peak_bytes_below(8 << 20), pytest.raises((errors.DataLossError,
                                                   errors.ResourceExhaustedError)):
        next(records)


def test_tfrecord_length_over_the_tensor_cap_is_resource_exhausted(tmp_path):
    path = tmp_path / "big.tfrecord"
    path.write_bytes(tf_record.encode_record(b"x" * 2000))
    with limits.max_tensor_bytes(1000), pytest.raises(errors.ResourceExhaustedError,
                                                      match="per-tensor limit"):
        list(tf_record.tf_record_iterator(str(path)))
    assert list(tf_record.tf_record_iterator(str(path))) == [b"x" * 2000]


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_compressed_tfrecord_length_that_lies_is_data_loss(tmp_path, compression):
    path = tmp_path / "lie.tfrecord"
    with tf_record.TFRecordWriter(str(path), compression) as writer:
        writer.write(b"first")
    raw = tf_record.encode_record(b"first") + _lying_record(3 << 30)  # under the 4 GiB cap
    compress = zlib.compress if compression == "ZLIB" else __import__("gzip").compress
    path.write_bytes(compress(raw))
    with peak_bytes_below(8 << 20), pytest.raises(errors.DataLossError, match="Truncated"):
        list(tf_record.tf_record_iterator(str(path), compression))


def test_zlib_tfrecord_inflates_only_what_a_read_asks(tmp_path):
    # 64 MB of zeros deflate to ~64 KB: a reader inflating whole chunks would hold them all
    # to read a 12-byte header (whose CRC then fails)
    path = tmp_path / "z.tfrecord"
    path.write_bytes(zlib.compress(tf_record.encode_record(b"a") + bytes(64 << 20)))
    records = tf_record.tf_record_iterator(str(path), "ZLIB")
    assert next(records) == b"a"
    with peak_bytes_below(8 << 20), pytest.raises(errors.DataLossError, match="CRC"):
        next(records)


def _table_items():
    return [(b"", b"header"), (b"a", b"1"), (b"b", b"22")]


def test_table_footer_shifted_by_a_deletion_is_data_loss():
    data = table.build_table(_table_items())
    shifted = data[:-20] + data[-18:]  # two bytes of the footer's zero padding gone
    with pytest.raises(errors.DataLossError, match="Corrupted table"):
        table.Table(shifted)
    assert list(table.Table(data).items()) == _table_items()


def test_table_footer_with_nonzero_padding_is_data_loss():
    data = bytearray(table.build_table(_table_items()))
    data[-12] = 1
    with pytest.raises(errors.DataLossError, match="padding"):
        table.Table(bytes(data))


def test_table_index_handle_pointing_elsewhere_is_data_loss():
    data = table.build_table(_table_items())
    footer = data[-table.FOOTER_SIZE:]
    _, _, pos = table.decode_block_handle(footer)
    # the index handle replaced by the metaindex handle: a valid block, but not the last one
    forged = footer[:pos] + footer[:pos] + bytes(40 - 2 * pos) + footer[40:]
    with pytest.raises(errors.DataLossError, match="does not end where the footer starts"):
        table.Table(data[:-table.FOOTER_SIZE] + forged)


def _v1_with_meta_shape(tmp_path, shape):
    path = str(tmp_path / "model.ckpt")
    writer = tensor_slice_v1.V1Writer(path)
    writer.add("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    writer.finish()
    items = list(table.Table(open(path, "rb").read()).items())
    meta = tensor_slice_v1._parse_meta(items[0][1])
    meta["w"] = (meta["w"][0], shape, meta["w"][2])
    items[0] = (b"", tensor_slice_v1._meta_bytes(meta))
    with open(path, "wb") as f:
        f.write(table.build_table(items))
    return tensor_slice_v1.V1Reader(path)


@pytest.mark.parametrize("shape", [[10**6, 10**6], [10**12], [2**62, 4], [2**31, 2**31, 4]])
def test_v1_meta_shape_that_lies_is_data_loss_without_allocating_it(tmp_path, shape):
    reader = _v1_with_meta_shape(tmp_path, shape)
    with peak_bytes_below(8 << 20), pytest.raises(errors.DataLossError):
        reader.lookup("w")


def test_v1_data_entry_that_is_not_a_tensor_proto_is_data_loss(tmp_path):
    path = str(tmp_path / "model.ckpt")
    writer = tensor_slice_v1.V1Writer(path)
    writer.add("w", np.arange(6, dtype=np.float32))
    writer.finish()
    items = list(table.Table(open(path, "rb").read()).items())
    key, _ = items[1]
    saved = (tb._bytes_field(1, b"w") + tb._bytes_field(2, tb.TensorSlice.full(1).serialize())
             + tb._bytes_field(3, b"\x0a\xff\xff"))  # a TensorProto whose field 1 is torn
    items[1] = (key, tb._bytes_field(2, saved))
    with open(path, "wb") as f:
        f.write(table.build_table(items))
    with pytest.raises(errors.DataLossError, match="Unable to read V1 checkpoint"):
        tensor_slice_v1.V1Reader(path)


def _png_claiming(width, height, pixels):
    good = png.encode(pixels)
    body = struct.pack(">II", width, height) + good[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return good[:16] + body + crc + good[33:]


def test_png_header_over_the_tensor_cap_is_resource_exhausted():
    data = _png_claiming(8000, 8000, np.zeros((4, 4, 3), np.uint8))
    with limits.max_tensor_bytes(16 << 20), peak_bytes_below(8 << 20):
        with pytest.raises(errors.ResourceExhaustedError, match="OOM when allocating"):
            png.decode(data)
