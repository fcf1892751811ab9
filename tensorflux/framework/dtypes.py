"""Tensor element types: `tf.float32`, `tf.int64`, ... and `as_dtype`.

A `DType` is identified by its TensorFlow `DataType` enum value (the numbers written into
GraphDefs and TensorProtos); reference types ("float32_ref", what a Variable's op outputs)
are the base enum plus 100.
"""
import builtins
import numbers

import ml_dtypes
import numpy as np

_REF_OFFSET = 100

# enum -> (canonical name, numpy scalar type).  Resource handles and variants have no numpy
# equivalent; they are carried as Python objects.
_BASE_TYPES = {
    1: ("float32", np.float32),
    2: ("float64", np.float64),
    3: ("int32", np.int32),
    4: ("uint8", np.uint8),
    5: ("int16", np.int16),
    6: ("int8", np.int8),
    7: ("string", np.object_),
    8: ("complex64", np.complex64),
    9: ("int64", np.int64),
    10: ("bool", np.bool_),
    14: ("bfloat16", ml_dtypes.bfloat16),
    17: ("uint16", np.uint16),
    18: ("complex128", np.complex128),
    19: ("float16", np.float16),
    20: ("resource", np.object_),
    21: ("variant", np.object_),
    22: ("uint32", np.uint32),
    23: ("uint64", np.uint64),
}
# Quantized types: the integer they are stored as (TF 0.9 listed them as dtypes; tensorflux has
# no quantized kernels, so they only name types: placeholders, casts of stored data, protos).
_QUANTIZED_TYPES = {
    11: ("qint8", np.int8),
    12: ("quint8", np.uint8),
    13: ("qint32", np.int32),
    15: ("qint16", np.int16),
    16: ("quint16", np.uint16),
}
_BASE_TYPES.update(_QUANTIZED_TYPES)
_NUMPY_INCOMPATIBLE = frozenset({20, 21})

# Extra spellings accepted by as_dtype (TensorFlow's C++ names).
_ALIASES = {"half": 19, "float": 1, "double": 2}


class DType:
    """The type of the elements of a Tensor (TensorFlow's `tf.DType`)."""

    __slots__ = ("_type_enum", "_numpy_type")

    def __init__(self, type_enum):
        """Creates a DType from a `DataType` enum value.

        Raises:
          TypeError: if `type_enum` is not a known DataType value.
        """
        type_enum = _checked_enum(type_enum)
        if type_enum % _REF_OFFSET not in _BASE_TYPES or type_enum >= 2 * _REF_OFFSET:
            raise TypeError(f"type_enum must be a known DataType value, got {type_enum!r}.")
        self._type_enum = type_enum
        self._numpy_type = _BASE_TYPES[type_enum % _REF_OFFSET][1]  # read by every kernel call

    # ----- identity -------------------------------------------------------------------------
    @property
    def as_datatype_enum(self):
        """The `DataType` enum value (an int) of this type."""
        return self._type_enum

    @property
    def name(self):
        """The canonical name, e.g. "float32" or "int32_ref"."""
        base_name = _BASE_TYPES[self._type_enum % _REF_OFFSET][0]
        return base_name + "_ref" if self._is_ref_dtype else base_name

    @property
    def as_numpy_dtype(self):
        """The numpy scalar type for this DType (np.object_ for string, resource, variant)."""
        return self._numpy_type

    # ----- reference types ------------------------------------------------------------------
    @property
    def _is_ref_dtype(self):
        return self._type_enum > _REF_OFFSET

    @property
    def is_ref_dtype(self):
        """True if this is a reference type (e.g. float32_ref)."""
        return self._is_ref_dtype

    @property
    def _as_ref(self):
        return self if self._is_ref_dtype else _INTERN[self._type_enum + _REF_OFFSET]

    @property
    def as_ref(self):
        """The reference type with this base type (float32 -> float32_ref)."""
        return self._as_ref

    @property
    def base_dtype(self):
        """The non-reference type (float32_ref -> float32)."""
        return _INTERN[self._type_enum % _REF_OFFSET]

    @property
    def real_dtype(self):
        """The type of the real part: complex64 -> float32, complex128 -> float64, else self."""
        base = self.base_dtype
        if base._type_enum == 8:
            return float32
        if base._type_enum == 18:
            return float64
        return self

    # ----- classification -------------------------------------------------------------------
    @property
    def is_numpy_compatible(self):
        """False for types with no numpy counterpart (resource, variant)."""
        return self._type_enum % _REF_OFFSET not in _NUMPY_INCOMPATIBLE

    @property
    def is_bool(self):
        """True for bool."""
        return self.base_dtype._type_enum == 10

    @property
    def is_floating(self):
        """True for float16, bfloat16, float32 and float64."""
        return self.base_dtype in FLOATING

    @property
    def is_integer(self):
        """True for the signed and unsigned integer types (not bool)."""
        return self.base_dtype in INTEGER

    @property
    def is_complex(self):
        """True for complex64 and complex128."""
        return self.base_dtype in COMPLEX

    @property
    def is_quantized(self):
        """True for qint8, quint8, qint16, quint16 and qint32."""
        return self.base_dtype in QUANTIZED

    @property
    def is_unsigned(self):
        """True for uint8, uint16, uint32, uint64, quint8 and quint16."""
        return (self.is_integer or self.is_quantized) and np.iinfo(self.as_numpy_dtype).min == 0

    # ----- ranges ---------------------------------------------------------------------------
    def _numeric_info(self):
        if self.is_floating:
            return ml_dtypes.finfo(self.as_numpy_dtype)
        if self.is_integer or self.is_quantized:
            return np.iinfo(self.as_numpy_dtype)
        return None

    @property
    def min(self):
        """The smallest representable value.

        Raises:
          TypeError: for bool, complex, string, resource and variant.
        """
        info = self._numeric_info()
        if info is None:
            raise TypeError(f"Cannot find minimum value of {self}.")
        return self.as_numpy_dtype(info.min)

    @property
    def max(self):
        """The largest representable value.

        Raises:
          TypeError: for bool, complex, string, resource and variant.
        """
        info = self._numeric_info()
        if info is None:
            raise TypeError(f"Cannot find maximum value of {self}.")
        return self.as_numpy_dtype(info.max)

    @property
    def limits(self):
        """(low, high) intensity range as images use it: floats (0, 1) (the low end clipped
        from -1 to 0, as TF does), bool (False, True), integers (0, max).

        Raises:
          TypeError: for types without a range (complex, string, resource, variant).
        """
        if self.is_bool:
            return (False, True)
        if self.is_floating:
            return (0, 1)
        if self.is_integer:
            return (0, int(np.iinfo(self.as_numpy_dtype).max))
        raise TypeError(f"{self} has no limits.")

    @property
    def size(self):
        """Bytes per element (1 for resource, as TF reports it)."""
        if self.base_dtype._type_enum == 20:
            return 1
        return np.dtype(self.as_numpy_dtype).itemsize

    # ----- comparison -----------------------------------------------------------------------
    def is_compatible_with(self, other):
        """True if a tensor of type `other` may be used where this type is expected.

        `other` may be anything `as_dtype` accepts. A non-reference type accepts its
        reference type too (float32 is compatible with float32_ref, not the reverse).
        """
        other = as_dtype(other)
        return self._type_enum in (other._type_enum, other.base_dtype._type_enum)

    def __eq__(self, other):
        if other is None:
            return False
        if not isinstance(other, DType):
            try:
                other = as_dtype(other)
            except TypeError:
                return False
        return self._type_enum == other._type_enum

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._type_enum

    def __repr__(self):
        return "tf." + self.name

    def __str__(self):
        return f"<dtype: {self.name!r}>"


def _checked_enum(value):
    if isinstance(value, (builtins.bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"type_enum must be an int, got {value!r}.")
    return int(value)


_INTERN = {}
for _enum in _BASE_TYPES:
    _INTERN[_enum] = DType(_enum)
    _INTERN[_enum + _REF_OFFSET] = DType(_enum + _REF_OFFSET)

float16 = _INTERN[19]
half = float16
bfloat16 = _INTERN[14]
float32 = _INTERN[1]
float64 = _INTERN[2]
double = float64
int8 = _INTERN[6]
int16 = _INTERN[5]
int32 = _INTERN[3]
int64 = _INTERN[9]
uint8 = _INTERN[4]
uint16 = _INTERN[17]
uint32 = _INTERN[22]
uint64 = _INTERN[23]
bool = _INTERN[10]  # noqa: A001  (TF's public name; shadows the builtin inside this module)
string = _INTERN[7]
complex64 = _INTERN[8]
complex128 = _INTERN[18]
resource = _INTERN[20]
variant = _INTERN[21]

float16_ref = _INTERN[119]
half_ref = float16_ref
bfloat16_ref = _INTERN[114]
float32_ref = _INTERN[101]
float64_ref = _INTERN[102]
double_ref = float64_ref
int8_ref = _INTERN[106]
int16_ref = _INTERN[105]
int32_ref = _INTERN[103]
int64_ref = _INTERN[109]
uint8_ref = _INTERN[104]
uint16_ref = _INTERN[117]
uint32_ref = _INTERN[122]
uint64_ref = _INTERN[123]
bool_ref = _INTERN[110]
string_ref = _INTERN[107]
complex64_ref = _INTERN[108]
complex128_ref = _INTERN[118]
resource_ref = _INTERN[120]
variant_ref = _INTERN[121]

FLOATING = frozenset({float16, bfloat16, float32, float64})
INTEGER = frozenset({int8, int16, int32, int64, uint8, uint16, uint32, uint64})
COMPLEX = frozenset({complex64, complex128})
REAL_NUMBER = FLOATING | INTEGER
NUMBER = REAL_NUMBER | COMPLEX
qint8 = _INTERN[11]
quint8 = _INTERN[12]
qint32 = _INTERN[13]
qint16 = _INTERN[15]
quint16 = _INTERN[16]
qint8_ref = _INTERN[111]
quint8_ref = _INTERN[112]
qint32_ref = _INTERN[113]
qint16_ref = _INTERN[115]
quint16_ref = _INTERN[116]
QUANTIZED = frozenset({qint8, quint8, qint32, qint16, quint16})
QUANTIZED_DTYPES = QUANTIZED

_NAME_TO_DTYPE = {}
for _dtype in _INTERN.values():
    _NAME_TO_DTYPE[_dtype.name] = _dtype
for _alias, _enum in _ALIASES.items():
    _NAME_TO_DTYPE[_alias] = _INTERN[_enum]
    _NAME_TO_DTYPE[_alias + "_ref"] = _INTERN[_enum + _REF_OFFSET]

# numpy dtype -> DType for every numpy-compatible type except string (handled by kind below);
# quantized types share their storage type, which keeps the plain integer type.
_NUMPY_TO_DTYPE = {
    np.dtype(np_type): _INTERN[enum]
    for enum, (_, np_type) in _BASE_TYPES.items()
    if np_type is not np.object_ and enum not in _QUANTIZED_TYPES
}


# Python types map as numpy maps them (np.dtype(float) is float64); any other class is refused
# (numpy would turn it into an object dtype).
_PYTHON_TYPES = (float, int, builtins.bool, complex, str, bytes, object)


def _from_numpy(np_dtype):
    found = _NUMPY_TO_DTYPE.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.kind in "OSU":  # object, bytes, unicode
        return string
    return None


def as_dtype(type_value):
    """Converts `type_value` to a `DType`.

    Args:
      type_value: a DType, a DataType enum int, a name ("float32", "float", "double", "half",
        "int32_ref", ...), a numpy dtype or scalar type (np.float32, np.dtype("int64"),
        ml_dtypes.bfloat16), or a Python type (float -> float64, int -> int64, bool, complex ->
        complex128, str/bytes/object -> string, following numpy).

    Returns:
      The corresponding DType.

    Raises:
      TypeError: if `type_value` cannot be converted.
    """
    if isinstance(type_value, DType):
        return type_value
    found = _lookup(type_value)
    if found is None:
        raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")
    return found


def _lookup(type_value):
    if isinstance(type_value, str):
        return _NAME_TO_DTYPE.get(type_value)
    if isinstance(type_value, (builtins.bool, np.bool_)):
        return None  # True would otherwise read as enum 1 (float32)
    if isinstance(type_value, numbers.Integral):
        return _INTERN.get(int(type_value))
    if isinstance(type_value, np.dtype):
        return _from_numpy(type_value)
    if isinstance(type_value, type) and (
        issubclass(type_value, np.generic) or type_value in _PYTHON_TYPES
    ):
        return _from_numpy(np.dtype(type_value))
    return None


def is_numeric(dtype):
    """True if `dtype` (anything `as_dtype` accepts) is a real or complex number type."""
    return as_dtype(dtype).base_dtype in NUMBER
