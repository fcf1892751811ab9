"""Parsing ops: DecodeRaw, DecodeCSV, StringToNumber and ParseExample (tf.train.Example).

    image = tf.decode_raw(value, tf.uint8)
    col1, col2 = tf.decode_csv(line, record_defaults=[[0], [""]])
    parsed = tf.parse_single_example(serialized, {
        "label": tf.FixedLenFeature([], tf.int64),
        "tags": tf.VarLenFeature(tf.string)})     # a SparseTensor
"""
import collections
import csv

import numpy as np

from tensorflux.framework import dtypes, errors, example_protos, ops, registry, tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops, slicing_ops

__all__ = [
    "FixedLenFeature",
    "SparseTensor",
    "SparseTensorValue",
    "VarLenFeature",
    "decode_csv",
    "decode_raw",
    "parse_example",
    "parse_single_example",
    "string_to_number",
]


# ---- SparseTensor ---------------------------------------------------------------------------
class SparseTensorValue(collections.namedtuple("SparseTensorValue",
                                               ["indices", "values", "dense_shape"])):
    """The value of a SparseTensor: int64 indices [N, rank], values [N], dense_shape [rank]."""

    @property
    def shape(self):  # TF 0.9's name for dense_shape
        return self.dense_shape


class SparseTensor:
    """A sparse tensor as three dense tensors: indices, values and dense_shape."""

    def __init__(self, indices, values, dense_shape=None, shape=None):
        dense_shape = shape if dense_shape is None else dense_shape
        self._indices = ops.convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
        self._values = ops.convert_to_tensor(values, name="values")
        self._dense_shape = ops.convert_to_tensor(dense_shape, dtype=dtypes.int64,
                                                  name="dense_shape")

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    shape = property(lambda self: self._dense_shape)  # TF 0.9's name
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)

    def get_shape(self):
        """The static dense shape (known when dense_shape is a constant)."""
        from tensorflux.framework import tensor_util
        return tensor_util.constant_value_as_shape(self._dense_shape)

    def eval(self, feed_dict=None, session=None):
        """Runs the three parts; returns a SparseTensorValue."""
        session = session or ops.get_default_session()
        return session.run(self, feed_dict)

    # Session.run fetches and feeds composite values through these two hooks.
    def _fetch_components(self):
        return (self._indices, self._values, self._dense_shape)

    @staticmethod
    def _fetch_rebuild(parts):
        return SparseTensorValue(*parts)

    def _feed_pairs(self):
        return self._fetch_components()

    def __repr__(self):
        return (f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")


# ---- DecodeRaw ------------------------------------------------------------------------------
_RAW_TYPES = frozenset({dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32,
                        dtypes.uint16, dtypes.uint8, dtypes.int16, dtypes.int8, dtypes.int64})
DecodeRaw = registry.register_op("DecodeRaw", inputs=["bytes: string"],
                                 outputs=["output: out_type"],
                                 attrs={"out_type": _RAW_TYPES, "little_endian": True})
DecodeRaw.not_differentiable()


@DecodeRaw.shape
def _decode_raw_shape(op):
    return op.inputs[0].get_shape().concatenate([None])


@DecodeRaw.kernel("CPU")
def _decode_raw_kernel(ctx, data):
    np_dtype = np.dtype(ctx.attrs["out_type"].as_numpy_dtype)
    flat = [bytes(b) for b in np.asarray(data, dtype=object).reshape(-1)]
    lengths = {len(b) for b in flat}
    if len(lengths) > 1:
        raise errors.InvalidArgumentError(
            None, None, f"DecodeRaw requires input strings to all be the same size, got sizes "
                        f"{sorted(lengths)[:5]}")
    length = lengths.pop() if lengths else 0
    if length % np_dtype.itemsize:
        raise errors.InvalidArgumentError(
            None, None, f"Input to DecodeRaw has length {length} that is not a multiple of "
                        f"{np_dtype.itemsize}, the size of {np_dtype}")
    order = "<" if ctx.attrs["little_endian"] else ">"
    values = np.frombuffer(b"".join(flat), dtype=np_dtype.newbyteorder(order))
    shape = np.shape(data) + (length // np_dtype.itemsize,)
    return values.astype(np_dtype, copy=True).reshape(shape)


def decode_raw(bytes, out_type, little_endian=True, name=None):
    """Reinterprets the bytes of each string as a vector of `out_type` numbers."""
    return apply_op("DecodeRaw", bytes, out_type=out_type, little_endian=little_endian,
                    name=name)


# ---- StringToNumber -------------------------------------------------------------------------
_NUMBER_TYPES = frozenset({dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64})
StringToNumber = registry.register_op("StringToNumber", inputs=["string_tensor: string"],
                                      outputs=["output: out_type"],
                                      attrs={"out_type": registry.Attr(
                                          "type", dtypes.float32, sorted(
                                              _NUMBER_TYPES, key=lambda d: d.name))})
StringToNumber.not_differentiable()
StringToNumber.shape(lambda op: op.inputs[0].get_shape())


def _to_number(text, dtype, what):
    text = text.decode() if isinstance(text, bytes) else str(text)
    try:
        value = float(text) if dtype.is_floating else int(text.strip())
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"{what}: {text!r} is not a valid {dtype.name}") from None
    if dtype.is_integer and not dtype.min <= value <= dtype.max:
        raise errors.InvalidArgumentError(None, None, f"{what}: {text!r} is out of range for "
                                                      f"{dtype.name}")
    return value


@StringToNumber.kernel("CPU")
def _string_to_number_kernel(ctx, strings):
    dtype = ctx.attrs["out_type"]
    flat = np.asarray(strings, dtype=object).reshape(-1)
    values = [_to_number(s, dtype, "StringToNumber") for s in flat]
    return np.array(values, dtype=dtype.as_numpy_dtype).reshape(np.shape(strings))


def string_to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parses each string as a number of type `out_type` (InvalidArgumentError if it is not)."""
    return apply_op("StringToNumber", string_tensor, out_type=out_type, name=name)


# ---- DecodeCSV --------------------------------------------------------------------------------
_CSV_TYPES = registry.Attr("list(type)")
DecodeCSV = registry.register_op(
    "DecodeCSV", inputs=["records: string", "record_defaults: OUT_TYPE"],
    outputs=["output: OUT_TYPE"],
    attrs={"OUT_TYPE": _CSV_TYPES, "field_delim": ",", "use_quote_delim": True,
           "na_value": ""})
DecodeCSV.not_differentiable()


@DecodeCSV.shape
def _decode_csv_shape(op):
    for i, default in enumerate(op.inputs[1:]):
        if default.get_shape().ndims not in (None, 0, 1):
            raise ValueError(f"record_defaults[{i}] must be a scalar or a vector of at most one "
                             f"element, got shape {default.get_shape()}")
    return [op.inputs[0].get_shape()] * (len(op.inputs) - 1)


def _split_records(records, delim, quoted):
    texts = [r.decode() if isinstance(r, bytes) else str(r) for r in records]
    if quoted:
        return list(csv.reader(texts, delimiter=delim, quotechar='"', strict=True))
    return [t.split(delim) for t in texts]


def _csv_column(rows, i, dtype, default, na_value):
    out = []
    for j, row in enumerate(rows):
        field = row[i]
        if field == "" or (na_value and field == na_value):
            if default.size == 0:
                raise errors.InvalidArgumentError(
                    None, None, f"Field {i} is required but missing in record {j}!")
            out.append(default.reshape(-1)[0])
        elif dtype == dtypes.string:
            out.append(field.encode())
        else:
            out.append(_to_number(field, dtype, f"Field {i} in record {j}"))
    return out


@DecodeCSV.kernel("CPU")
def _decode_csv_kernel(ctx, records, *defaults):
    attrs = ctx.attrs
    flat = np.asarray(records, dtype=object).reshape(-1)
    try:
        rows = _split_records(flat, attrs["field_delim"], attrs["use_quote_delim"])
    except csv.Error as e:
        raise errors.InvalidArgumentError(None, None, f"Malformed CSV record: {e}") from None
    for j, row in enumerate(rows):
        if len(row) != len(defaults):
            raise errors.InvalidArgumentError(
                None, None, f"Expect {len(defaults)} fields but have {len(row)} in record {j}")
    outputs = []
    for i, (dtype, default) in enumerate(zip(attrs["OUT_TYPE"], defaults)):
        column = _csv_column(rows, i, dtype, np.asarray(default), attrs["na_value"])
        array = np.empty(len(column), dtype=dtype.as_numpy_dtype)
        array[:] = column
        outputs.append(array.reshape(np.shape(records)))
    return tuple(outputs) if len(outputs) > 1 else outputs[0]


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value=""):
    """Splits CSV lines into columns, typed like `record_defaults` (one list per column).

    A column whose default is an empty list is required.
    """
    defaults = [ops.convert_to_tensor(d, name=f"record_default_{i}")
                if not (isinstance(d, (list, tuple)) and not d) else
                ops.convert_to_tensor(np.zeros([0], np.float32), name=f"record_default_{i}")
                for i, d in enumerate(record_defaults)]
    return apply_op("DecodeCSV", records, defaults, field_delim=field_delim,
                    use_quote_delim=use_quote_delim, na_value=na_value, name=name)


# ---- ParseExample -----------------------------------------------------------------------------
_EXAMPLE_TYPES = (dtypes.float32, dtypes.int64, dtypes.string)
_KIND_OF = {dtypes.float32: "float_list", dtypes.int64: "int64_list",
            dtypes.string: "bytes_list"}
ParseExample = registry.register_op(
    "ParseExample",
    inputs=["serialized: string", "names: string", "sparse_keys: Nsparse * string",
            "dense_keys: Ndense * string", "dense_defaults: Tdense"],
    outputs=["sparse_indices: Nsparse * int64", "sparse_values: sparse_types",
             "sparse_shapes: Nsparse * int64", "dense_values: Tdense"],
    attrs={"Nsparse": 0, "Ndense": 0, "sparse_types": registry.Attr("list(type)"),
           "Tdense": registry.Attr("list(type)"), "dense_shapes": registry.Attr("list(shape)")})
ParseExample.not_differentiable()


@ParseExample.shape
def _parse_example_shape(op):
    batch = op.inputs[0].get_shape().with_rank(1)
    n_sparse = op.get_attr("Nsparse")
    sparse = ([tensor_shape.matrix(None, 2)] * n_sparse + [tensor_shape.vector(None)] * n_sparse
              + [tensor_shape.vector(2)] * n_sparse)
    dense = [batch.concatenate(tensor_shape.as_shape(s)) for s in op.get_attr("dense_shapes")]
    return sparse + dense


def _feature_values(example, key, dtype, where):
    """The values of feature `key` as a list (None if the example lacks the feature)."""
    features = example.features.feature
    if key not in features:
        return None
    feature = features[key]
    kind = feature.WhichOneof("kind")
    if kind is None:
        return []
    if kind != _KIND_OF[dtype]:
        raise errors.InvalidArgumentError(
            None, None, f"{where}, Feature: {key}. Data types don't match. Expected type: "
                        f"{_KIND_OF[dtype]} ({dtype.name}), Actual type: {kind}")
    return list(getattr(feature, kind).value)


def _parse_all(serialized, names):
    examples = []
    for b, data in enumerate(serialized):
        try:
            examples.append(example_protos.Example.FromString(bytes(data)))
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            raise errors.InvalidArgumentError(
                None, None, f"Could not parse example input {b} (name: "
                            f"{_name(names, b)!r}), value: {bytes(data)[:40]!r}") from None
    return examples


def _name(names, b):
    if len(names) > b:
        value = names[b]
        return value.decode() if isinstance(value, bytes) else str(value)
    return "<unknown>"


def _dense_column(examples, names, key, dtype, shape, default):
    size = int(np.prod(shape, dtype=np.int64))
    out = np.empty([len(examples)] + list(shape), dtype=dtype.as_numpy_dtype)
    for b, example in enumerate(examples):
        where = f"Name: {_name(names, b)}"
        values = _feature_values(example, key, dtype, where)
        if values is None:
            if default.size == 0:
                raise errors.InvalidArgumentError(
                    None, None, f"{where}, Feature: {key} (data type: {dtype.name}) is required "
                                "but could not be found.")
            out[b] = np.broadcast_to(default, shape)
        elif len(values) != size:
            raise errors.InvalidArgumentError(
                None, None, f"{where}, Key: {key}, Index: {b}. Number of {dtype.name} values "
                            f"!= expected. values size: {len(values)} but output shape: "
                            f"{list(shape)}")
        else:
            out[b] = np.array(values, dtype=out.dtype).reshape(shape)
    return out


def _sparse_column(examples, names, key, dtype):
    lists = [_feature_values(e, key, dtype, f"Name: {_name(names, b)}") or []
             for b, e in enumerate(examples)]
    return ragged_to_sparse(lists, dtype)


def ragged_to_sparse(lists, dtype):
    """Lists of values (one a row) as a SparseTensor's (indices, values, dense_shape) arrays."""
    counts = [len(v) for v in lists]
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), counts)
    cols = np.concatenate([np.arange(c, dtype=np.int64) for c in counts]) if counts else \
        np.zeros(0, np.int64)
    values = np.empty(sum(counts), dtype=dtype.as_numpy_dtype)
    values[:] = [v for vs in lists for v in vs]
    shape = np.array([len(lists), max(counts, default=0)], dtype=np.int64)
    return np.stack([rows, cols], axis=1).reshape(-1, 2), values, shape


@ParseExample.kernel("CPU")
def _parse_example_kernel(ctx, serialized, names, *rest):
    attrs = ctx.attrs
    n_sparse, n_dense = attrs["Nsparse"], attrs["Ndense"]
    if np.ndim(serialized) != 1:
        raise errors.InvalidArgumentError(None, None, f"serialized must be a vector, got shape "
                                                      f"{list(np.shape(serialized))}")
    names = list(np.asarray(names, dtype=object).reshape(-1))
    sparse_keys = [_key_text(k) for k in rest[:n_sparse]]
    dense_keys = [_key_text(k) for k in rest[n_sparse:n_sparse + n_dense]]
    defaults = rest[n_sparse + n_dense:]
    examples = _parse_all(serialized, names)
    sparse = [_sparse_column(examples, names, k, t)
              for k, t in zip(sparse_keys, attrs["sparse_types"])]
    dense = [_dense_column(examples, names, k, t, tensor_shape.as_shape(s).as_list(),
                           np.asarray(d))
             for k, t, s, d in zip(dense_keys, attrs["Tdense"], attrs["dense_shapes"],
                                   defaults)]
    outputs = [s[0] for s in sparse] + [s[1] for s in sparse] + [s[2] for s in sparse] + dense
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _key_text(key):
    key = np.asarray(key, dtype=object).item()
    return key.decode() if isinstance(key, bytes) else str(key)


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A feature of fixed shape: parsed to a dense tensor [batch] + shape."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature of any length: parsed to a SparseTensor [batch, max_length]."""


def _check_feature_dtype(key, dtype):
    dtype = dtypes.as_dtype(dtype)
    if dtype not in _EXAMPLE_TYPES:
        raise ValueError(f"Feature {key!r}: dtype must be one of float32, int64, string; got "
                         f"{dtype.name}")
    return dtype


def _dense_default(key, feature):
    dtype = _check_feature_dtype(key, feature.dtype)
    shape = tensor_shape.as_shape(feature.shape)
    if not shape.is_fully_defined():
        raise ValueError(f"FixedLenFeature {key!r} needs a fully defined shape, got {shape}")
    if feature.default_value is None:
        return ops.convert_to_tensor(np.zeros([0], dtype.as_numpy_dtype)
                                     if dtype != dtypes.string else np.array([], object),
                                     dtype=dtype, name=f"key_{key}")
    value = np.asarray(feature.default_value, dtype=dtype.as_numpy_dtype)
    try:
        value = np.broadcast_to(value, shape.as_list()) if value.size == 1 else \
            value.reshape(shape.as_list())
    except ValueError:
        raise ValueError(f"FixedLenFeature {key!r}: default_value of shape {value.shape} does "
                         f"not fit shape {shape}") from None
    return ops.convert_to_tensor(np.array(value), dtype=dtype, name=f"key_{key}")


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a vector of serialized tf.train.Example protos.

    Args:
      serialized: a string vector of serialized Examples.
      features: a dict of feature key -> FixedLenFeature or VarLenFeature.
      example_names: optional string vector naming the examples (for error messages).

    Returns:
      A dict of key -> Tensor (FixedLenFeature: [batch] + shape) or SparseTensor
      (VarLenFeature: [batch, max_length]).
    """
    if not features:
        raise ValueError("Missing: features was empty")
    sparse_keys = sorted(k for k, f in features.items() if isinstance(f, VarLenFeature))
    dense_keys = sorted(k for k, f in features.items() if isinstance(f, FixedLenFeature))
    unknown = set(features) - set(sparse_keys) - set(dense_keys)
    if unknown:
        raise ValueError(f"Unsupported feature configuration for keys {sorted(unknown)}: use "
                         "FixedLenFeature or VarLenFeature")
    with ops.name_scope(name, "ParseExample", [serialized]) as scope:
        names = example_names if example_names is not None else np.array([], dtype=object)
        defaults = [_dense_default(k, features[k]) for k in dense_keys]
        outputs = apply_op(
            "ParseExample", serialized, names, list(sparse_keys), list(dense_keys), defaults,
            sparse_types=[_check_feature_dtype(k, features[k].dtype) for k in sparse_keys],
            Tdense=[d.dtype for d in defaults],
            dense_shapes=[tensor_shape.as_shape(features[k].shape) for k in dense_keys],
            name=scope)
    return _collect_parsed(outputs, sparse_keys, dense_keys)


def _collect_parsed(outputs, sparse_keys, dense_keys):
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    flat = [t for group in outputs for t in (group if isinstance(group, list) else [group])]
    n = len(sparse_keys)
    result = {}
    for i, key in enumerate(sparse_keys):
        result[key] = SparseTensor(flat[i], flat[n + i], flat[2 * n + i])
    for i, key in enumerate(dense_keys):
        result[key] = flat[3 * n + i]
    return result


def parse_single_example(serialized, features, name=None, example_names=None,
                         example_name=None):
    """Parses one serialized Example (a string scalar): dense [shape], sparse [max_length]."""
    example_name = example_name if example_name is not None else example_names
    with ops.name_scope(name, "ParseSingleExample", [serialized]):
        batch = array_ops.reshape(serialized, [1])
        names = None if example_name is None else array_ops.reshape(example_name, [1])
        parsed = parse_example(batch, features, example_names=names)
        result = {}
        for key, value in parsed.items():
            if isinstance(value, SparseTensor):
                result[key] = SparseTensor(
                    slicing_ops.slice(value.indices, [0, 1], [-1, 1]), value.values,
                    slicing_ops.slice(value.dense_shape, [1], [1]))
            else:
                result[key] = array_ops.squeeze(value, [0])
        return result
