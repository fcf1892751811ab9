"""The LevelDB-format SSTable writer and reader behind checkpoint `.index` files."""
import struct

import pytest

from tensorflux.framework import errors
from tensorflux.lib.io import table


def _items(n, value_size=10):
    return [(f"key{i:06d}".encode(), bytes([i % 251]) * value_size) for i in range(n)]


def test_round_trip_single_block():
    items = _items(40)
    t = table.Table(table.build_table(items))
    assert list(t.items()) == items
    assert t.get(b"key000017") == items[17][1]
    assert t.get(b"key0000170") is None
    assert t.get(b"") is None
    assert t.get(b"zzz") is None


def test_round_trip_many_blocks_small_block_size():
    items = _items(3000, value_size=37)
    data = table.build_table(items, block_size=1024)
    t = table.Table(data)
    assert len(t._handles) > 50
    assert list(t.items()) == items
    for key, value in items[::97]:
        assert t.get(key) == value
    assert all(t.get(k + b"\x00") is None for k, _ in items[::211])


def test_empty_table_and_empty_key():
    assert list(table.Table(table.build_table([])).items()) == []
    t = table.Table(table.build_table([(b"", b"header"), (b"\xff\xff", b"")]))
    assert t.get(b"") == b"header"
    assert t.get(b"\xff\xff") == b""


def test_layout_facts():
    data = table.build_table([(b"a", b"1"), (b"b", b"2")])
    assert struct.unpack("<Q", data[-8:])[0] == 0xDB4775248B80FB57
    # First block: entry "a" unshared, entry "b" unshared (one shared prefix byte of 0).
    assert data[:5] == b"\x00\x01\x01a1"
    # Restart array [0], count 1, then compression type 0.
    block_len = 5 + 5 + 4 + 4
    assert data[block_len - 8:block_len + 1] == b"\0\0\0\0\x01\0\0\0\0"


def test_prefix_compression_and_restarts():
    block = table.BlockBuilder(restart_interval=2)
    for key in (b"abc", b"abd", b"abe"):
        block.add(key, b"v")
    raw = block.finish()
    # entry 2 shares 2 bytes with entry 1; entry 3 starts a new restart point.
    assert raw[:6] == b"\x00\x03\x01abc"
    assert raw[7:11] == b"\x02\x01\x01d"
    num_restarts = struct.unpack("<I", raw[-4:])[0]
    assert num_restarts == 2


def test_separators():
    assert table.shortest_separator(b"abcdx", b"abzz") == b"abd"
    assert table.shortest_separator(b"v04387", b"v04388") == b"v04387"
    assert table.shortest_separator(b"ab", b"abc") == b"ab"
    assert table.short_successor(b"s") == b"t"
    assert table.short_successor(b"\xff\xffa") == b"\xff\xffb"
    assert table.short_successor(b"\xff") == b"\xff"


def test_keys_must_increase():
    with pytest.raises(ValueError, match="strictly increasing"):
        table.build_table([(b"b", b""), (b"a", b"")])
    with pytest.raises(ValueError, match="strictly increasing"):
        table.build_table([(b"a", b""), (b"a", b"")])


def test_varints():
    for value in (0, 1, 127, 128, 300, 2**32, 2**64 - 1):
        encoded = table.put_varint(value)
        assert table.get_varint(encoded, 0) == (value, len(encoded))
    with pytest.raises(ValueError, match="varint runs past the end"):
        table.get_varint(b"\x80\x80", 0)
    with pytest.raises(ValueError, match="varint longer than 10 bytes"):
        table.get_varint(b"\xff" * 11, 0)
    with pytest.raises(ValueError, match="requires a non-negative value"):
        table.put_varint(-1)


@pytest.mark.parametrize("cut", [0, 10, 47, 48, 60])
def test_truncated_is_data_loss(cut):
    data = table.build_table(_items(30))
    with pytest.raises(errors.DataLossError, match="x.index"):
        t = table.Table(data[:cut], "x.index")
        list(t.items())


def test_bad_magic_and_bad_crc():
    data = bytearray(table.build_table(_items(30)))
    bad = bytearray(data)
    bad[-1] ^= 1
    with pytest.raises(errors.DataLossError, match="magic"):
        table.Table(bytes(bad), "f")
    bad = bytearray(data)
    bad[20] ^= 0x40  # inside the first data block
    with pytest.raises(errors.DataLossError, match="checksum"):
        list(table.Table(bytes(bad), "f").items())


def test_open_table_missing_file(tmp_path):
    with pytest.raises(errors.NotFoundError, match="No such file or directory"):
        table.open_table(str(tmp_path / "nope.index"))
