import ml_dtypes
import numpy as np
import pytest

from tensorflux.framework import dtypes, protos

BASE_NAMES = {
    "float16": 19, "bfloat16": 14, "float32": 1, "float64": 2, "int8": 6, "int16": 5,
    "int32": 3, "int64": 9, "uint8": 4, "uint16": 17, "uint32": 22, "uint64": 23, "bool": 10,
    "string": 7, "complex64": 8, "complex128": 18, "resource": 20, "variant": 21,
}


@pytest.mark.parametrize("name,enum", sorted(BASE_NAMES.items()))
def test_module_instances_have_tf_enums_and_names(name, enum):
    dtype = getattr(dtypes, name)
    assert dtype.as_datatype_enum == enum
    assert dtype.name == name
    ref = getattr(dtypes, name + "_ref")
    assert ref.as_datatype_enum == enum + 100
    assert ref.name == name + "_ref"
    assert ref.base_dtype is dtype
    assert dtype.as_ref is ref and dtype._as_ref is ref and ref.as_ref is ref
    assert ref.is_ref_dtype and ref._is_ref_dtype and not dtype.is_ref_dtype


def test_enums_agree_with_tensorflow_protos():
    for name, enum in BASE_NAMES.items():
        proto_name = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE"}.get(
            name, "DT_" + name.upper()
        )
        assert protos.DataType.Value(proto_name) == enum
        assert protos.DataType.Value(proto_name + "_REF") == enum + 100


def test_aliases():
    assert dtypes.half is dtypes.float16
    assert dtypes.double is dtypes.float64
    assert dtypes.half_ref is dtypes.float16_ref
    assert dtypes.double_ref is dtypes.float64_ref


def test_repr_and_str():
    assert repr(dtypes.float32) == "tf.float32"
    assert str(dtypes.float32) == "<dtype: 'float32'>"
    assert repr(dtypes.int32_ref) == "tf.int32_ref"


def test_as_numpy_dtype():
    assert dtypes.float32.as_numpy_dtype is np.float32
    assert dtypes.int64.as_numpy_dtype is np.int64
    assert dtypes.bool.as_numpy_dtype is np.bool_
    assert dtypes.bfloat16.as_numpy_dtype is ml_dtypes.bfloat16
    assert dtypes.string.as_numpy_dtype is np.object_
    assert dtypes.float32_ref.as_numpy_dtype is np.float32


@pytest.mark.parametrize(
    "value,expected",
    [
        ("float32", dtypes.float32), ("float", dtypes.float32), ("double", dtypes.float64),
        ("half", dtypes.float16), ("int32", dtypes.int32), ("bool", dtypes.bool),
        ("string", dtypes.string), ("float32_ref", dtypes.float32_ref),
        ("float_ref", dtypes.float32_ref), ("bfloat16", dtypes.bfloat16),
        (1, dtypes.float32), (101, dtypes.float32_ref), (np.int64(9), dtypes.int64),
        (np.float32, dtypes.float32), (np.dtype("int64"), dtypes.int64),
        (np.dtype("float16"), dtypes.float16), (np.uint8, dtypes.uint8),
        (ml_dtypes.bfloat16, dtypes.bfloat16), (np.dtype(ml_dtypes.bfloat16), dtypes.bfloat16),
        (np.complex64, dtypes.complex64), (np.bool_, dtypes.bool),
        (float, dtypes.float64), (int, dtypes.int64), (bool, dtypes.bool),
        (complex, dtypes.complex128), (str, dtypes.string), (bytes, dtypes.string),
        (object, dtypes.string), (np.dtype("S5"), dtypes.string), (np.dtype("U3"), dtypes.string),
        (np.object_, dtypes.string), (dtypes.int16, dtypes.int16),
    ],
)
def test_as_dtype_accepts(value, expected):
    assert dtypes.as_dtype(value) is expected


@pytest.mark.parametrize(
    "value", ["floaty", "f4", 0, 24, 99, 200, True, 1.0, None, list, dict, [1], np.dtype("V4")]
)
def test_as_dtype_rejects(value):
    with pytest.raises(TypeError, match="Cannot convert value .* to a TensorFlow DType."):
        dtypes.as_dtype(value)


def test_dtype_constructor():
    assert dtypes.DType(1) == dtypes.float32
    with pytest.raises(TypeError):
        dtypes.DType(24)
    with pytest.raises(TypeError):
        dtypes.DType("float32")


def test_equality_and_hash():
    assert dtypes.float32 == "float32"
    assert dtypes.float32 == np.float32
    assert dtypes.float32 == 1
    assert dtypes.float32 != dtypes.float64
    assert dtypes.float32 != dtypes.float32_ref
    assert not (dtypes.float32 == "not a type")
    assert dtypes.float32 != "not a type"
    assert dtypes.float32 != None  # noqa: E711
    assert dtypes.float32 != [1, 2]
    assert hash(dtypes.DType(3)) == hash(dtypes.int32)
    assert len({dtypes.float32, dtypes.DType(1), dtypes.as_dtype("float")}) == 1


def test_classification():
    assert dtypes.float32.is_floating and dtypes.bfloat16.is_floating
    assert dtypes.float32_ref.is_floating
    assert not dtypes.int32.is_floating and not dtypes.complex64.is_floating
    assert dtypes.int8.is_integer and dtypes.uint64.is_integer
    assert not dtypes.bool.is_integer and not dtypes.float32.is_integer
    assert dtypes.complex128.is_complex and not dtypes.float64.is_complex
    assert dtypes.bool.is_bool and dtypes.bool_ref.is_bool and not dtypes.int32.is_bool
    assert dtypes.uint16.is_unsigned and not dtypes.int16.is_unsigned
    assert not dtypes.bool.is_unsigned and not dtypes.float32.is_unsigned
    assert not dtypes.float32.is_quantized
    assert dtypes.float32.is_numpy_compatible and dtypes.string.is_numpy_compatible
    assert not dtypes.resource.is_numpy_compatible and not dtypes.variant_ref.is_numpy_compatible


def test_real_dtype():
    assert dtypes.complex64.real_dtype is dtypes.float32
    assert dtypes.complex128.real_dtype is dtypes.float64
    assert dtypes.int32.real_dtype is dtypes.int32


def test_size():
    assert dtypes.float32.size == 4
    assert dtypes.float64.size == 8
    assert dtypes.bfloat16.size == 2
    assert dtypes.complex128.size == 16
    assert dtypes.bool.size == 1
    assert dtypes.resource.size == 1


def test_min_max():
    assert dtypes.int8.min == -128 and dtypes.int8.max == 127
    assert dtypes.uint8.min == 0 and dtypes.uint8.max == 255
    assert dtypes.int64.max == np.iinfo(np.int64).max
    assert dtypes.float32.max == np.finfo(np.float32).max
    assert dtypes.float16.min == np.finfo(np.float16).min
    assert float(dtypes.bfloat16.max) == pytest.approx(3.3895e38, rel=1e-3)
    for dtype in (dtypes.bool, dtypes.complex64, dtypes.string, dtypes.resource):
        with pytest.raises(TypeError):
            dtype.min
        with pytest.raises(TypeError):
            dtype.max


def test_limits():
    assert dtypes.float32.limits == (0, 1)
    assert dtypes.uint8.limits == (0, 255)
    assert dtypes.int8.limits == (0, 127)
    assert dtypes.bool.limits == (False, True)


def test_is_compatible_with():
    assert dtypes.float32.is_compatible_with(dtypes.float32)
    assert dtypes.float32.is_compatible_with(dtypes.float32_ref)
    assert dtypes.float32.is_compatible_with("float32_ref")
    assert not dtypes.float32_ref.is_compatible_with(dtypes.float32)
    assert dtypes.float32_ref.is_compatible_with(dtypes.float32_ref)
    assert not dtypes.float32.is_compatible_with(dtypes.float64)
    with pytest.raises(TypeError):
        dtypes.float32.is_compatible_with("nonsense")


def test_groups():
    assert dtypes.FLOATING == {dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64}
    assert dtypes.int32 in dtypes.INTEGER and dtypes.uint8 in dtypes.INTEGER
    assert dtypes.bool not in dtypes.INTEGER and dtypes.bool not in dtypes.NUMBER
    assert dtypes.COMPLEX == {dtypes.complex64, dtypes.complex128}
    assert dtypes.NUMBER == dtypes.FLOATING | dtypes.INTEGER | dtypes.COMPLEX
    assert dtypes.REAL_NUMBER == dtypes.FLOATING | dtypes.INTEGER
    assert len(dtypes.QUANTIZED) == 5 and not dtypes.QUANTIZED & dtypes.NUMBER
    assert dtypes.is_numeric(dtypes.float32_ref) and dtypes.is_numeric("complex64")
    assert not dtypes.is_numeric(dtypes.string) and not dtypes.is_numeric(dtypes.bool)


QUANTIZED_NAMES = {"qint8": (11, np.int8), "quint8": (12, np.uint8), "qint32": (13, np.int32),
                   "qint16": (15, np.int16), "quint16": (16, np.uint16)}


@pytest.mark.parametrize("name,spec", sorted(QUANTIZED_NAMES.items()))
def test_quantized_dtypes_have_tf_enums_and_storage_ranges(name, spec):
    enum, storage = spec
    dtype = getattr(dtypes, name)
    assert dtype.as_datatype_enum == enum and dtype.name == name
    assert dtypes.as_dtype(name) is dtype and dtypes.as_dtype(enum) is dtype
    assert getattr(dtypes, name + "_ref").base_dtype is dtype
    assert dtype.is_quantized and not dtype.is_integer and not dtype.is_floating
    assert dtype.is_unsigned == name.startswith("qu")
    assert dtype.min == np.iinfo(storage).min and dtype.max == np.iinfo(storage).max
    assert dtype in dtypes.QUANTIZED_DTYPES


def test_numpy_integers_still_map_to_plain_integer_types():
    assert dtypes.as_dtype(np.int8) is dtypes.int8
    assert dtypes.as_dtype(np.dtype("uint8")) is dtypes.uint8
    assert not dtypes.int32.is_quantized
