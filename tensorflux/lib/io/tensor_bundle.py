"""Tensor bundles: TensorFlow's V2 checkpoint format (`prefix.index` + `prefix.data-*-of-*`).

The `.index` file is an SSTable (tensorflux.lib.io.table). Key `b""` holds a BundleHeaderProto;
every other key is a tensor name whose value is a BundleEntryProto:

    BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2 (LITTLE = 0);
                        VersionDef version = 3; }
    BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
                        int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
                        repeated TensorSliceProto slices = 7; }
    TensorSliceProto  { repeated Extent extent = 1; }  Extent { int64 start = 1; int64 length = 2; }

Neither message ships in tensorboard's protos, so this module encodes them by hand (fields in
number order, defaults omitted: the bytes TensorFlow writes). `.data` shards hold tensors' raw
little-endian bytes back to back; a string tensor is its varint64 lengths, the masked CRC-32C of
those lengths (each as a little-endian uint32), then the bytes. The entry's crc32c is the masked
CRC-32C of everything stored for the tensor (for strings: the uint32 lengths, the length checksum
and the bytes).

A tensor saved in slices (a partitioned variable) has an entry under its full name listing the
slices, and one entry per slice under a key built with TensorFlow's OrderedCode.
"""
import os
import struct
import sys

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.lib.io import table
from tensorflux.lib.io.table import get_varint, put_varint
from tensorflux.lib.io.tf_record import crc32c, masked_crc32c
from tensorflux.platform import gfile

_U32 = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8
HEADER_KEY = b""
FORMAT_VERSION = 1  # VersionDef.producer TensorFlow writes for bundles
# Test hook: "data" or "index" makes a writer os._exit(17) right after that file is in place,
# simulating a crash in the middle of a save.
CRASH_ENV = "TENSORFLUX_BUNDLE_CRASH_AFTER"


def _mask(crc):
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# ---- file names ---------------------------------------------------------------------------------
def data_filename(prefix, shard, num_shards):
    """`prefix.data-0000s-of-0000n`."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def index_filename(prefix):
    return f"{prefix}.index"


# ---- protobuf wire format, just what the two messages need --------------------------------------
def _key(field, wire_type):
    return put_varint(field << 3 | wire_type)


def _int_field(field, value):
    if not value:
        return b""
    return _key(field, 0) + put_varint(value & 0xFFFFFFFFFFFFFFFF)


def _bytes_field(field, payload):
    return _key(field, 2) + put_varint(len(payload)) + payload


def _parse_fields(data):
    """Yields (field, wire_type, value) for each field of a message; ValueError when malformed."""
    pos = 0
    while pos < len(data):
        key, pos = get_varint(data, pos)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise ValueError("field number 0")
        if wire_type == 0:
            value, pos = get_varint(data, pos)
        elif wire_type == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire_type == 2:
            n, pos = get_varint(data, pos)
            value, pos = data[pos:pos + n], pos + n
        elif wire_type == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if pos > len(data):
            raise ValueError("field runs past the end of the message")
        yield field, wire_type, value


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _expect(wire_type, want, name):
    if wire_type != want:
        raise ValueError(f"field {name} has wire type {wire_type}, expected {want}")


class BundleHeader:
    """BundleHeaderProto: number of shards, endianness (0 = little) and format version."""

    def __init__(self, num_shards=1, endianness=0, producer=FORMAT_VERSION, min_consumer=0):
        self.num_shards = num_shards
        self.endianness = endianness
        self.producer = producer
        self.min_consumer = min_consumer

    def serialize(self):
        version = _int_field(1, self.producer) + _int_field(2, self.min_consumer)
        return (_int_field(1, self.num_shards) + _int_field(2, self.endianness)
                + _bytes_field(3, version))

    @classmethod
    def parse(cls, data):
        header = cls(num_shards=0, producer=0)
        for field, wire_type, value in _parse_fields(data):
            if field in (1, 2):
                _expect(wire_type, 0, "num_shards/endianness")
                setattr(header, "num_shards" if field == 1 else "endianness", _signed64(value))
            elif field == 3:
                _expect(wire_type, 2, "version")
                for f, w, v in _parse_fields(value):
                    if f in (1, 2) and w == 0:
                        setattr(header, "producer" if f == 1 else "min_consumer", _signed64(v))
        return header


class TensorSlice:
    """A slice of a tensor: per dimension (start, length), length -1 meaning the whole extent."""

    def __init__(self, extents):
        self.extents = [(int(s), int(n)) for s, n in extents]

    @classmethod
    def full(cls, rank):
        return cls([(0, -1)] * rank)

    @classmethod
    def parse_spec(cls, text):
        """From `start,length:start,length` with `-` for a whole dimension."""
        extents = []
        for part in text.split(":") if text else []:
            if part == "-":
                extents.append((0, -1))
            else:
                start, _, length = part.partition(",")
                extents.append((int(start), int(length)))
        return cls(extents)

    def resolved(self, full_shape):
        """(start, length) per dimension with whole extents filled in from `full_shape`."""
        if len(self.extents) != len(full_shape):
            raise ValueError(f"slice of rank {len(self.extents)} for a tensor of shape "
                             f"{list(full_shape)}")
        out = []
        for (start, length), dim in zip(self.extents, full_shape):
            if length < 0:
                start, length = 0, dim
            if start < 0 or start + length > dim:
                raise ValueError(f"slice extent ({start}, {length}) outside a dimension of {dim}")
            out.append((start, length))
        return out

    def serialize(self):
        out = b""
        for start, length in self.extents:
            body = _int_field(1, start) + (_int_field(2, length) if length >= 0 else b"")
            out += _bytes_field(1, body)
        return out

    @classmethod
    def parse(cls, data):
        extents = []
        for field, wire_type, value in _parse_fields(data):
            if field != 1:
                continue
            _expect(wire_type, 2, "extent")
            start, length = 0, -1
            for f, w, v in _parse_fields(value):
                _expect(w, 0, "extent start/length")
                if f == 1:
                    start = _signed64(v)
                elif f == 2:
                    length = _signed64(v)
            extents.append((start, length))
        return cls(extents)

    def __eq__(self, other):
        return isinstance(other, TensorSlice) and self.extents == other.extents

    def __repr__(self):
        return ":".join("-" if n < 0 else f"{s},{n}" for s, n in self.extents)


class BundleEntry:
    """BundleEntryProto: where one tensor's bytes are and how to check them."""

    def __init__(self, dtype=0, shape=(), shard_id=0, offset=0, size=0, crc32c=0, slices=()):
        self.dtype = dtype
        self.shape = list(shape)
        self.shard_id = shard_id
        self.offset = offset
        self.size = size
        self.crc32c = crc32c
        self.slices = list(slices)

    def serialize(self):
        shape = protos.TensorShapeProto(dim=[protos.TensorShapeProto.Dim(size=d)
                                             for d in self.shape])
        out = _int_field(1, self.dtype) + _bytes_field(2, shape.SerializeToString())
        out += _int_field(3, self.shard_id) + _int_field(4, self.offset)
        out += _int_field(5, self.size)
        if self.crc32c:
            out += _key(6, 5) + _U32.pack(self.crc32c)
        for s in self.slices:
            out += _bytes_field(7, s.serialize())
        return out

    @classmethod
    def parse(cls, data):
        entry = cls()
        for field, wire_type, value in _parse_fields(data):
            if field == 2:
                _expect(wire_type, 2, "shape")
                entry.shape = _parse_shape(value)
            elif field == 6:
                _expect(wire_type, 5, "crc32c")
                entry.crc32c = _U32.unpack(value)[0]
            elif field == 7:
                _expect(wire_type, 2, "slices")
                entry.slices.append(TensorSlice.parse(value))
            elif field in (1, 3, 4, 5):
                _expect(wire_type, 0, "dtype/shard_id/offset/size")
                name = {1: "dtype", 3: "shard_id", 4: "offset", 5: "size"}[field]
                setattr(entry, name, _signed64(value))
        return entry


def _parse_shape(data):
    try:
        proto = protos.TensorShapeProto.FromString(bytes(data))
    except Exception as e:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise ValueError(f"bad TensorShapeProto: {e}") from None
    if proto.unknown_rank:
        raise ValueError("stored shape has unknown rank")
    dims = [d.size for d in proto.dim]
    if any(d < 0 for d in dims):
        raise ValueError(f"stored shape {dims} has a negative dimension")
    return dims


# ---- slice keys (TensorFlow's OrderedCode) ------------------------------------------------------
def _ordered_uint(value):
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(body)]) + body


def _ordered_signed(value):
    magnitude = ~value if value < 0 else value
    length = 1
    while magnitude >= 1 << (7 * length - 1) and length < 10:
        length += 1
    # `length` bytes of two's complement, with the top `length` bits replaced by a header of
    # ones (then a zero) for positives, inverted for negatives.
    raw = (value & ((1 << (8 * length)) - 1))
    header_bits = ((1 << length) - 1) << (7 * length)
    encoded = raw ^ header_bits
    return encoded.to_bytes(length, "big")


def _escape_name(name):
    out = bytearray()
    for byte in name:
        if byte == 0:
            out += b"\x00\xff"
        elif byte == 0xFF:
            out += b"\xff\x00"
        else:
            out.append(byte)
    return bytes(out) + b"\x00\x01"


def slice_key(name, extents):
    """The index key of one saved slice of tensor `name`: (start, length) per dimension as
    the slice was given (length -1 for a whole dimension)."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    key = _ordered_uint(0) + _escape_name(name) + _ordered_uint(len(extents))
    for start, length in extents:
        key += _ordered_signed(start) + _ordered_signed(length)
    return key


# ---- tensor bytes -------------------------------------------------------------------------------
def _numpy_dtype(dtype_enum):
    dtype = dtypes.as_dtype(dtype_enum)
    if dtype == dtypes.string:
        return None
    return np.dtype(dtype.as_numpy_dtype)


def _little_endian(array):
    return array.byteswap() if sys.byteorder == "big" and array.dtype.itemsize > 1 else array


def encode_tensor(array, dtype):
    """(bytes, masked crc32c) of `array` as stored in a data shard."""
    if dtype == dtypes.string:
        return _encode_strings(array)
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype.as_numpy_dtype))
    raw = _little_endian(data).tobytes()
    return raw, masked_crc32c(raw)


def _as_bytes(item):
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return bytes(item)


def _encode_strings(array):
    items = [_as_bytes(x) for x in np.asarray(array, dtype=object).reshape(-1)]
    lengths = b"".join(put_varint(len(x)) for x in items)
    length_words = b"".join(_U32.pack(len(x) & 0xFFFFFFFF) for x in items)
    length_crc = _U32.pack(masked_crc32c(length_words))
    body = b"".join(items)
    crc = crc32c(length_words + length_crc + body)
    return lengths + length_crc + body, _mask(crc)


def decode_tensor(raw, entry, what):
    """The array stored in `raw` for `entry`; ValueError (naming `what`) if it does not fit."""
    count = 1
    for d in entry.shape:
        count *= d
    np_dtype = _numpy_dtype(entry.dtype)
    if np_dtype is None:
        return _decode_strings(raw, count, entry.shape, entry.crc32c, what)
    if count * np_dtype.itemsize != len(raw):
        raise ValueError(f"{what}: shape {entry.shape} of {dtypes.as_dtype(entry.dtype).name} "
                         f"needs {count * np_dtype.itemsize} bytes, entry has {len(raw)}")
    if _mask(crc32c(raw)) != entry.crc32c:
        raise ValueError(f"{what}: checksum mismatch in the tensor's data")
    return _little_endian(np.frombuffer(raw, dtype=np_dtype).reshape(entry.shape)).copy()


def _decode_strings(raw, count, shape, crc, what):
    if count > len(raw):
        raise ValueError(f"{what}: {count} strings cannot fit in {len(raw)} bytes")
    lengths, pos = [], 0
    for _ in range(count):
        n, pos = get_varint(raw, pos)
        lengths.append(n)
    words = b"".join(_U32.pack(n & 0xFFFFFFFF) for n in lengths)
    if pos + 4 + sum(lengths) != len(raw):
        raise ValueError(f"{what}: string lengths add up to {pos + 4 + sum(lengths)} bytes, "
                         f"entry has {len(raw)}")
    if _U32.unpack_from(raw, pos)[0] != masked_crc32c(words):
        raise ValueError(f"{what}: checksum mismatch in the string lengths")
    body = bytes(raw[pos + 4:])
    if _mask(crc32c(words + bytes(raw[pos:]))) != crc:
        raise ValueError(f"{what}: checksum mismatch in the tensor's data")
    out, start = np.empty(count, dtype=object), 0
    for i, n in enumerate(lengths):
        out[i] = body[start:start + n]
        start += n
    return out.reshape(shape)


# ---- atomic files -------------------------------------------------------------------------------
# Every file goes through gfile.GFile in "wb" mode: a temp file in the same directory, fsync and
# rename on close, discarded on error, so a reader never sees a half-written file.
def _crash_point(stage):
    if os.environ.get(CRASH_ENV) == stage:
        os._exit(17)


def write_atomically(path, data):
    """Writes `data` (bytes) to `path` via a temp file, fsync and rename."""
    with gfile.GFile(path, "wb") as f:
        f.write(data)


def _write_index(path, header, entries):
    with gfile.GFile(path, "wb") as f:
        builder = table.TableBuilder(f)
        builder.add(HEADER_KEY, header.serialize())
        for key in sorted(entries):
            builder.add(key, entries[key].serialize())
        builder.finish()


def _remove_quietly(path):
    try:
        gfile.Remove(path)
    except (OSError, errors.OpError):
        pass


def _name_bytes(name):
    return name.encode("utf-8") if isinstance(name, str) else bytes(name)


# ---- writing ------------------------------------------------------------------------------------
class BundleWriter:
    """Writes one bundle: `prefix.data-00000-of-00001` and `prefix.index`.

    Tensors are appended to a temporary data file as they are added; `finish()` commits the data
    file, then the index (each via fsync + rename), so readers never see a half-written file.
    """

    def __init__(self, prefix):
        self.prefix = str(prefix)
        directory = os.path.dirname(self.prefix)
        if directory:
            gfile.MakeDirs(directory)
        self._data_path = data_filename(self.prefix, 0, 1)
        self._file = gfile.GFile(self._data_path, "wb")
        self._entries = {}
        self._offset = 0

    def _append(self, key, array, dtype):
        raw, crc = encode_tensor(array, dtype)
        self._file.write(raw)
        entry = BundleEntry(dtype.as_datatype_enum, np.shape(array), 0, self._offset, len(raw),
                            crc)
        self._offset += len(raw)
        self._entries[key] = entry
        return entry

    def add(self, name, array, dtype=None):
        """Adds tensor `name` (str) with value `array` (dtype: a DType; inferred if None)."""
        key = _name_bytes(name)
        if key in self._entries or not key:
            raise errors.InvalidArgumentError(
                None, None, f"Adding duplicate or empty key {name!r} to checkpoint {self.prefix}")
        dtype = _bundle_dtype(array, dtype)
        self._append(key, np.asarray(array, dtype=object if dtype == dtypes.string else None),
                     dtype)

    def add_slice(self, full_name, full_shape, tensor_slice, array, dtype=None):
        """Adds `array` as slice `tensor_slice` of tensor `full_name` of shape `full_shape`."""
        key = _name_bytes(full_name)
        dtype = _bundle_dtype(array, dtype)
        full_shape = [int(d) for d in full_shape]
        extents = tensor_slice.resolved(full_shape)
        if [n for _, n in extents] != list(np.shape(array)):
            raise errors.InvalidArgumentError(
                None, None, f"Slice {tensor_slice} of {full_name} {full_shape} has shape "
                            f"{[n for _, n in extents]}, got a value of shape "
                            f"{list(np.shape(array))}")
        full = self._entries.get(key)
        if full is None:
            full = self._entries[key] = BundleEntry(dtype.as_datatype_enum, full_shape)
        elif not full.slices or full.dtype != dtype.as_datatype_enum or full.shape != full_shape:
            raise errors.InvalidArgumentError(
                None, None, f"Slice of {full_name} conflicts with an earlier entry for it")
        full.slices.append(tensor_slice)
        self._append(slice_key(key, tensor_slice.extents), np.asarray(array), dtype)

    def finish(self):
        """Commits the data file and then the index; returns the prefix."""
        self._file.close()  # commits the data file (discarded on failure)
        _crash_point("data")
        _write_index(index_filename(self.prefix), BundleHeader(num_shards=1), self._entries)
        _crash_point("index")
        return self.prefix

    def abort(self):
        """Drops the temporary data file."""
        self._file.discard()


def _bundle_dtype(array, dtype):
    if dtype is not None:
        return dtypes.as_dtype(dtype).base_dtype
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind in "SU":
        return dtypes.string
    return dtypes.as_dtype(array.dtype)


def merge_bundles(prefixes, destination, delete_old_dirs=True, allow_missing_files=False):
    """Merges single-shard bundles `prefixes` into one bundle of len(prefixes) shards."""
    prefixes = [str(p) for p in prefixes]
    present = [p for p in prefixes if gfile.Exists(index_filename(p))]
    if len(present) != len(prefixes) and not allow_missing_files:
        missing = sorted(set(prefixes) - set(present))
        raise errors.NotFoundError(None, None, f"MergeV2Checkpoints: missing checkpoint "
                                               f"{index_filename(missing[0])}")
    if not present:
        raise errors.InvalidArgumentError(None, None, "MergeV2Checkpoints: nothing to merge")
    entries = {}
    for shard, prefix in enumerate(present):
        _merge_shard_entries(entries, BundleReader(prefix), shard)
    for shard, prefix in enumerate(present):
        gfile.Rename(data_filename(prefix, 0, 1), data_filename(destination, shard, len(present)),
                     overwrite=True)
    _crash_point("merge_data")
    _write_index(index_filename(destination), BundleHeader(num_shards=len(present)), entries)
    for prefix in present:
        if _abspath(prefix) != _abspath(destination):
            _remove_quietly(index_filename(prefix))
        _remove_old_dir(prefix, destination, delete_old_dirs)
    return destination


def _merge_shard_entries(entries, reader, shard):
    for key, entry in reader.raw_entries().items():
        entry.shard_id = shard
        earlier = entries.get(key)
        if earlier is None:
            entries[key] = entry
        elif earlier.slices and entry.slices and earlier.shape == entry.shape:
            earlier.slices.extend(entry.slices)
        else:
            raise errors.InvalidArgumentError(
                None, None, f"MergeV2Checkpoints: tensor {key.decode(errors='replace')!r} "
                            "is in two shards")


def _abspath(path):
    return path if gfile.is_url(path) else os.path.abspath(path)


def _remove_old_dir(prefix, destination, delete_old_dirs):
    directory = os.path.dirname(_abspath(prefix))
    if delete_old_dirs and directory != os.path.dirname(_abspath(destination)):
        try:
            if gfile.is_url(directory):
                if not gfile.ListDirectory(directory):
                    gfile.DeleteRecursively(directory)
            else:
                os.rmdir(directory)
        except (OSError, errors.OpError):
            pass


# ---- reading ------------------------------------------------------------------------------------
_MAX_SHARDS = 1 << 16


class BundleReader:
    """Reads a bundle. Every failure to make sense of the files raises DataLossError naming the
    file and the tensor; a missing bundle raises NotFoundError."""

    def __init__(self, prefix):
        self.prefix = str(prefix)
        self._index_path = index_filename(self.prefix)
        if not gfile.Exists(self._index_path) or gfile.IsDirectory(self._index_path):
            raise errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                            f"matching files for {self.prefix} (no {self._index_path})")
        self._table = table.open_table(self._index_path)
        self.header = self._read_header()
        self._entries = self._read_entries()
        self._shard_sizes = {}

    def _loss(self, message, name=None):
        what = f"tensor {name!r} in " if name is not None else ""
        return errors.DataLossError(None, None, f"Corrupted checkpoint: {what}{self._index_path}:"
                                                f" {message}")

    def _read_header(self):
        value = self._table.get(HEADER_KEY)
        if value is None:
            raise self._loss("no header entry (not a tensor bundle?)")
        try:
            header = BundleHeader.parse(value)
        except ValueError as e:
            raise self._loss(f"bad header: {e}") from None
        if not 1 <= header.num_shards <= _MAX_SHARDS:
            raise self._loss(f"header claims {header.num_shards} shards")
        if header.endianness != 0:
            raise errors.UnimplementedError(None, None, f"{self._index_path}: big-endian "
                                                        "checkpoints are not supported")
        if header.min_consumer > FORMAT_VERSION:
            raise self._loss(f"written for readers of version >= {header.min_consumer}; this "
                             f"reader is version {FORMAT_VERSION}")
        return header

    def _read_entries(self):
        entries = {}
        for key, value in self._table.items():
            if key == HEADER_KEY:
                continue
            name = key.decode("utf-8", errors="backslashreplace")
            try:
                entry = BundleEntry.parse(value)
                self._check_entry(entry)
            except ValueError as e:
                raise self._loss(str(e), name) from None
            entries[key] = entry
        return entries

    def _check_entry(self, entry):
        try:
            dtype = dtypes.as_dtype(entry.dtype)
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"unknown dtype enum {entry.dtype}") from None
        if dtype._is_ref_dtype or dtype in (dtypes.resource, dtypes.variant):
            raise ValueError(f"cannot hold tensors of dtype {dtype.name}")
        if not 0 <= entry.shard_id < self.header.num_shards:
            raise ValueError(f"shard {entry.shard_id} of {self.header.num_shards}")
        if entry.offset < 0 or entry.size < 0:
            raise ValueError(f"negative offset {entry.offset} or size {entry.size}")
        if len(entry.shape) > 254:
            raise ValueError(f"rank {len(entry.shape)} too large")

    # ---- metadata -------------------------------------------------------------------------------
    def raw_entries(self):
        """Every entry (slice entries included), keyed by index key bytes."""
        return dict(self._entries)

    def tensor_names(self):
        """The names of the stored tensors (slices of partitioned tensors not listed)."""
        return sorted(k.decode("utf-8", errors="backslashreplace")
                      for k in self._entries if not k.startswith(b"\0"))

    def entry(self, name):
        entry = self._entries.get(_name_bytes(name))
        if entry is None or _name_bytes(name).startswith(b"\0"):
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        return entry

    def has_tensor(self, name):
        key = _name_bytes(name)
        return key in self._entries and not key.startswith(b"\0")

    def dtype(self, name):
        return dtypes.as_dtype(self.entry(name).dtype)

    def shape(self, name):
        return list(self.entry(name).shape)

    # ---- data -----------------------------------------------------------------------------------
    def _shard_size(self, path):
        size = self._shard_sizes.get(path)
        if size is None:
            try:
                size = self._shard_sizes[path] = gfile.Stat(path).length
            except (OSError, errors.NotFoundError):
                raise errors.DataLossError(
                    None, None, f"Corrupted checkpoint {self.prefix}: data file {path} is "
                                "missing") from None
        return size

    def _read_entry(self, entry, name):
        path = data_filename(self.prefix, entry.shard_id, self.header.num_shards)
        size = self._shard_size(path)
        if entry.offset + entry.size > size:
            raise errors.DataLossError(
                None, None, f"Corrupted checkpoint: tensor {name!r} needs bytes "
                            f"[{entry.offset}, {entry.offset + entry.size}) of {path}, which "
                            f"has {size} bytes (truncated?)")
        with (gfile.GFile(path, "rb") if gfile.is_url(path) else open(path, "rb")) as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        if len(raw) != entry.size:
            raise errors.DataLossError(None, None, f"Corrupted checkpoint: short read of tensor "
                                                   f"{name!r} from {path}")
        try:
            return decode_tensor(raw, entry, f"tensor {name!r} in {path}")
        except ValueError as e:
            raise errors.DataLossError(None, None, f"Corrupted checkpoint: {e}") from None

    def lookup(self, name):
        """The full value of tensor `name` as a NumPy array (assembled if saved in slices)."""
        entry = self.entry(name)
        if not entry.slices:
            return self._read_entry(entry, name)
        return self._assemble(name, entry)

    def _assemble(self, name, entry):
        parts, count = [], 0
        for tensor_slice in entry.slices:
            try:
                extents = tensor_slice.resolved(entry.shape)
            except ValueError as e:
                raise self._loss(f"slice {tensor_slice}: {e}", name) from None
            key = slice_key(_name_bytes(name), tensor_slice.extents)
            part_entry = self._entries.get(key)
            if part_entry is None:
                raise self._loss(f"slice {tensor_slice} is listed but not stored", name)
            if part_entry.shape != [n for _, n in extents] or part_entry.dtype != entry.dtype:
                raise self._loss(f"slice {tensor_slice} is stored with shape "
                                 f"{part_entry.shape}", name)
            parts.append((extents, self._read_entry(part_entry, name)))
            count += int(np.prod([n for _, n in extents], dtype=object))
        full_count = int(np.prod(entry.shape, dtype=object))
        if count != full_count:
            raise self._loss(f"slices hold {count} elements of the {full_count} in shape "
                             f"{entry.shape}", name)
        np_dtype = _numpy_dtype(entry.dtype) or np.dtype(object)
        full = np.empty(entry.shape, dtype=np_dtype)
        for extents, value in parts:
            full[tuple(slice(s, s + n) for s, n in extents)] = value
        return full

    def lookup_slice(self, name, tensor_slice):
        """The part `tensor_slice` (a TensorSlice) of tensor `name`.

        A tensor saved in slices is read slice by slice, only the stored slices that overlap
        the requested one (a shard restored into another partitioning reads its neighbours'
        rows, not the whole table)."""
        entry = self.entry(name)
        try:
            extents = tensor_slice.resolved(entry.shape)
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, f"Requested slice {tensor_slice} of "
                                                          f"{name}: {e}") from None
        if not entry.slices:
            full = self._read_entry(entry, name)
            return full[tuple(slice(s, s + n) for s, n in extents)].copy()
        return self._read_overlapping(name, entry, extents)

    def _read_overlapping(self, name, entry, extents):
        np_dtype = _numpy_dtype(entry.dtype) or np.dtype(object)
        out = np.empty([n for _, n in extents], dtype=np_dtype)
        if not out.size:
            return out
        filled = 0
        for stored in entry.slices:
            try:
                have = stored.resolved(entry.shape)
            except ValueError as e:
                raise self._loss(f"slice {stored}: {e}", name) from None
            overlap = [(max(s, t), min(s + n, t + m)) for (s, n), (t, m) in zip(extents, have)]
            if any(lo >= hi for lo, hi in overlap):
                continue
            part_entry = self._entries.get(slice_key(_name_bytes(name), stored.extents))
            if part_entry is None or part_entry.shape != [m for _, m in have]:
                raise self._loss(f"slice {stored} is listed but not stored with its shape", name)
            value = self._read_entry(part_entry, name)
            source = tuple(slice(lo - t, hi - t) for (lo, hi), (t, _) in zip(overlap, have))
            target = tuple(slice(lo - s, hi - s) for (lo, hi), (s, _) in zip(overlap, extents))
            out[target] = value[source]
            filled += int(np.prod([hi - lo for lo, hi in overlap], dtype=object))
        if filled != out.size:
            raise self._loss(f"the saved slices cover {filled} of the {out.size} elements of "
                             f"the requested slice {TensorSlice(extents)}", name)
        return out
