"""LevelDB-format sorted string tables (SSTables), as used by checkpoint `.index` files.

Layout of a table (all integers little-endian):

    data block 0 | trailer | ... | data block k | trailer | metaindex block | trailer |
    index block | trailer | footer (48 bytes)

A block is a run of prefix-compressed entries

    varint32 shared | varint32 non_shared | varint32 value_length | key[shared:] | value

followed by the restart array (uint32 offsets of entries stored with shared == 0) and the number
of restarts (uint32). Each block's trailer is a compression-type byte (0 = none) and the masked
CRC-32C of the block and that byte. The index block maps a separator key (>= every key of a data
block and < every key of the next) to the block's handle (varint64 offset, varint64 size). The
footer holds the metaindex and index handles, zero-padded to 40 bytes, then the magic number.

Readers check every length and offset against what is there and raise DataLossError naming the
file, so a truncated or corrupted table never yields garbage.
"""
import bisect
import struct

from tensorflux.framework import errors
from tensorflux.lib.io.tf_record import crc32c, masked_crc32c
from tensorflux.platform import gfile

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
DEFAULT_BLOCK_SIZE = 262144  # what TensorFlow's checkpoint writer uses
DEFAULT_RESTART_INTERVAL = 16
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_NO_COMPRESSION = 0


# ---- varints ------------------------------------------------------------------------------------
def put_varint(value):
    """The base-128 varint encoding of a non-negative int, as bytes."""
    if value < 0:
        raise ValueError(f"varint requires a non-negative value, got {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def get_varint(data, pos, limit=None, max_bytes=10):
    """Decodes a varint at `pos`; returns (value, new_pos), or raises ValueError when malformed."""
    limit = len(data) if limit is None else limit
    result = shift = 0
    for i in range(max_bytes):
        if pos >= limit:
            raise ValueError("varint runs past the end of its buffer")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise ValueError(f"varint longer than {max_bytes} bytes")


def encode_block_handle(offset, size):
    return put_varint(offset) + put_varint(size)


def decode_block_handle(data, pos=0):
    offset, pos = get_varint(data, pos)
    size, pos = get_varint(data, pos)
    return offset, size, pos


# ---- separators (the bytewise comparator's key shortening) --------------------------------------
def shortest_separator(start, limit):
    """A short key k with start <= k < limit (LevelDB's bytewise FindShortestSeparator)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i >= n:
        return start  # one is a prefix of the other
    byte = start[i]
    if byte < 0xFF and byte + 1 < limit[i]:
        return start[:i] + bytes([byte + 1])
    return start


def short_successor(key):
    """A short key k >= key (LevelDB's bytewise FindShortSuccessor)."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


# ---- writing ------------------------------------------------------------------------------------
class BlockBuilder:
    """Accumulates sorted entries into one block with prefix compression and restart points."""

    def __init__(self, restart_interval=DEFAULT_RESTART_INTERVAL):
        self.restart_interval = restart_interval
        self.reset()

    def reset(self):
        self._buf = bytearray()
        self._restarts = [0]
        self._counter = 0
        self._last_key = b""

    @property
    def empty(self):
        return not self._buf

    def add(self, key, value):
        shared = 0
        if self._counter < self.restart_interval:
            limit = min(len(self._last_key), len(key))
            while shared < limit and self._last_key[shared] == key[shared]:
                shared += 1
        else:
            self._restarts.append(len(self._buf))
            self._counter = 0
        self._buf += put_varint(shared) + put_varint(len(key) - shared) + put_varint(len(value))
        self._buf += key[shared:]
        self._buf += value
        self._last_key = key
        self._counter += 1

    def estimated_size(self):
        return len(self._buf) + 4 * len(self._restarts) + 4

    def finish(self):
        restarts = b"".join(_U32.pack(r) for r in self._restarts)
        return bytes(self._buf) + restarts + _U32.pack(len(self._restarts))


class TableBuilder:
    """Writes a table to a binary file object: call `add` with strictly increasing keys, then
    `finish`. Keys and values are bytes."""

    def __init__(self, file, block_size=DEFAULT_BLOCK_SIZE,
                 restart_interval=DEFAULT_RESTART_INTERVAL):
        self._file = file
        self._block_size = block_size
        self._data = BlockBuilder(restart_interval)
        self._index = BlockBuilder(1)
        self._offset = 0
        self._last_key = None
        self._pending_handle = None  # handle of the last flushed data block, not yet indexed
        self._num_entries = 0

    def add(self, key, value):
        key, value = bytes(key), bytes(value)
        if self._last_key is not None and key <= self._last_key:
            raise ValueError(f"Table keys must be added in strictly increasing order: "
                             f"{key!r} after {self._last_key!r}")
        if self._pending_handle is not None:
            self._index.add(shortest_separator(self._last_key, key), self._pending_handle)
            self._pending_handle = None
        self._data.add(key, value)
        self._last_key = key
        self._num_entries += 1
        if self._data.estimated_size() >= self._block_size:
            self._flush()

    @property
    def num_entries(self):
        return self._num_entries

    def _flush(self):
        if self._data.empty:
            return
        self._pending_handle = self._write_block(self._data.finish())
        self._data.reset()

    def _write_block(self, contents):
        trailer = bytes([_NO_COMPRESSION])
        crc = masked_crc32c(contents + trailer)
        self._file.write(contents + trailer + _U32.pack(crc))
        handle = encode_block_handle(self._offset, len(contents))
        self._offset += len(contents) + BLOCK_TRAILER_SIZE
        return handle

    def finish(self):
        """Writes the remaining data block, the metaindex and index blocks and the footer."""
        self._flush()
        metaindex_handle = self._write_block(BlockBuilder().finish())
        if self._pending_handle is not None:
            self._index.add(short_successor(self._last_key), self._pending_handle)
            self._pending_handle = None
        index_handle = self._write_block(self._index.finish())
        footer = (metaindex_handle + index_handle).ljust(FOOTER_SIZE - 8, b"\0")
        self._file.write(footer + _U64.pack(MAGIC))
        self._offset += FOOTER_SIZE
        return self._offset


def build_table(items, **options):
    """The bytes of a table holding `items` (an iterable of sorted (key, value) pairs)."""
    import io
    buf = io.BytesIO()
    builder = TableBuilder(buf, **options)
    for key, value in items:
        builder.add(key, value)
    builder.finish()
    return buf.getvalue()


# ---- reading ------------------------------------------------------------------------------------
class _Block:
    """A verified block's decoded entries: sorted lists of keys and values."""

    def __init__(self, keys, values):
        self.keys = keys
        self.values = values


def _parse_block(data, where):
    """Decodes every entry of a block (its contents without the trailer)."""
    if len(data) < 4:
        raise ValueError(f"{where} is {len(data)} bytes, too short for its restart count")
    num_restarts = _U32.unpack_from(data, len(data) - 4)[0]
    if num_restarts * 4 + 4 > len(data):
        raise ValueError(f"{where} claims {num_restarts} restart points but is only "
                         f"{len(data)} bytes")
    limit = len(data) - 4 - 4 * num_restarts
    keys, values, pos, last = [], [], 0, b""
    while pos < limit:
        shared, pos = get_varint(data, pos, limit, 5)
        non_shared, pos = get_varint(data, pos, limit, 5)
        value_len, pos = get_varint(data, pos, limit, 5)
        if shared > len(last):
            raise ValueError(f"{where}: entry {len(keys)} shares {shared} bytes with a "
                             f"{len(last)}-byte previous key")
        if pos + non_shared + value_len > limit:
            raise ValueError(f"{where}: entry {len(keys)} runs past the end of the block")
        key = last[:shared] + bytes(data[pos:pos + non_shared])
        pos += non_shared
        if keys and key <= last:
            raise ValueError(f"{where}: keys out of order ({key!r} after {last!r})")
        keys.append(key)
        values.append(bytes(data[pos:pos + value_len]))
        pos += value_len
        last = key
    return _Block(keys, values)


class Table:
    """A read-only table over the bytes of a whole `.index` file.

    `items()` iterates (key, value) in key order; `get(key)` returns the value or None.
    Corruption raises errors.DataLossError naming `filename`.
    """

    def __init__(self, data, filename="<table>"):
        self._data = memoryview(bytes(data))
        self.filename = filename
        self._blocks = {}
        try:
            self._read_footer()
        except ValueError as e:
            raise self._loss(str(e)) from None

    def _loss(self, what):
        return errors.DataLossError(None, None, f"Corrupted table {self.filename}: {what}")

    def _read_footer(self):
        size = len(self._data)
        if size < FOOTER_SIZE:
            raise ValueError(f"file is {size} bytes, shorter than the {FOOTER_SIZE}-byte footer "
                             "(truncated?)")
        footer = self._data[size - FOOTER_SIZE:]
        if _U64.unpack_from(footer, FOOTER_SIZE - 8)[0] != MAGIC:
            raise ValueError("bad magic number in footer (not an SSTable, or truncated)")
        _, _, pos = decode_block_handle(footer)  # the metaindex block is not needed
        offset, length, pos = decode_block_handle(footer, pos)
        # The footer has no checksum. Writers put the index block right before it and pad the
        # handles with zeros: checking both catches a footer that shifted or changed, which
        # could otherwise point at another valid block (the metaindex) and read as empty.
        if any(footer[pos:FOOTER_SIZE - 8]):
            raise ValueError("footer padding is not zero (corrupted footer)")
        if offset + length + BLOCK_TRAILER_SIZE != size - FOOTER_SIZE:
            raise ValueError(f"the index block ({offset}, {length}) does not end where the "
                             f"footer starts, at byte {size - FOOTER_SIZE}")
        index = self._read_block(offset, length, "index block")
        self._index_keys = index.keys
        self._handles = []
        for i, value in enumerate(index.values):
            block_offset, block_size, end = decode_block_handle(value)
            if end != len(value):
                raise ValueError(f"index entry {i} has {len(value) - end} trailing bytes")
            self._handles.append((block_offset, block_size))

    def _read_block(self, offset, length, what):
        end = offset + length + BLOCK_TRAILER_SIZE
        if end > len(self._data) - FOOTER_SIZE:
            raise ValueError(f"{what} at offset {offset} of size {length} runs past the end "
                             f"of the {len(self._data)}-byte file")
        contents = self._data[offset:offset + length]
        kind = self._data[offset + length]
        stored = _U32.unpack_from(self._data, offset + length + 1)[0]
        actual = crc32c(bytes(self._data[offset:offset + length + 1]))
        if stored != (((actual >> 15) | (actual << 17)) + 0xA282EAD8) & 0xFFFFFFFF:
            raise ValueError(f"checksum mismatch in {what} at offset {offset}")
        if kind != _NO_COMPRESSION:
            raise ValueError(f"{what} at offset {offset} has compression type {kind}; only "
                             "uncompressed (0) tables are supported")
        return _parse_block(contents, f"{what} at offset {offset}")

    def _block(self, i):
        block = self._blocks.get(i)
        if block is None:
            offset, length = self._handles[i]
            try:
                block = self._read_block(offset, length, f"data block {i}")
            except ValueError as e:
                raise self._loss(str(e)) from None
            if block.keys and block.keys[-1] > self._index_keys[i]:
                raise self._loss(f"data block {i} holds keys past its index separator")
            self._blocks[i] = block
        return block

    def items(self):
        """(key, value) pairs in key order."""
        last = None
        for i in range(len(self._handles)):
            block = self._block(i)
            for key, value in zip(block.keys, block.values):
                if last is not None and key <= last:
                    raise self._loss(f"keys out of order across blocks ({key!r} after {last!r})")
                last = key
                yield key, value

    def keys(self):
        return [k for k, _ in self.items()]

    def get(self, key):
        """The value stored under `key` (bytes), or None."""
        key = bytes(key)
        i = bisect.bisect_left(self._index_keys, key)
        if i >= len(self._handles):
            return None
        block = self._block(i)
        j = bisect.bisect_left(block.keys, key)
        if j < len(block.keys) and block.keys[j] == key:
            return block.values[j]
        return None

    def __contains__(self, key):
        return self.get(key) is not None


def open_table(filename):
    """Reads the table in `filename`; NotFoundError if absent, DataLossError if corrupt."""
    if gfile.is_url(filename):
        with gfile.GFile(filename, "rb") as f:
            return Table(f.read(), filename)
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{filename}; No such file or directory") from None
    return Table(data, filename)
