"""Corrupt RecvTensor answers and RunGraph requests (found by tools/fuzz/readers.py): each is a
TensorFlow error, checked before any tensor the message announces is allocated."""
import tracemalloc

import numpy as np
import pytest

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.distributed import wire

pytestmark = pytest.mark.timeout(30)


def _answer_with(edit, value=None):
    value = np.arange(24, dtype=np.float32).reshape(2, 3, 4) if value is None else value
    data, _ = wire.encode_response(value, False)
    size = int.from_bytes(data[:4], "little")
    header = wire.M.RecvTensorHeader.FromString(data[4:4 + size])
    edit(header)
    head = header.SerializeToString()
    return len(head).to_bytes(4, "little") + head + data[4 + size:]


def _decode_peak(data):
    tracemalloc.start()
    try:
        wire.decode_response(data)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 8 << 20, f"peak allocation {peak} bytes"


def test_a_header_that_does_not_decode_is_data_loss():
    data, _ = wire.encode_response(np.ones(3, np.float32), False)
    torn = data[:4] + b"\x12\xff\xff\xff" + data[8:]  # field 2 with a length past the end
    with pytest.raises(errors.DataLossError, match="malformed"):
        wire.decode_response(torn)


@pytest.mark.parametrize("shape", [[10**6, 10**6], [10**12], [2**62, 4], [-1, 24]])
def test_a_shape_that_lies_is_data_loss_before_allocating(shape):
    def edit(header):
        del header.shape[:]
        header.shape.extend(shape)
    with pytest.raises(errors.DataLossError):
        _decode_peak(_answer_with(edit))


def test_a_shape_and_size_that_agree_but_lie_about_the_bytes_sent_allocate_nothing():
    def edit(header):
        del header.shape[:]
        header.shape.extend([1000, 1000])
        header.nbytes = 4 * 10**6
    with pytest.raises(errors.DataLossError, match="sent 96 bytes"):
        _decode_peak(_answer_with(edit))


@pytest.mark.parametrize("dtype", [0, 7, 20, 99])
def test_a_dtype_that_cannot_travel_raw_is_data_loss(dtype):
    def edit(header):
        header.dtype = dtype
    with pytest.raises(errors.DataLossError, match="dtype|tensor"):
        wire.decode_response(_answer_with(edit))


def test_a_chunked_tensor_over_the_cap_is_resource_exhausted():
    header = wire.M.RecvTensorHeader(dtype=1, shape=[1 << 20, 64], nbytes=4 << 26, chunked=True)
    with limits.max_tensor_bytes(1 << 20), pytest.raises(errors.ResourceExhaustedError):
        wire.decode_chunks(header, [])


def test_a_string_tensor_proto_with_a_lying_shape_is_an_error_not_an_allocation():
    def edit(header):
        del header.tensor.tensor_shape.dim[:]
        header.tensor.tensor_shape.dim.add(size=10**12)
        del header.tensor.string_val[:]
    value = np.array([b"ab", b"c"], object)
    with limits.max_tensor_bytes(16 << 20), pytest.raises(errors.ResourceExhaustedError):
        _decode_peak(_answer_with(edit, value))


def test_a_tensor_proto_of_a_dtype_without_numpy_type_is_data_loss():
    proto = wire.to_proto(np.ones(2, np.float32))
    proto.dtype = 20  # DT_RESOURCE
    with pytest.raises(errors.DataLossError, match="does not decode"):
        wire.from_proto(proto)


def test_a_run_graph_request_that_does_not_decode_is_invalid_argument():
    request = wire.M.RunGraphRequest(graph_handle="g", step_id=1).SerializeToString()
    with pytest.raises(errors.InvalidArgumentError, match="Malformed RunGraph request"):
        wire.decode_request(wire.M.RunGraphRequest, request + b"\x1a\xff", "RunGraph")
