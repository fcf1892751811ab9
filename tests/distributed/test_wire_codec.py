"""RecvTensor's encoding (distributed/wire.py) without servers: byte order, chunked tensors,
short or long chunk streams."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.distributed import wire

pytestmark = pytest.mark.timeout(30)


def test_big_endian_arrays_arrive_with_their_values():
    value = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5).astype(">f4")
    answer, rest = wire.encode_response(value, False)
    assert rest is None
    got, is_dead, _ = wire.decode_response(answer)
    assert not is_dead and got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_array_equal(got, value)


def _chunked(value, chunk):
    answer, rest = wire.encode_response(value, False, chunk=chunk)
    got, is_dead, header = wire.decode_response(answer)
    assert got is None and not is_dead and header.chunked
    return header, list(wire.encode_chunks(rest, chunk=chunk))


def test_a_large_tensor_crosses_in_chunks_bit_exact():
    value = np.arange(1000, dtype=np.float64).reshape(10, 100) / 7
    header, frames = _chunked(value, chunk=1024)
    assert len(frames) == 8
    np.testing.assert_array_equal(wire.decode_chunks(header, iter(frames)), value)


def test_a_short_or_long_chunk_stream_is_data_loss():
    value = np.arange(1000, dtype=np.float64)
    header, frames = _chunked(value, chunk=1024)
    with pytest.raises(tf.errors.DataLossError, match="RecvTensor ended after 7168 of 8000 bytes"):
        wire.decode_chunks(header, iter(frames[:-1]))
    with pytest.raises(tf.errors.DataLossError, match="more than the 8000 bytes announced"):
        wire.decode_chunks(header, iter(frames + [b"x"]))
