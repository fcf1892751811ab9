"""Python values as arrays (TensorFlow's conversion rules) and static values of tensors."""
import numbers

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import protos
from tensorflux.framework import tensor_shape


def _infer_dtype(value):
    """TensorFlow's defaults: Python floats are float32, ints int32 (int64 if too big)."""
    if isinstance(value, np.ndarray):
        return dtypes.as_dtype(value.dtype) if value.dtype != object else dtypes.string
    if isinstance(value, np.generic):
        return dtypes.as_dtype(value.dtype)
    flat = list(_flatten(value))
    if not flat:
        return dtypes.float32
    if all(isinstance(v, (bytes, str)) for v in flat):
        return dtypes.string
    if all(isinstance(v, (bool, np.bool_)) for v in flat):
        return dtypes.bool
    if any(isinstance(v, complex) for v in flat):
        return dtypes.complex128
    if any(isinstance(v, (float, np.floating)) for v in flat):
        return dtypes.float32
    if all(isinstance(v, numbers.Integral) for v in flat):
        ints = [int(v) for v in flat]
        if all(-2**31 <= v < 2**31 for v in ints):
            return dtypes.int32
        return dtypes.int64
    raise TypeError(f"Cannot convert {value!r:.80} to a tensor: unsupported element types "
                    f"{sorted({type(v).__name__ for v in flat})}")


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, np.ndarray):
        yield from value.ravel().tolist()
    else:
        yield value


def to_numpy(value, dtype=None):
    """`value` as a NumPy array of `dtype` (inferred by TF's rules when None).

    Raises TypeError when the value does not fit the dtype (e.g. 1.5 as int32).
    """
    dtype = _infer_dtype(value) if dtype is None else dtypes.as_dtype(dtype).base_dtype
    if dtype == dtypes.string:
        return _string_array(value)
    np_dtype = dtype.as_numpy_dtype
    try:
        array = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"Cannot convert {value!r:.80} to a tensor: {e}") from None
    if array.dtype == object:
        raise TypeError(f"Cannot convert {value!r:.80} to a tensor of dtype {dtype.name}")
    if dtype.is_integer and array.dtype.kind in "fc":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array.real)):
            raise TypeError(f"Expected {dtype.name}, got {value!r:.80} of type "
                            f"'{type(value).__name__}' instead.")
    if dtype.is_integer and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(np_dtype)
        if array.min() < info.min or array.max() > info.max:
            raise ValueError(f"Value {value!r:.80} is out of range for dtype {dtype.name}")
    if dtype == dtypes.bool and array.dtype.kind not in "b":
        raise TypeError(f"Expected bool, got {value!r:.80} of type '{type(value).__name__}'")
    if not dtype.is_complex and array.dtype.kind == "c":
        raise TypeError(f"Expected {dtype.name}, got complex value {value!r:.80}")
    return array.astype(np_dtype, copy=False)


def _string_array(value):
    array = np.asarray(value, dtype=object)
    flat = array.reshape(-1)
    for i, v in enumerate(flat):
        if isinstance(v, str):
            flat[i] = v.encode("utf-8")
        elif not isinstance(v, bytes):
            raise TypeError(f"Expected string, got {v!r:.80} of type '{type(v).__name__}'")
    return flat.reshape(array.shape)


def reshape_to(array, shape, verify_shape=False):
    """Fits `array` to `shape` as tf.constant does: broadcast a scalar, reshape same size."""
    shape = tensor_shape.as_shape(shape).as_list()
    size = int(np.prod(shape, dtype=np.int64))
    if list(array.shape) == shape:
        return array
    if verify_shape:
        raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {array.shape}.")
    if array.size == 1:
        return np.full(shape, array.reshape(()), dtype=array.dtype)
    if array.size == size:
        return array.reshape(shape)
    if 0 < array.size < size:  # TF 1.x pads with the last value
        flat = np.concatenate([array.ravel(), np.repeat(array.ravel()[-1:], size - array.size)])
        return flat.reshape(shape)
    raise ValueError(f"Too many elements provided. Needed at most {size}, but received "
                     f"{array.size}")


def constant_value(tensor):
    """The value of `tensor` if it can be known without running the graph, else None."""
    op = tensor.op
    folder = _CONSTANT_FOLDERS.get(op.type)
    if folder is None:
        return None
    try:
        return folder(tensor)
    except (ValueError, TypeError):
        return None


_CONSTANT_FOLDERS = {}


def register_constant_folder(op_type):
    """Decorator: `fn(tensor) -> array or None` computes op_type's output statically."""
    def register(fn):
        _CONSTANT_FOLDERS[op_type] = fn
        return fn
    return register


def constant_value_as_shape(tensor):
    """A TensorShape from a 1-D shape tensor, with unknown dims where values are unknown."""
    value = constant_value(tensor)
    if value is not None:
        return tensor_shape.TensorShape([None if d < 0 else int(d) for d in value.ravel()])
    if tensor.op.type == "Shape":
        return tensor.op.inputs[0].get_shape()
    if tensor.op.type == "Pack":
        dims = []
        for t in tensor.op.inputs:
            v = constant_value(t)
            dims.append(None if v is None or int(v) < 0 else int(v))
        return tensor_shape.TensorShape(dims)
    shape = tensor.get_shape()
    if shape.ndims == 1 and shape.dims[0].value is not None:
        return tensor_shape.unknown_shape(shape.dims[0].value)
    return tensor_shape.unknown_shape()


# ---- TensorProto <-> ndarray (FORMATS.md: tensor_content or one typed field) ---------------
def _typed_field(dtype):
    """(TensorProto field, numpy type its entries are read as) for a base dtype."""
    fields = {
        dtypes.float32: ("float_val", np.float32),
        dtypes.float64: ("double_val", np.float64),
        dtypes.int32: ("int_val", np.int32),
        dtypes.int16: ("int_val", np.int32),
        dtypes.int8: ("int_val", np.int32),
        dtypes.uint8: ("int_val", np.int32),
        dtypes.uint16: ("int_val", np.int32),
        dtypes.int64: ("int64_val", np.int64),
        dtypes.uint32: ("uint32_val", np.uint32),
        dtypes.uint64: ("uint64_val", np.uint64),
        dtypes.bool: ("bool_val", np.bool_),
        dtypes.float16: ("half_val", np.uint16),  # bit patterns
        dtypes.bfloat16: ("half_val", np.uint16),
        dtypes.complex64: ("scomplex_val", np.float32),  # (re, im) interleaved
        dtypes.complex128: ("dcomplex_val", np.float64),
        dtypes.string: ("string_val", object),
    }
    try:
        return fields[dtype]
    except KeyError:
        raise TypeError(f"TensorProto cannot hold dtype {dtype.name}; supported: "
                        f"{sorted(d.name for d in fields)}") from None


def _little_endian_bytes(array):
    if array.dtype.itemsize == 1 or (np.little_endian and array.dtype.isnative):
        return array.tobytes()
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def _typed_values(array, dtype):
    """The entries `array` contributes to its typed field, in field order."""
    flat = array.ravel()
    if dtype in (dtypes.float16, dtypes.bfloat16):
        return flat.view(np.uint16).astype(np.int64).tolist()
    if dtype.is_complex:
        return np.stack([flat.real, flat.imag], axis=-1).ravel().tolist()
    if dtype == dtypes.string:
        return list(flat)
    return flat.tolist()


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False):
    """A TensorProto holding `values`.

    Numbers go into `tensor_content` (raw little-endian bytes, row-major); strings into
    `string_val`. A single value broadcast to a larger `shape` is stored once in its typed
    field (readers repeat the last value), as TensorFlow does for `tf.fill`-like constants.

    Args:
      values: a Python or NumPy value (a TensorProto is returned unchanged).
      dtype: the element type; inferred by TensorFlow's rules when None.
      shape: the tensor's shape; defaults to the shape of `values`. A shorter `values` is
        padded with its last element; a single value is broadcast.
      verify_shape: if True, `values` must already have `shape`.

    Returns:
      A `protos.TensorProto`.

    Raises:
      TypeError: if `values` do not fit `dtype`, or the dtype cannot be stored.
      ValueError: if there are more values than `shape` has elements.
    """
    if isinstance(values, protos.TensorProto):
        return values
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype).base_dtype
    if isinstance(values, np.ndarray) and not values.dtype.isnative:
        values = values.astype(values.dtype.newbyteorder("="))  # as_dtype wants native order
    array = to_numpy(values, dtype)
    dtype = dtype or (dtypes.string if array.dtype == object else dtypes.as_dtype(array.dtype))
    field, _ = _typed_field(dtype)
    target = array.shape if shape is None else tensor_shape.as_shape(shape).as_list()
    if None in list(target):
        raise ValueError(f"make_tensor_proto needs a fully defined shape, got {target}")
    proto = protos.TensorProto(dtype=dtype.as_datatype_enum,
                               tensor_shape=tensor_shape.TensorShape(target).as_proto())
    size = int(np.prod(target, dtype=np.int64))
    if array.size == 1 and size > 1 and not verify_shape:
        getattr(proto, field).extend(_typed_values(array, dtype))  # repeated by readers
        return proto
    array = reshape_to(array, target, verify_shape)
    if dtype == dtypes.string:
        proto.string_val.extend(_typed_values(array, dtype))
    else:
        proto.tensor_content = _little_endian_bytes(np.ascontiguousarray(array))
    return proto


def _proto_shape(proto, dtype):
    shape_proto = proto.tensor_shape
    dims = [d.size for d in shape_proto.dim]
    if shape_proto.unknown_rank or any(d < 0 for d in dims):
        raise errors.DataLossError(None, None, f"TensorProto of dtype {dtype.name} has a shape "
                                   f"that is not fully defined: {dims if dims else 'unknown rank'}")
    return dims


def _from_content(proto, dtype, dims, size):
    np_type = np.dtype(dtype.as_numpy_dtype)
    expected = size * np_type.itemsize
    content = proto.tensor_content
    if len(content) != expected:
        raise errors.DataLossError(None, None, f"TensorProto of dtype {dtype.name} and shape "
                                   f"{dims} needs {expected} bytes of tensor_content "
                                   f"({size} x {np_type.itemsize}), got {len(content)}")
    little = np_type if np_type.itemsize == 1 else np_type.newbyteorder("<")
    return np.frombuffer(content, dtype=little).astype(np_type).reshape(dims)


def _from_typed_field(proto, dtype, dims, size):
    field, entry_type = _typed_field(dtype)
    per_element = 2 if dtype.is_complex else 1
    entries = getattr(proto, field)
    if len(entries) % per_element:
        raise errors.DataLossError(None, None, f"TensorProto of dtype {dtype.name}: {field} has "
                                   f"{len(entries)} entries, required (re, im) pairs")
    count = len(entries) // per_element
    if count > size:
        raise errors.DataLossError(None, None, f"TensorProto of dtype {dtype.name} and shape "
                                   f"{dims} has {count} values in {field}, more than its "
                                   f"{size} elements")
    np_type = dtype.as_numpy_dtype
    if count == 0:
        fill = b"" if dtype == dtypes.string else 0
        return np.full(dims, fill, dtype=np_type)
    values = np.array(list(entries), dtype=entry_type)
    if dtype in (dtypes.float16, dtypes.bfloat16):
        values = values.view(np_type)
    elif dtype.is_complex:
        values = values[0::2] + 1j * values[1::2]
    values = values.astype(np_type)
    if count < size:  # a short typed field repeats its last value
        values = np.concatenate([values, np.repeat(values[-1:], size - count)])
    return values.reshape(dims)


def MakeNdarray(tensor_proto):  # noqa: N802 (TensorFlow's name)
    """The NumPy array a TensorProto holds (strings as an object array of bytes).

    Raises:
      TypeError: if the proto's dtype has no NumPy counterpart.
      errors.DataLossError: if the proto is malformed (tensor_content of the wrong length,
        too many typed values, a shape that is not fully defined).
    """
    dtype = dtypes.as_dtype(tensor_proto.dtype).base_dtype
    _typed_field(dtype)  # refuses resource, variant
    dims = _proto_shape(tensor_proto, dtype)
    size = 1
    for d in dims:  # Python ints: NumPy's int64 product wraps for shapes that lie
        size *= d
    # An empty typed field means `size` zeros: a few bytes may ask for any size.
    limits.check_allocation(None, dims, dtype.as_numpy_dtype)
    if tensor_proto.tensor_content and dtype != dtypes.string:
        return _from_content(tensor_proto, dtype, dims, size)
    return _from_typed_field(tensor_proto, dtype, dims, size)
