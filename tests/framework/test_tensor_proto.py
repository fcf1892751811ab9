"""make_tensor_proto / MakeNdarray: FORMATS.md's TensorProto rules."""
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.framework import tensor_util

NUMERIC = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int16,
           np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_,
           np.complex64, np.complex128]


def _proto(dtype, shape, **fields):
    return protos.TensorProto(dtype=dtypes.as_dtype(dtype).as_datatype_enum,
                              tensor_shape=protos.TensorShapeProto(
                                  dim=[protos.TensorShapeProto.Dim(size=d) for d in shape]),
                              **fields)


@pytest.mark.parametrize("np_type", NUMERIC, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 4)])
def test_round_trip_numeric(np_type, shape):
    values = (np.arange(int(np.prod(shape))) % 7 + 1).reshape(shape)
    if np.dtype(np_type).kind == "c":
        values = values + 2j * values
    array = values.astype(np_type)
    proto = tensor_util.make_tensor_proto(array)
    assert proto.dtype == dtypes.as_dtype(np_type).as_datatype_enum
    assert [d.size for d in proto.tensor_shape.dim] == list(shape)
    back = tensor_util.MakeNdarray(proto)
    assert back.dtype == np.dtype(np_type) and back.shape == shape
    np.testing.assert_array_equal(back, array)
    back[...] = array  # writable


def test_tensor_content_is_little_endian_row_major():
    proto = tensor_util.make_tensor_proto(np.array([[1.0, 2.0]], dtype=np.float32))
    assert proto.tensor_content == b"\x00\x00\x80\x3f\x00\x00\x00\x40"
    proto = tensor_util.make_tensor_proto(np.array([1, 256], dtype=">i4"))
    assert proto.tensor_content == b"\x01\x00\x00\x00\x00\x01\x00\x00"
    proto = tensor_util.make_tensor_proto(np.array([1 + 2j], dtype=np.complex64))
    assert proto.tensor_content == np.array([1, 2], "<f4").tobytes()


def test_strings_round_trip_as_bytes():
    proto = tensor_util.make_tensor_proto([["a", b"b\xff"], ["", "\u00e9"]])
    assert proto.dtype == protos.DataType.Value("DT_STRING")
    assert list(proto.string_val) == [b"a", b"b\xff", b"", "\u00e9".encode()]
    back = tensor_util.MakeNdarray(proto)
    assert back.dtype == object and back.shape == (2, 2)
    assert back.tolist() == [[b"a", b"b\xff"], [b"", "\u00e9".encode()]]


def test_scalar_broadcast_is_stored_once():
    proto = tensor_util.make_tensor_proto(0.5, dtypes.float32, shape=[1000, 1000])
    assert list(proto.float_val) == [0.5] and not proto.tensor_content
    back = tensor_util.MakeNdarray(proto)
    assert back.shape == (1000, 1000) and np.all(back == 0.5)
    proto = tensor_util.make_tensor_proto("x", shape=[3])
    assert tensor_util.MakeNdarray(proto).tolist() == [b"x"] * 3


def test_shape_padding_and_errors():
    back = tensor_util.MakeNdarray(tensor_util.make_tensor_proto([1, 2], dtypes.int32, [2, 2]))
    np.testing.assert_array_equal(back, [[1, 2], [2, 2]])
    with pytest.raises(ValueError, match="Too many elements"):
        tensor_util.make_tensor_proto([1, 2, 3], shape=[2])
    with pytest.raises(TypeError, match="shape"):
        tensor_util.make_tensor_proto([1, 2], shape=[2, 1], verify_shape=True)
    with pytest.raises(TypeError, match="Expected int32, got 1.5"):
        tensor_util.make_tensor_proto(1.5, dtypes.int32)
    with pytest.raises(TypeError, match="resource"):
        tensor_util.make_tensor_proto(1, dtypes.resource)
    with pytest.raises(ValueError, match="fully defined"):
        tensor_util.make_tensor_proto(1.0, shape=[None, 2])


def test_dtype_inference_and_conversion():
    assert tensor_util.make_tensor_proto(1.0).dtype == dtypes.float32.as_datatype_enum
    assert tensor_util.make_tensor_proto(1).dtype == dtypes.int32.as_datatype_enum
    assert tensor_util.make_tensor_proto(2**40).dtype == dtypes.int64.as_datatype_enum
    proto = tensor_util.make_tensor_proto([1, 2], dtype=dtypes.float64)
    assert tensor_util.MakeNdarray(proto).dtype == np.float64
    existing = tensor_util.make_tensor_proto([1.0])
    assert tensor_util.make_tensor_proto(existing) is existing


def test_typed_fields_repeat_last_value():
    back = tensor_util.MakeNdarray(_proto(dtypes.float32, [2, 2], float_val=[1.0, 2.0]))
    np.testing.assert_array_equal(back, [[1, 2], [2, 2]])
    back = tensor_util.MakeNdarray(_proto(dtypes.int64, [3], int64_val=[2**40]))
    np.testing.assert_array_equal(back, [2**40] * 3)
    back = tensor_util.MakeNdarray(_proto(dtypes.uint8, [2], int_val=[255, 7]))
    assert back.dtype == np.uint8 and back.tolist() == [255, 7]
    back = tensor_util.MakeNdarray(_proto(dtypes.bool, [3], bool_val=[True, False]))
    assert back.tolist() == [True, False, False]
    back = tensor_util.MakeNdarray(_proto(dtypes.string, [3], string_val=[b"a", b"b"]))
    assert back.tolist() == [b"a", b"b", b"b"]
    back = tensor_util.MakeNdarray(_proto(dtypes.uint64, [1], uint64_val=[2**64 - 1]))
    assert back.dtype == np.uint64 and back.tolist() == [2**64 - 1]


def test_empty_typed_field_means_zeros():
    back = tensor_util.MakeNdarray(_proto(dtypes.float64, [2, 3]))
    assert back.dtype == np.float64 and back.shape == (2, 3) and not back.any()
    back = tensor_util.MakeNdarray(_proto(dtypes.string, [2]))
    assert back.tolist() == [b"", b""]


def test_half_val_bit_patterns():
    back = tensor_util.MakeNdarray(_proto(dtypes.float16, [2], half_val=[0x3C00, 0xC000]))
    assert back.dtype == np.float16 and back.tolist() == [1.0, -2.0]
    back = tensor_util.MakeNdarray(_proto(dtypes.bfloat16, [1], half_val=[0x3F80]))
    assert back.dtype == ml_dtypes.bfloat16 and float(back[0]) == 1.0
    proto = tensor_util.make_tensor_proto(1.0, dtypes.float16, shape=[4])
    assert list(proto.half_val) == [0x3C00]


def test_complex_fields_are_interleaved():
    back = tensor_util.MakeNdarray(_proto(dtypes.complex64, [2], scomplex_val=[1, 2, 3, 4]))
    assert back.dtype == np.complex64 and back.tolist() == [1 + 2j, 3 + 4j]
    back = tensor_util.MakeNdarray(_proto(dtypes.complex128, [3], dcomplex_val=[1, -1]))
    assert back.tolist() == [1 - 1j] * 3
    with pytest.raises(errors.DataLossError, match="pairs"):
        tensor_util.MakeNdarray(_proto(dtypes.complex64, [2], scomplex_val=[1, 2, 3]))


def test_wrong_tensor_content_length_is_data_loss():
    proto = _proto(dtypes.float32, [2, 3], tensor_content=b"\x00" * 20)
    with pytest.raises(errors.DataLossError) as info:
        tensor_util.MakeNdarray(proto)
    message = str(info.value)
    assert "float32" in message and "[2, 3]" in message and "24" in message and "20" in message
    assert info.value.error_code == errors.DATA_LOSS


def test_malformed_protos_are_data_loss():
    with pytest.raises(errors.DataLossError, match="more than its 2 elements"):
        tensor_util.MakeNdarray(_proto(dtypes.int32, [2], int_val=[1, 2, 3]))
    with pytest.raises(errors.DataLossError, match="not fully defined"):
        tensor_util.MakeNdarray(_proto(dtypes.int32, [-1, 2]))
    unknown = protos.TensorProto(dtype=dtypes.float32.as_datatype_enum,
                                 tensor_shape=protos.TensorShapeProto(unknown_rank=True))
    with pytest.raises(errors.DataLossError, match="not fully defined"):
        tensor_util.MakeNdarray(unknown)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint16,
                                         np.complex128, np.bool_]),
                  shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
def test_round_trip_property(array):
    back = tensor_util.MakeNdarray(tensor_util.make_tensor_proto(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
