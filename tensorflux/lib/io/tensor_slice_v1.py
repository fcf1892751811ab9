"""TensorFlow's V1 checkpoint format, the only one of TF 0.9 (`Saver(write_version=V1)`).

A V1 checkpoint is one file (`model.ckpt-7`) or several shards (`model.ckpt-7-00000-of-00002`,
named together by the pattern `model.ckpt-7-?????-of-00002`). Each file is a table
(tensorflux.lib.io.table) of SavedTensorSlices messages:

  key b""             SavedTensorSlices{meta: SavedTensorSliceMeta{tensor: [SavedSliceMeta{
                      name, shape, type, slice: [TensorSliceProto]}], versions: VersionDef}}
  key slice_key(...)  SavedTensorSlices{data: SavedSlice{name, slice, data: TensorProto}}

The data keys are the OrderedCode keys V2 uses for slices (tensor_bundle.slice_key): a whole
tensor is saved as the slice "every dimension whole" (start 0, length -1). The TensorProto holds
its values in the typed repeated field (float_val, int_val, ...), without dtype or shape: those
are in the meta entry. The messages are not in tensorboard's protos, so their few fields are
encoded here with tensor_bundle's wire helpers; TensorProto and TensorShapeProto are the real
protos.
"""
import glob
import os

import numpy as np
from google.protobuf import message as protobuf_message

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.lib.io import table
from tensorflux.lib.io import tensor_bundle as tb

META_KEY = b""
_PRODUCER = 1  # VersionDef.producer of TensorFlow's V1 writer

# dtype -> (TensorProto field holding the values, NumPy type those values are stored as)
_VALUE_FIELDS = {
    dtypes.float32: ("float_val", np.float32), dtypes.float64: ("double_val", np.float64),
    dtypes.int32: ("int_val", np.int32), dtypes.int16: ("int_val", np.int32),
    dtypes.int8: ("int_val", np.int32), dtypes.uint8: ("int_val", np.int32),
    dtypes.uint16: ("int_val", np.int32), dtypes.int64: ("int64_val", np.int64),
    dtypes.bool: ("bool_val", np.bool_), dtypes.string: ("string_val", None),
    dtypes.complex64: ("scomplex_val", np.float32),
    dtypes.complex128: ("dcomplex_val", np.float64),
    dtypes.float16: ("half_val", np.uint16), dtypes.bfloat16: ("half_val", np.uint16),
    dtypes.qint8: ("int_val", np.int32), dtypes.quint8: ("int_val", np.int32),
    dtypes.qint32: ("int_val", np.int32),
}


# A SavedSlice is one protobuf message, and protobuf refuses messages of 2 GB or more: TF's V1
# writer checks a conservative bound on the serialized size before encoding a slice. Tests lower
# this limit rather than allocate 2 GB.
MAX_MESSAGE_BYTES = 1 << 31
_PROTO_HEADER_BYTES = 16  # TensorProto's dtype, shape and the SavedSlice field tags, bounded
# The most bytes one element takes in the TensorProto's repeated field, its tag included (a
# value may be written unpacked): a varint is at most 10 bytes, fixed32 4 and fixed64 8.
_MAX_ELEMENT_BYTES = {"float_val": 5, "double_val": 9, "int_val": 11, "int64_val": 11,
                      "bool_val": 2, "half_val": 4, "scomplex_val": 10, "dcomplex_val": 18,
                      "string_val": 11}  # strings: tag and length varint, plus their bytes


def _check_serializable(name, tensor_slice, array, dtype, path):
    """InvalidArgumentError, as TF's writer, when the slice's message may reach 2 GB."""
    field, _ = _VALUE_FIELDS[dtype]
    count = _count(np.shape(array))
    bound = (len(name.encode("utf-8")) + len(tensor_slice.serialize()) + _PROTO_HEADER_BYTES
             + _MAX_ELEMENT_BYTES[field] * count)
    if dtype == dtypes.string:
        bound += sum(len(tb._as_bytes(x)) for x in np.asarray(array).reshape(-1))
    if bound > MAX_MESSAGE_BYTES:
        raise errors.InvalidArgumentError(
            None, None, f"Tensor slice is too large to serialize (conservative estimate: "
                        f"{bound} bytes): tensor {name} of dtype {dtype.name} and shape "
                        f"{list(np.shape(array))} in V1 checkpoint {path}; the V2 format "
                        f"(Saver's default write_version) has no such limit")


# ---- values <-> TensorProto ---------------------------------------------------------------------
def _value_proto(array, dtype):
    field, stored = _VALUE_FIELDS[dtype]
    proto = protos.TensorProto()
    flat = np.asarray(array).reshape(-1)
    if dtype == dtypes.string:
        proto.string_val.extend(tb._as_bytes(x) for x in flat)
    elif dtype.is_complex:
        pairs = np.stack([flat.real, flat.imag], axis=-1).reshape(-1)
        getattr(proto, field).extend(pairs.astype(stored).tolist())
    elif dtype in (dtypes.float16, dtypes.bfloat16):  # the bit patterns, as TF stores halves
        bits = np.ascontiguousarray(flat, dtype.as_numpy_dtype).view(np.uint16)
        proto.half_val.extend(bits.astype(np.int32).tolist())
    else:
        getattr(proto, field).extend(flat.astype(stored).tolist())
    return proto


def _count(shape):
    """Elements of `shape`, in Python ints (NumPy's int64 product wraps for lying shapes)."""
    count = 1
    for d in shape:
        count *= int(d)
    return count


def _array_from_proto(proto, dtype, shape, what):
    field, stored = _VALUE_FIELDS[dtype]
    count = _count(shape)
    values = getattr(proto, field)
    if len(values) != count * (2 if dtype.is_complex else 1):
        raise ValueError(f"{what}: {len(values)} values stored for a slice of shape "
                         f"{list(shape)}")
    values = list(values)
    if dtype.is_complex:
        pairs = np.asarray(values, stored).reshape(-1, 2)
        flat = (pairs[:, 0] + 1j * pairs[:, 1]).astype(dtype.as_numpy_dtype)
    elif dtype == dtypes.string:
        flat = np.empty(len(values), dtype=object)
        flat[:] = values
    elif dtype in (dtypes.float16, dtypes.bfloat16):
        flat = np.asarray(values, np.uint16).view(dtype.as_numpy_dtype)
    else:
        flat = np.asarray(values, stored).astype(dtype.as_numpy_dtype)
    if flat.size != count:
        raise ValueError(f"{what}: {flat.size} values stored for a slice of shape {list(shape)}")
    return flat.reshape(shape)


# ---- the two messages ---------------------------------------------------------------------------
def _meta_bytes(tensors):
    """SavedTensorSlices{meta} for {name: (dtype, full_shape, [TensorSlice])}."""
    body = b""
    for name in sorted(tensors):
        dtype, shape, slices = tensors[name]
        shape_proto = protos.TensorShapeProto(
            dim=[protos.TensorShapeProto.Dim(size=d) for d in shape])
        one = (tb._bytes_field(1, name.encode("utf-8"))
               + tb._bytes_field(2, shape_proto.SerializeToString())
               + tb._int_field(3, dtype.as_datatype_enum))
        for s in slices:
            one += tb._bytes_field(4, s.serialize())
        body += tb._bytes_field(1, one)
    body += tb._bytes_field(2, protos.VersionDef(producer=_PRODUCER).SerializeToString())
    return tb._bytes_field(1, body)


def _data_bytes(name, tensor_slice, proto):
    """SavedTensorSlices{data: SavedSlice{name, slice, data}}."""
    saved = (tb._bytes_field(1, name.encode("utf-8")) + tb._bytes_field(2, tensor_slice.serialize())
             + tb._bytes_field(3, proto.SerializeToString()))
    return tb._bytes_field(2, saved)


def _fields(data, field):
    return [bytes(v) for f, w, v in tb._parse_fields(data) if f == field and w == 2]


def _parse_meta(data):
    """{name: (dtype, shape, [TensorSlice])} from the meta entry's bytes."""
    out = {}
    for meta in _fields(data, 1):
        for one in _fields(meta, 1):
            name, shape, enum, slices = "", [], 0, []
            for f, _, v in tb._parse_fields(one):
                if f == 1:
                    name = bytes(v).decode("utf-8")
                elif f == 2:
                    shape = tb._parse_shape(v)
                elif f == 3:
                    enum = v
                elif f == 4:
                    slices.append(tb.TensorSlice.parse(v))
            out[name] = (dtypes.as_dtype(enum), shape, slices)
    return out


def _parse_data(data):
    """(name, TensorSlice, TensorProto) of a data entry."""
    (saved,) = _fields(data, 2)
    name, tensor_slice, proto = "", tb.TensorSlice([]), protos.TensorProto()
    for f, _, v in tb._parse_fields(saved):
        if f == 1:
            name = bytes(v).decode("utf-8")
        elif f == 2:
            tensor_slice = tb.TensorSlice.parse(v)
        elif f == 3:
            proto = protos.TensorProto.FromString(bytes(v))
    return name, tensor_slice, proto


# ---- writing ------------------------------------------------------------------------------------
class V1Writer:
    """Writes one V1 checkpoint file: `add` whole tensors and `add_slice` slices, then
    `finish` (the file appears at once, via a temp file and a rename)."""

    def __init__(self, path):
        self.path = str(path)
        self._tensors = {}
        self._entries = {}

    def add(self, name, array, dtype=None):
        array = np.asarray(array)
        self.add_slice(name, array.shape, tb.TensorSlice.full(array.ndim), array, dtype)

    def add_slice(self, name, full_shape, tensor_slice, array, dtype=None):
        dtype = tb._bundle_dtype(np.asarray(array), dtype)
        if dtype not in _VALUE_FIELDS:
            raise errors.UnimplementedError(None, None, f"V1 checkpoints cannot hold "
                                                        f"{dtype.name} tensor {name}")
        full_shape = [int(d) for d in full_shape]
        known = self._tensors.setdefault(name, (dtype, full_shape, []))
        if known[:2] != (dtype, full_shape):
            raise errors.InvalidArgumentError(
                None, None, f"Tensor {name} saved as {known[0].name}{known[1]} and as "
                            f"{dtype.name}{full_shape}")
        expected = [n for _, n in tensor_slice.resolved(full_shape)]
        if list(np.shape(array)) != expected:
            raise errors.InvalidArgumentError(
                None, None, f"Slice {tensor_slice!r} of {name} has shape {expected}, the value "
                            f"has shape {list(np.shape(array))}")
        _check_serializable(name, tensor_slice, array, dtype, self.path)
        known[2].append(tensor_slice)
        key = tb.slice_key(name, tensor_slice.extents)
        self._entries[key] = _data_bytes(name, tensor_slice, _value_proto(array, dtype))

    def finish(self):
        items = [(META_KEY, _meta_bytes(self._tensors))] + sorted(self._entries.items())
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        tb.write_atomically(self.path, table.build_table(items))


# ---- reading ------------------------------------------------------------------------------------
def matching_files(pattern):
    """The files of the V1 checkpoint `pattern`: the file itself, or the shards a
    `-?????-of-N` pattern matches (sorted)."""
    pattern = str(pattern)
    if os.path.isfile(pattern):
        return [pattern]
    if glob.has_magic(pattern):
        return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
    return []


def is_v1_checkpoint(pattern):
    """Whether `pattern` names V1 checkpoint files (and no V2 checkpoint)."""
    return (not os.path.isfile(tb.index_filename(str(pattern)))
            and bool(matching_files(pattern)))


class V1Reader:
    """Reads a V1 checkpoint (one file or a pattern of shards), as tensor_bundle.BundleReader
    reads V2: `has_tensor`, `dtype`, `shape`, `lookup`, `lookup_slice`, `tensor_names`."""

    def __init__(self, pattern):
        self.prefix = str(pattern)
        files = matching_files(pattern)
        if not files:
            raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: "
                                                   f"Failed to find any matching files for "
                                                   f"{pattern}")
        self._meta = {}
        self._slices = {}  # name -> [(TensorSlice, TensorProto)]
        for path in files:
            self._read_file(path)

    def _read_file(self, path):
        tab = table.open_table(path)
        try:
            for key, value in tab.items():
                if key == META_KEY:
                    self._meta.update(_parse_meta(value))
                else:
                    name, tensor_slice, proto = _parse_data(value)
                    self._slices.setdefault(name, []).append((tensor_slice, proto))
            for name, (dtype, _, _) in self._meta.items():
                if dtype not in _VALUE_FIELDS:
                    raise ValueError(f"tensor {name} has dtype {dtype.name}, which V1 "
                                     "checkpoints cannot hold")
        except (ValueError, KeyError, TypeError, protobuf_message.DecodeError) as e:
            raise errors.DataLossError(None, None, f"Unable to read V1 checkpoint {path}: "
                                                   f"{e}") from None

    def tensor_names(self):
        return sorted(self._meta)

    def has_tensor(self, name):
        return name in self._meta

    def dtype(self, name):
        return self._meta[name][0]

    def shape(self, name):
        return list(self._meta[name][1])

    def lookup(self, name):
        """The whole tensor `name`, assembled from its saved slices.

        The slices are decoded and checked before the tensor is allocated, so a meta entry
        claiming a shape far larger than the values stored is DataLossError, not a giant
        allocation."""
        dtype, shape, _ = self._meta[name]
        what = f"{self.prefix}:{name}"
        try:
            parts = [(tuple(slice(s, s + n) for s, n in extents),
                      _array_from_proto(proto, dtype, [n for _, n in extents], what))
                     for extents, proto in self._resolved_slices(name, shape)]
        except ValueError as e:
            raise errors.DataLossError(None, None, f"Unable to read V1 checkpoint: {e}") \
                from None
        if sum(value.size for _, value in parts) < _count(shape):
            raise errors.DataLossError(None, None, f"V1 checkpoint {self.prefix} does not hold "
                                                   f"every element of {name} {shape}")
        out = np.zeros(shape, dtype=object if dtype == dtypes.string else dtype.as_numpy_dtype)
        covered = np.zeros(shape, dtype=bool)
        for where, value in parts:
            out[where] = value
            covered[where] = True
        if not covered.all():
            raise errors.DataLossError(None, None, f"V1 checkpoint {self.prefix} does not hold "
                                                   f"every element of {name}")
        return out

    def _resolved_slices(self, name, shape):
        return [(tensor_slice.resolved(shape), proto)
                for tensor_slice, proto in self._slices.get(name, [])]

    def lookup_slice(self, name, tensor_slice):
        try:
            extents = tensor_slice.resolved(self.shape(name))
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, f"Requested slice {tensor_slice} of "
                                                          f"{name}: {e}") from None
        where = tuple(slice(s, s + n) for s, n in extents)
        return np.ascontiguousarray(self.lookup(name)[where])
