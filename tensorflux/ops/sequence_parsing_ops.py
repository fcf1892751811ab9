"""tf.train.SequenceExample parsing (`tf.parse_single_sequence_example`, ParseSingleSequence-
Example) and `tf.decode_json_example` (DecodeJSONExample).

A SequenceExample has `context` features (parsed as parse_example parses an Example's) and
`feature_lists`: per key a list of Features, one per time step. A FixedLenSequenceFeature
parses to a dense [steps] + shape tensor, a VarLenFeature to a SparseTensor [steps, max_len].
A missing feature list is an error unless its FixedLenSequenceFeature says allow_missing
(then it has 0 steps).
"""
import collections

import numpy as np
from google.protobuf import json_format

from tensorflux.framework import dtypes, errors, example_protos, ops, registry, tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import parsing_ops

__all__ = ["FixedLenSequenceFeature", "parse_single_sequence_example", "decode_json_example"]


class FixedLenSequenceFeature(collections.namedtuple("FixedLenSequenceFeature",
                                                     ["shape", "dtype", "allow_missing"])):
    """A feature list whose steps each hold a fixed shape: parsed to [steps] + shape."""

    def __new__(cls, shape, dtype, allow_missing=False):
        return super().__new__(cls, shape, dtype, allow_missing)


# ---- ParseSingleSequenceExample -------------------------------------------------------------
ParseSingleSequenceExample = registry.register_op(
    "ParseSingleSequenceExample",
    inputs=["serialized: string", "feature_list_dense_missing_assumed_empty: string",
            "context_sparse_keys: Ncontext_sparse * string",
            "context_dense_keys: Ncontext_dense * string",
            "feature_list_sparse_keys: Nfeature_list_sparse * string",
            "feature_list_dense_keys: Nfeature_list_dense * string",
            "context_dense_defaults: Tcontext_dense", "debug_name: string"],
    outputs=["context_sparse_indices: Ncontext_sparse * int64",
             "context_sparse_values: context_sparse_types",
             "context_sparse_shapes: Ncontext_sparse * int64",
             "context_dense_values: Tcontext_dense",
             "feature_list_sparse_indices: Nfeature_list_sparse * int64",
             "feature_list_sparse_values: feature_list_sparse_types",
             "feature_list_sparse_shapes: Nfeature_list_sparse * int64",
             "feature_list_dense_values: feature_list_dense_types"],
    attrs={"Ncontext_sparse": 0, "Ncontext_dense": 0, "Nfeature_list_sparse": 0,
           "Nfeature_list_dense": 0, "context_sparse_types": registry.Attr("list(type)", []),
           "Tcontext_dense": registry.Attr("list(type)", []),
           "feature_list_dense_types": registry.Attr("list(type)", []),
           "context_dense_shapes": registry.Attr("list(shape)", []),
           "feature_list_sparse_types": registry.Attr("list(type)", []),
           "feature_list_dense_shapes": registry.Attr("list(shape)", [])})
ParseSingleSequenceExample.not_differentiable()


@ParseSingleSequenceExample.shape
def _parse_sequence_shape(op):
    op.inputs[0].get_shape().with_rank(0)
    n_cs, n_fs = op.get_attr("Ncontext_sparse"), op.get_attr("Nfeature_list_sparse")
    for attr, count in (("context_sparse_types", "Ncontext_sparse"),
                        ("context_dense_shapes", "Ncontext_dense"),
                        ("Tcontext_dense", "Ncontext_dense"),
                        ("feature_list_sparse_types", "Nfeature_list_sparse"),
                        ("feature_list_dense_shapes", "Nfeature_list_dense"),
                        ("feature_list_dense_types", "Nfeature_list_dense")):
        if len(op.get_attr(attr)) != op.get_attr(count):
            raise ValueError(f"len({attr}) != {count}: {len(op.get_attr(attr))} vs. "
                             f"{op.get_attr(count)} for '{op.name}' (op: '{op.type}')")
    context_sparse = _sparse_shapes(n_cs, 1)
    context_dense = [tensor_shape.as_shape(s) for s in op.get_attr("context_dense_shapes")]
    list_sparse = _sparse_shapes(n_fs, 2)
    list_dense = [tensor_shape.vector(None).concatenate(tensor_shape.as_shape(s))
                  for s in op.get_attr("feature_list_dense_shapes")]
    return context_sparse + context_dense + list_sparse + list_dense


def _sparse_shapes(n, rank):
    return ([tensor_shape.matrix(None, rank)] * n + [tensor_shape.vector(None)] * n
            + [tensor_shape.vector(rank)] * n)


def _keys(values):
    return [parsing_ops._key_text(k) for k in values]


def _parse_sequence_example(serialized, name):
    try:
        return example_protos.SequenceExample.FromString(bytes(serialized))
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise errors.InvalidArgumentError(
            None, None, f"Could not parse example input, value: '{bytes(serialized)[:40]!r}'"
                        f" (name: {name})") from None


def _step_values(feature, dtype, where):
    kind = feature.WhichOneof("kind")
    if kind is None:
        return []
    if kind != parsing_ops._KIND_OF[dtype]:
        raise errors.InvalidArgumentError(
            None, None, f"{where}. Data types don't match. Expected type: "
                        f"{parsing_ops._KIND_OF[dtype]} ({dtype.name}), Actual type: {kind}")
    return list(getattr(feature, kind).value)


def _list_dense(seq, key, dtype, shape, assumed_empty, name):
    lists = seq.feature_lists.feature_list
    size = int(np.prod(shape, dtype=np.int64))
    if key not in lists:
        if key not in assumed_empty:
            raise errors.InvalidArgumentError(
                None, None, f"Name: {name}, Feature list '{key}' is required but could not be "
                            "found.  Did you mean to include it in "
                            "feature_list_dense_missing_assumed_empty or "
                            "feature_list_dense_defaults?")
        return np.zeros([0] + shape, dtype.as_numpy_dtype)
    steps = lists[key].feature
    out = np.empty([len(steps)] + shape, dtype=dtype.as_numpy_dtype)
    for t, feature in enumerate(steps):
        where = f"Name: {name}, Feature list: {key}, Index: {t}"
        values = _step_values(feature, dtype, where)
        if len(values) != size:
            raise errors.InvalidArgumentError(
                None, None, f"{where}.  Number of {dtype.name} values != expected.  values "
                            f"size: {len(values)} but output shape: {shape}")
        out[t] = np.array(values, dtype=out.dtype).reshape(shape)
    return out


def _list_sparse(seq, key, dtype, name):
    lists = seq.feature_lists.feature_list
    steps = lists[key].feature if key in lists else []
    per_step = [_step_values(f, dtype, f"Name: {name}, Feature list: {key}, Index: {t}")
                for t, f in enumerate(steps)]
    return parsing_ops.ragged_to_sparse(per_step, dtype)


def _context_sparse(example, key, dtype, name):
    indices, values, shape = parsing_ops._sparse_column([example], [name], key, dtype)
    return indices[:, 1:], values, shape[1:]


@ParseSingleSequenceExample.kernel("CPU")
def _parse_sequence_kernel(ctx, serialized, assumed_empty, *rest):
    a = ctx.attrs
    counts = [a["Ncontext_sparse"], a["Ncontext_dense"], a["Nfeature_list_sparse"],
              a["Nfeature_list_dense"]]
    bounds = np.cumsum([0] + counts)
    cs_keys, cd_keys, fs_keys, fd_keys = (_keys(rest[bounds[i]:bounds[i + 1]])
                                          for i in range(4))
    defaults, debug_name = rest[bounds[4]:-1], parsing_ops._key_text(rest[-1]) or "<unknown>"
    seq = _parse_sequence_example(serialized.item() if np.ndim(serialized) == 0 else serialized,
                                  debug_name)
    context = example_protos.Example(features=seq.context)
    cs = [_context_sparse(context, k, t, debug_name)
          for k, t in zip(cs_keys, a["context_sparse_types"])]
    cd = [parsing_ops._dense_column([context], [debug_name], k, t,
                                    tensor_shape.as_shape(s).as_list(), np.asarray(d))[0]
          for k, t, s, d in zip(cd_keys, a["Tcontext_dense"], a["context_dense_shapes"],
                                defaults)]
    fs = [_list_sparse(seq, k, t, debug_name)
          for k, t in zip(fs_keys, a["feature_list_sparse_types"])]
    empty = set(_keys(np.asarray(assumed_empty, dtype=object).reshape(-1)))
    fd = [_list_dense(seq, k, t, tensor_shape.as_shape(s).as_list(), empty, debug_name)
          for k, t, s in zip(fd_keys, a["feature_list_dense_types"],
                             a["feature_list_dense_shapes"])]
    outputs = ([s[i] for i in range(3) for s in cs] if cs else []) + cd + \
        ([s[i] for i in range(3) for s in fs] if fs else []) + fd
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _split(features, dense_types):
    features = features or {}
    sparse = sorted(k for k, f in features.items() if isinstance(f, parsing_ops.VarLenFeature))
    dense = sorted(k for k, f in features.items() if isinstance(f, dense_types))
    unknown = set(features) - set(sparse) - set(dense)
    if unknown:
        raise ValueError(f"Unsupported feature configuration for keys {sorted(unknown)}")
    return sparse, dense


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized SequenceExample: (context dict, sequence dict).

    context_features: key -> FixedLenFeature (dense, its shape) or VarLenFeature (a 1-D
    SparseTensor); sequence_features: key -> FixedLenSequenceFeature (dense, [steps] + shape)
    or VarLenFeature (a SparseTensor [steps, max_len]).
    """
    if not (context_features or sequence_features):
        raise ValueError("Missing features.")
    cs_keys, cd_keys = _split(context_features, parsing_ops.FixedLenFeature)
    fs_keys, fd_keys = _split(sequence_features,
                              (FixedLenSequenceFeature, parsing_ops.FixedLenFeature))
    sequence_features = sequence_features or {}
    for k in fd_keys:
        shape = tensor_shape.as_shape(sequence_features[k].shape)
        if not shape.is_fully_defined():
            raise ValueError(f"FixedLenSequenceFeature {k!r} needs a fully defined shape, got "
                             f"{shape}")
    with ops.name_scope(name, "ParseSingleSequenceExample", [serialized]) as scope:
        defaults = [parsing_ops._dense_default(k, context_features[k]) for k in cd_keys]
        empty = [k for k in fd_keys if getattr(sequence_features[k], "allow_missing", False)]
        outputs = apply_op(
            "ParseSingleSequenceExample", serialized,
            ops.convert_to_tensor(np.array(empty, dtype=object), dtype=dtypes.string),
            cs_keys, cd_keys, fs_keys, fd_keys, defaults,
            "" if example_name is None else example_name,
            context_sparse_types=[parsing_ops._check_feature_dtype(k, context_features[k].dtype)
                                  for k in cs_keys],
            Tcontext_dense=[d.dtype for d in defaults],
            context_dense_shapes=[tensor_shape.as_shape(context_features[k].shape)
                                  for k in cd_keys],
            feature_list_sparse_types=[
                parsing_ops._check_feature_dtype(k, sequence_features[k].dtype)
                for k in fs_keys],
            feature_list_dense_types=[
                parsing_ops._check_feature_dtype(k, sequence_features[k].dtype)
                for k in fd_keys],
            feature_list_dense_shapes=[tensor_shape.as_shape(sequence_features[k].shape)
                                       for k in fd_keys],
            name=scope)
    return _collect(outputs, [cs_keys, cd_keys, fs_keys, fd_keys])


def _collect(outputs, keys):
    """Groups the op's flat outputs back into (context, sequence) dicts."""
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    flat = [t for group in outputs for t in (group if isinstance(group, list) else [group])]
    dicts, pos = [], 0
    for sparse, dense in ((keys[0], keys[1]), (keys[2], keys[3])):
        result, n = {}, len(sparse)
        for i, key in enumerate(sparse):
            result[key] = parsing_ops.SparseTensor(flat[pos + i], flat[pos + n + i],
                                                   flat[pos + 2 * n + i])
        pos += 3 * n
        for i, key in enumerate(dense):
            result[key] = flat[pos + i]
        pos += len(dense)
        dicts.append(result)
    return tuple(dicts)


# ---- DecodeJSONExample ----------------------------------------------------------------------
DecodeJSONExample = registry.register_op("DecodeJSONExample", inputs=["json_examples: string"],
                                         outputs=["binary_examples: string"])
DecodeJSONExample.not_differentiable()
DecodeJSONExample.shape(lambda op: op.inputs[0].get_shape())


@DecodeJSONExample.kernel("CPU")
def _decode_json_example_kernel(ctx, json_examples):
    texts = np.asarray(json_examples, dtype=object)
    out = np.empty(texts.shape, dtype=object)
    for index, text in np.ndenumerate(texts):
        text = text.decode() if isinstance(text, bytes) else str(text)
        try:
            out[index] = json_format.Parse(text, example_protos.Example()).SerializeToString()
        except json_format.ParseError as e:
            raise errors.InvalidArgumentError(None, ctx.op,
                                              f"Error while parsing JSON: {e}") from None
    return out


def decode_json_example(json_examples, name=None):
    """Converts tf.train.Example protos in JSON (protobuf's JSON mapping) to binary ones."""
    return apply_op("DecodeJSONExample", json_examples, name=name)
