"""TFRecord framing: golden bytes, round trips, compression, corruption detection."""
import gzip
import io
import struct
import zlib

import pytest
import tf_goldens
from tensorboard.backend.event_processing import event_file_loader

from tensorflux.framework import errors
from tensorflux.lib.io import tf_record


def _reference_crc32c(data):
    """Bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78), independent of the module."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _reference_mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# The record b"hello", framed by hand: length 5 (u64 LE), masked CRC-32C of those 8 bytes,
# the data, masked CRC-32C of the data.
GOLDEN_HELLO = bytes.fromhex("0500000000000000" "eab2043e" "68656c6c6f" "bb1f1c19")


def test_crc32c_check_value():
    assert _reference_crc32c(b"123456789") == 0xE3069283
    assert tf_record.crc32c(b"123456789") == 0xE3069283
    assert tf_record.crc32c(b"") == 0


def test_masked_crc_matches_formula():
    for data in (b"", b"a", b"123456789", bytes(range(256))):
        assert tf_record.masked_crc32c(data) == _reference_mask(_reference_crc32c(data))


def test_golden_record_bytes(tmp_path):
    length = struct.pack("<Q", 5)
    by_hand = (length + struct.pack("<I", _reference_mask(_reference_crc32c(length)))
               + b"hello" + struct.pack("<I", _reference_mask(_reference_crc32c(b"hello"))))
    assert by_hand == GOLDEN_HELLO
    path = tmp_path / "golden.tfrecord"
    with tf_record.TFRecordWriter(str(path)) as writer:
        writer.write(b"hello")
    assert path.read_bytes() == GOLDEN_HELLO
    assert list(tf_record.tf_record_iterator(str(path))) == [b"hello"]


RECORDS = [b"first", b"", b"\x00\xff" * 1000, bytes(range(256)) * 300]


def _write(path, records, options=None):
    with tf_record.TFRecordWriter(str(path), options) as writer:
        for r in records:
            writer.write(r)


def test_writer_reproduces_tensorflows_records_and_reads_them(tmp_path):
    """tests/data/tfrecord/ was written by TensorFlow 2.21's tf.io.TFRecordWriter."""
    records = tf_goldens.make.TFRECORDS
    path = tmp_path / "ours.tfrecord"
    _write(path, records)
    assert path.read_bytes() == tf_goldens.read("tfrecord", "tf_records.tfrecord")
    plain = tf_goldens.path("tfrecord", "tf_records.tfrecord")
    assert list(tf_record.tf_record_iterator(plain)) == records
    gz = tf_goldens.path("tfrecord", "tf_records.tfrecord.gz")
    assert list(tf_record.tf_record_iterator(gz, tf_record.TFRecordOptions("GZIP"))) == records


def test_round_trip_and_tensorboard_reads_it(tmp_path):
    path = tmp_path / "data.tfrecord"
    _write(path, RECORDS)
    assert list(tf_record.tf_record_iterator(str(path))) == RECORDS
    raw = [e for e in event_file_loader.RawEventFileLoader(str(path)).Load()]
    assert raw == RECORDS


@pytest.mark.parametrize("options", ["GZIP", tf_record.TFRecordCompressionType.GZIP,
                                     tf_record.TFRecordOptions("GZIP")])
def test_gzip_round_trip(tmp_path, options):
    path = tmp_path / "data.tfrecord.gz"
    _write(path, RECORDS, options)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(path.read_bytes())[:8] == struct.pack("<Q", len(RECORDS[0]))
    assert list(tf_record.tf_record_iterator(str(path), options)) == RECORDS


def test_zlib_round_trip(tmp_path):
    path = tmp_path / "data.tfrecord.z"
    options = tf_record.TFRecordOptions(tf_record.TFRecordCompressionType.ZLIB)
    _write(path, RECORDS, options)
    plain = zlib.decompress(path.read_bytes())
    assert plain == b"".join(tf_record.encode_record(r) for r in RECORDS)
    assert list(tf_record.tf_record_iterator(str(path), "ZLIB")) == RECORDS


def test_compression_type_strings():
    get = tf_record.TFRecordOptions.get_compression_type_string
    assert get(None) == ""
    assert get(tf_record.TFRecordOptions(tf_record.TFRecordCompressionType.GZIP)) == "GZIP"
    assert get("zlib") == "ZLIB"
    with pytest.raises(ValueError, match="BZIP2"):
        tf_record.TFRecordOptions("BZIP2")


def test_each_record_is_one_write(monkeypatch):
    class Recorder(io.BytesIO):
        writes = []

        def write(self, data):
            Recorder.writes.append(bytes(data))
            return super().write(data)

    monkeypatch.setattr(tf_record, "_open_for_write", lambda path, compression: Recorder())
    writer = tf_record.TFRecordWriter("unused")
    writer.write(b"abc")
    writer.write(b"x" * 100000)
    assert Recorder.writes == [tf_record.encode_record(b"abc"),
                               tf_record.encode_record(b"x" * 100000)]


def test_writer_refuses_non_bytes_and_writes_after_close(tmp_path):
    writer = tf_record.TFRecordWriter(str(tmp_path / "f"))
    with pytest.raises(TypeError, match="str"):
        writer.write("text")
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(errors.NotFoundError, match="nope"):
        list(tf_record.tf_record_iterator(str(tmp_path / "nope")))
    with pytest.raises(errors.NotFoundError, match="Cannot create TFRecord file"):
        tf_record.TFRecordWriter(str(tmp_path / "no_dir" / "f"))


def _records_until_error(path, options=None):
    got = []
    with pytest.raises(errors.DataLossError) as info:
        for r in tf_record.tf_record_iterator(str(path), options):
            got.append(r)
    return got, str(info.value)


def test_bad_data_crc_names_file_and_offset(tmp_path):
    path = tmp_path / "bad.tfrecord"
    _write(path, [b"one", b"two", b"three"])
    data = bytearray(path.read_bytes())
    second = 16 + 3  # the second record starts after the first's 16 + 3 bytes
    data[second + 12] ^= 0x01  # a data byte of "two"
    path.write_bytes(bytes(data))
    got, message = _records_until_error(path)
    assert got == [b"one"]
    assert str(path) in message and f"offset {second}" in message and "CRC" in message


def test_bad_length_crc(tmp_path):
    path = tmp_path / "bad.tfrecord"
    _write(path, [b"one"])
    data = bytearray(path.read_bytes())
    data[0] = 200  # a length that the length CRC does not vouch for
    path.write_bytes(bytes(data))
    got, message = _records_until_error(path)
    assert got == [] and "offset 0" in message and "length" in message


@pytest.mark.parametrize("cut", [1, 11, 12, 14, 18])
def test_truncated_record(tmp_path, cut):
    path = tmp_path / "torn.tfrecord"
    _write(path, [b"one", b"two"])
    data = path.read_bytes()
    path.write_bytes(data[: 19 + cut])  # the second record, cut `cut` bytes in
    got, message = _records_until_error(path)
    assert got == [b"one"]
    assert "Truncated" in message and "offset 19" in message and str(path) in message


def test_clean_end_at_record_boundary(tmp_path):
    path = tmp_path / "short.tfrecord"
    _write(path, [b"one", b"two"])
    path.write_bytes(path.read_bytes()[:19])
    assert list(tf_record.tf_record_iterator(str(path))) == [b"one"]
    path.write_bytes(b"")
    assert list(tf_record.tf_record_iterator(str(path))) == []


def test_corrupt_gzip_stream(tmp_path):
    path = tmp_path / "bad.gz"
    _write(path, [b"one" * 100, b"two" * 100], "GZIP")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.DataLossError, match="bad.gz"):
        list(tf_record.tf_record_iterator(str(path), "GZIP"))
