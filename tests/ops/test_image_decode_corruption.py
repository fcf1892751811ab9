"""decode_jpeg/decode_png on files whose headers claim huge images (found by
tools/fuzz/readers.py): InvalidArgumentError or ResourceExhaustedError naming the op, before
Pillow allocates the claimed pixels."""
import struct
import zlib

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import limits

pytestmark = pytest.mark.timeout(60)


def _jpeg_claiming(height, width):
    pixels = np.full((12, 10, 3), 128, np.uint8)
    with tf.Graph().as_default(), tf.Session() as sess:
        data = sess.run(tf.image.encode_jpeg(pixels))
    sof = data.find(b"\xff\xc0")
    return data[:sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[sof + 9:]


def _decode(fn, data):
    with tf.Graph().as_default(), tf.Session() as sess:
        contents = tf.placeholder(tf.string, [])
        return sess.run(fn(contents), {contents: data})


def test_jpeg_decompression_bomb_is_invalid_argument_not_pillows_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data: .*bomb") as e:
        _decode(tf.image.decode_jpeg, _jpeg_claiming(65535, 65535))
    assert e.value.op is not None and e.value.op.type == "DecodeJpeg"


def test_jpeg_frame_over_the_tensor_cap_is_resource_exhausted_before_decoding():
    with limits.max_tensor_bytes(16 << 20):
        with pytest.raises(tf.errors.ResourceExhaustedError, match="DecodeJpeg"):
            _decode(tf.image.decode_jpeg, _jpeg_claiming(20000, 8000))


def test_png_header_over_the_tensor_cap_names_the_op():
    with tf.Graph().as_default(), tf.Session() as sess:
        data = sess.run(tf.image.encode_png(np.zeros((2, 2, 3), np.uint8)))
    body = struct.pack(">II", 8000, 8000) + data[24:29]
    data = data[:16] + body + struct.pack(">I", zlib.crc32(b"IHDR" + body)) + data[33:]
    with limits.max_tensor_bytes(16 << 20):
        with pytest.raises(tf.errors.ResourceExhaustedError, match="DecodePng"):
            _decode(tf.image.decode_png, data)
