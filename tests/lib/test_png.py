"""The PNG codec: round trips for every filter and format, real PNG features, corrupt input."""
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tensorflux.lib import png


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("filter_type", [None, 0, 1, 2, 3, 4])
def test_round_trip(channels, dtype, filter_type):
    rng = np.random.default_rng(channels)
    image = rng.integers(0, np.iinfo(dtype).max, (5, 7, channels), endpoint=True).astype(dtype)
    data = png.encode(image, filter_type=filter_type)
    assert data.startswith(png.SIGNATURE)
    back = png.decode(data)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, image)


def test_two_d_image_and_smooth_images_compress():
    image = np.tile(np.arange(64, dtype=np.uint8), (64, 1))
    data = png.encode(image)
    assert png.decode(data).shape == (64, 64, 1)
    assert len(data) < 64 * 64 // 10  # the Sub/Up filters make a gradient nearly free


def _png(header, raw_rows, extra_chunks=()):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return (png.SIGNATURE + chunk(b"IHDR", header) + b"".join(chunk(k, b) for k, b in extra_chunks)
            + chunk(b"IDAT", zlib.compress(raw_rows)) + chunk(b"IEND", b""))


def test_decode_palette_with_transparency():
    header = struct.pack(">IIBBBBB", 2, 1, 8, 3, 0, 0, 0)
    palette = bytes([10, 20, 30, 40, 50, 60])
    data = _png(header, b"\x00\x01\x00", [(b"PLTE", palette), (b"tRNS", b"\x80")])
    np.testing.assert_array_equal(png.decode(data),
                                  [[[40, 50, 60, 255], [10, 20, 30, 128]]])


def test_decode_one_bit_grey():
    header = struct.pack(">IIBBBBB", 3, 1, 1, 0, 0, 0, 0)
    data = _png(header, b"\x00\xa0")  # bits 101
    np.testing.assert_array_equal(png.decode(data)[:, :, 0], [[255, 0, 255]])


def test_channel_conversion():
    rgb = np.array([[[255, 0, 0]]], np.uint8)
    assert png.decode(png.encode(rgb), channels=4).tolist() == [[[255, 0, 0, 255]]]
    assert png.decode(png.encode(rgb), channels=1).tolist() == [[[76]]]
    grey = np.array([[[9]]], np.uint8)
    assert png.decode(png.encode(grey), channels=3).tolist() == [[[9, 9, 9]]]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: b"GIF89a" + d[6:], "signature"),
    (lambda d: d[:-20], "Truncated"),
    (lambda d: d[:20] + bytes([d[20] ^ 1]) + d[21:], "CRC"),
])
def test_corrupt_files_raise_value_error(mutate, message):
    data = png.encode(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=message):
        png.decode(mutate(data))


def test_interlaced_and_wrong_sizes():
    # Adam7 of a 1x1 image: only pass 1, one filter byte and the pixel. Pillow decodes it;
    # 16-bit colour (the NumPy codec's) interlaced images are refused.
    interlaced = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 1)
    assert png.decode(_png(interlaced, b"\x00\x07")).tolist() == [[[7]]]
    interlaced16 = struct.pack(">IIBBBBB", 1, 1, 16, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="Interlaced"):
        png.decode(_png(interlaced16, b"\x00" + b"\x01" * 6))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="inflates to"):  # Pillow would zero-fill it
        png.decode(_png(header, b"\x00\x00\x00"))
    with pytest.raises(ValueError, match="inflates to"):
        png.decode(_png(interlaced, b"\x00"))
    header16 = struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0)
    with pytest.raises(ValueError, match="inflates to"):  # through the NumPy codec
        png.decode(_png(header16, b"\x00\x00\x00"))
    huge = struct.pack(">IIBBBBB", 1 << 20, 1 << 20, 8, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="larger than"):
        png.decode(_png(huge, b"\x00"))


@pytest.mark.parametrize("image", [
    np.arange(60, dtype=np.uint8).reshape(4, 5, 3),
    np.arange(20, dtype=np.uint16).reshape(4, 5, 1) * 3000,
])
def test_pillow_and_numpy_codecs_agree(image):
    """encode() goes through Pillow here; filter_type forces the NumPy codec: each decodes the
    other's file to the same pixels."""
    by_pillow, by_hand = png.encode(image), png.encode(image, filter_type=4)
    assert by_pillow != by_hand
    np.testing.assert_array_equal(png.decode(by_pillow), image)
    np.testing.assert_array_equal(png.decode(by_hand), image)
    np.testing.assert_array_equal(png._decode_by_hand(
        png._read_header(by_pillow[16:29]), _idat(by_pillow), None, None), image)


def _idat(data):
    return b"".join(body for kind, body in png._chunks(data) if kind == b"IDAT")


def test_encode_rejects_non_images():
    with pytest.raises(ValueError, match="channels"):
        png.encode(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(TypeError, match="uint8 or uint16"):
        png.encode(np.zeros((2, 2, 3), np.float32))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_files_never_crash(data):
    valid = png.encode(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), filter_type=4)
    position = data.draw(st.integers(0, len(valid) - 1))
    value = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(position + 1, len(valid)))
    mutated = valid[:position] + bytes([value]) + valid[position + 1:cut]
    try:
        image = png.decode(mutated)
    except ValueError:
        return
    assert image.ndim == 3
