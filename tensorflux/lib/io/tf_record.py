"""TFRecord files: the framing of event files and `tf.python_io` record datasets.

Each record, little-endian:

    uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)

with CRC-32C (Castagnoli). Files may be GZIP- or ZLIB-compressed as a whole stream; offsets in
error messages then count uncompressed bytes.
"""
import gzip
import struct
import zlib

import google_crc32c

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.platform import gfile

_HEADER = struct.Struct("<QI")  # length, masked crc of the length
_FOOTER = struct.Struct("<I")  # masked crc of the data
_MASK_DELTA = 0xA282EAD8
_READ_CHUNK = 1 << 16


def crc32c(data):
    """The CRC-32C (Castagnoli) of `data`, an int."""
    return google_crc32c.value(bytes(data))


def masked_crc32c(data):
    """TFRecord's masked CRC-32C of `data`: rotate right by 15 bits, add 0xA282EAD8."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data):
    """One framed record (header, data, footer) as bytes."""
    data = bytes(data)
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + _FOOTER.pack(masked_crc32c(data)))


class TFRecordCompressionType:
    """Whole-file compression of a TFRecord file."""
    NONE = 0
    ZLIB = 1
    GZIP = 2


_COMPRESSION_NAMES = {TFRecordCompressionType.NONE: "",
                      TFRecordCompressionType.ZLIB: "ZLIB",
                      TFRecordCompressionType.GZIP: "GZIP"}


class TFRecordOptions:
    """Options for TFRecord reading and writing: the compression type."""

    compression_type_map = {v: k for k, v in _COMPRESSION_NAMES.items()}

    def __init__(self, compression_type=TFRecordCompressionType.NONE):
        """Args: compression_type: a TFRecordCompressionType, or "", "ZLIB", "GZIP", None."""
        self.compression_type = _compression_type(compression_type)

    @classmethod
    def get_compression_type_string(cls, options):
        """"", "ZLIB" or "GZIP" for `options` (a TFRecordOptions, a type, a string or None)."""
        if isinstance(options, TFRecordOptions):
            return _COMPRESSION_NAMES[options.compression_type]
        return _COMPRESSION_NAMES[_compression_type(options)]


def _compression_type(value):
    if value is None or value == "":
        return TFRecordCompressionType.NONE
    if isinstance(value, TFRecordOptions):
        return value.compression_type
    if isinstance(value, str) and value.upper() in TFRecordOptions.compression_type_map:
        return TFRecordOptions.compression_type_map[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and value in _COMPRESSION_NAMES:
        return value
    raise ValueError(f"Unknown TFRecord compression type {value!r}; expected "
                     "TFRecordCompressionType.NONE/ZLIB/GZIP or '', 'ZLIB', 'GZIP'")


# ---- writing ------------------------------------------------------------------------------
class _ZlibWriter:
    """A write-only file object that zlib-compresses into `raw`."""

    def __init__(self, raw):
        self._raw = raw
        self._compressor = zlib.compressobj()

    def write(self, data):
        self._raw.write(self._compressor.compress(data))

    def flush(self):
        self._raw.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._raw.flush()

    def close(self):
        self._raw.write(self._compressor.flush(zlib.Z_FINISH))
        self._raw.close()


class _GzipWriter:
    """gzip.GzipFile does not close the file object it is given; this one does."""

    def __init__(self, raw):
        self._raw = raw
        self._gzip = gzip.GzipFile(fileobj=raw, mode="wb")

    def write(self, data):
        self._gzip.write(data)

    def flush(self):
        self._gzip.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()

    def close(self):
        self._gzip.close()
        self._raw.close()


def _open_for_write(path, compression):
    # On a URL the file appears whole on close (gfile's write-then-commit).
    raw = gfile.GFile(path, "wb") if gfile.is_url(path) else open(path, "wb")
    if compression == TFRecordCompressionType.GZIP:
        return _GzipWriter(raw)
    if compression == TFRecordCompressionType.ZLIB:
        return _ZlibWriter(raw)
    return raw


class TFRecordWriter:
    """Writes records to a TFRecord file; each record goes out in a single write() call, so
    a reader never sees a record torn by buffering.

        with TFRecordWriter("/tmp/data.tfrecord") as writer:
            writer.write(example.SerializeToString())
    """

    def __init__(self, path, options=None):
        """Opens (truncates) `path`.

        Args:
          path: the file to write.
          options: a TFRecordOptions, a TFRecordCompressionType, "GZIP", "ZLIB" or None.

        Raises:
          errors.NotFoundError: if the directory of `path` does not exist.
          errors.PermissionDeniedError: if `path` cannot be written.
        """
        self._path = path
        compression = _compression_type(options)
        try:
            self._file = _open_for_write(path, compression)
        except FileNotFoundError as e:
            raise errors.NotFoundError(None, None, f"Cannot create TFRecord file {path}: "
                                       f"{e.strerror}") from None
        except PermissionError as e:
            raise errors.PermissionDeniedError(None, None, f"Cannot create TFRecord file "
                                               f"{path}: {e.strerror}") from None

    def write(self, record):
        """Appends one record (bytes)."""
        if self._file is None:
            raise ValueError(f"TFRecordWriter for {self._path} is closed; cannot write")
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError(f"A TFRecord must be bytes, got {type(record).__name__}")
        self._file.write(encode_record(record))

    def flush(self):
        """Pushes written records to the operating system."""
        if self._file is not None:
            self._file.flush()

    def close(self):
        """Flushes and closes the file; later calls do nothing."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# ---- reading ------------------------------------------------------------------------------
class _ZlibReader:
    """A read-only file object decompressing a zlib stream from `raw`."""

    def __init__(self, raw):
        self._raw = raw
        self._decompressor = zlib.decompressobj()
        self._buffer = b""

    def read(self, size):
        while len(self._buffer) < size and not self._decompressor.eof:
            chunk = self._decompressor.unconsumed_tail or self._raw.read(_READ_CHUNK)
            if not chunk:
                self._buffer += self._decompressor.flush()
                break
            # no more than asked for: a small chunk may inflate a thousandfold
            self._buffer += self._decompressor.decompress(chunk, size - len(self._buffer))
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self):
        self._raw.close()


def _open_for_read(path, compression):
    try:
        raw = gfile.GFile(path, "rb") if gfile.is_url(path) else open(path, "rb")
    except (FileNotFoundError, errors.NotFoundError):
        raise errors.NotFoundError(None, None, f"TFRecord file {path} not found") from None
    except PermissionError as e:
        raise errors.PermissionDeniedError(None, None, f"Cannot read TFRecord file {path}: "
                                           f"{e.strerror}") from None
    if compression == TFRecordCompressionType.GZIP:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    if compression == TFRecordCompressionType.ZLIB:
        return _ZlibReader(raw), raw
    return raw, raw


class TruncatedRecordError(errors.DataLossError):
    """The file ends inside a record: what a writer killed mid-write leaves behind. TensorFlow
    reports it as DataLossError ("truncated record at ..."), so this is one; readers of files
    that may still be written (summary_iterator) stop there instead."""


def _read_exactly(stream, size, path, offset, what):
    # In pieces, so that a length field that lies (2**63) costs only the bytes really there:
    # asked for at once, read(n) allocates n bytes before it knows the file is shorter.
    pieces, got = [], 0
    try:
        while got < size:
            piece = stream.read(min(size - got, _READ_CHUNK * 16))
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
    except (OSError, EOFError, zlib.error) as e:
        raise errors.DataLossError(None, None, f"Corrupted compressed TFRecord file {path} "
                                   f"reading {what} at offset {offset}: {e}") from None
    data = b"".join(pieces)
    if len(data) != size:
        raise TruncatedRecordError(None, None, f"Truncated record in {path} at offset "
                                   f"{offset}: {what}: needed {size} bytes, the file has "
                                   f"{len(data)} more")
    return data


def _read_record(stream, path, offset):
    """The data of the record at `offset`, or None at a clean end of file."""
    try:
        first = stream.read(1)
    except (OSError, EOFError, zlib.error) as e:
        raise errors.DataLossError(None, None, f"Corrupted compressed TFRecord file {path} "
                                   f"at offset {offset}: {e}") from None
    if not first:
        return None
    header = first + _read_exactly(stream, _HEADER.size - 1, path, offset,
                                   f"the rest of the {_HEADER.size}-byte header")
    length, length_crc = _HEADER.unpack(header)
    if masked_crc32c(header[:8]) != length_crc:
        raise errors.DataLossError(None, None, f"Corrupted record in {path} at offset "
                                   f"{offset}: the CRC of the length field does not match")
    if length > limits.get_max_tensor_bytes():
        raise errors.ResourceExhaustedError(
            None, None, f"Record in {path} at offset {offset} claims {length} bytes, over the "
                        f"per-tensor limit of {limits.get_max_tensor_bytes()} bytes "
                        f"(tensorflux.framework.limits, {limits.ENV_VAR})")
    body = _read_exactly(stream, length + _FOOTER.size, path, offset,
                         f"{length} data bytes plus a {_FOOTER.size}-byte CRC")
    data, (data_crc,) = body[:length], _FOOTER.unpack(body[length:])
    if masked_crc32c(data) != data_crc:
        raise errors.DataLossError(None, None, f"Corrupted record in {path} at offset "
                                   f"{offset}: the CRC of its {length} data bytes does not "
                                   "match")
    return data


def tf_record_iterator(path, options=None):
    """Yields the records (bytes) of a TFRecord file in order.

    Args:
      path: the file to read.
      options: a TFRecordOptions, a TFRecordCompressionType, "GZIP", "ZLIB" or None.

    Raises:
      errors.NotFoundError: if `path` does not exist.
      errors.DataLossError: at a record whose CRC does not match or that is cut short,
        naming the file and the record's byte offset. A file that ends exactly after a
        record just ends the iteration.
    """
    stream, raw = _open_for_read(path, _compression_type(options))
    try:
        offset = 0
        while True:
            data = _read_record(stream, path, offset)
            if data is None:
                return
            offset += _HEADER.size + len(data) + _FOOTER.size
            yield data
    finally:
        stream.close()
        raw.close()
