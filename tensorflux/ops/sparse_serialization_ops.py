"""SparseTensors as strings, so they can travel through queues: SerializeSparse,
SerializeManySparse, DeserializeManySparse (TF 0.9's `tf.serialize_sparse`,
`tf.serialize_many_sparse`, `tf.deserialize_many_sparse`; tf.train.batch uses them).

A serialized SparseTensor is a string vector [3]: its indices, values and dense shape, each a
serialized TensorProto, as TensorFlow writes them. SerializeManySparse splits a SparseTensor
along its first (minibatch) dimension into [N, 3] such rows; DeserializeManySparse joins N
rows back into one SparseTensor of rank R + 1, whose dense shape is [N] followed by the
largest size of each dimension (entries keep their order, batch by batch).
"""
import numpy as np

from tensorflux.framework import dtypes, errors, protos, registry, tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import parsing_ops

__all__ = ["serialize_sparse", "serialize_many_sparse", "deserialize_many_sparse"]

_SPARSE_INPUTS = ["sparse_indices: int64", "sparse_values: T", "sparse_shape: int64"]
_SPARSE_OUTPUTS = ["sparse_indices: int64", "sparse_values: dtype", "sparse_shape: int64"]


def _serialize(indices, values, shape):
    row = np.empty(3, dtype=object)
    for k, part in enumerate((indices, values, shape)):
        row[k] = tensor_util.make_tensor_proto(part).SerializeToString()
    return row


def _check_sparse(ctx, indices, values, shape):
    if indices.ndim != 2 or values.ndim != 1 or shape.ndim != 1 or \
            indices.shape[0] != values.shape[0] or indices.shape[1] != shape.shape[0]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Input SparseTensor is malformed: indices {list(indices.shape)}, "
                          f"values {list(values.shape)}, shape {list(shape.shape)}")


# ---- SerializeSparse --------------------------------------------------------------------------
SerializeSparse = registry.register_op("SerializeSparse", inputs=_SPARSE_INPUTS,
                                       outputs=["serialized_sparse: string"],
                                       attrs={"T": registry.Attr("type")})
SerializeSparse.not_differentiable()
SerializeSparse.shape(lambda op: tensor_shape.vector(3))


@SerializeSparse.kernel("CPU")
def _serialize_sparse_kernel(ctx, indices, values, shape):
    _check_sparse(ctx, indices, values, shape)
    return _serialize(indices, values, shape)


# ---- SerializeManySparse: one row per minibatch entry ----------------------------------------
SerializeManySparse = registry.register_op("SerializeManySparse", inputs=_SPARSE_INPUTS,
                                           outputs=["serialized_sparse: string"],
                                           attrs={"T": registry.Attr("type")})
SerializeManySparse.not_differentiable()
SerializeManySparse.shape(lambda op: tensor_shape.matrix(None, 3))


@SerializeManySparse.kernel("CPU")
def _serialize_many_sparse_kernel(ctx, indices, values, shape):
    _check_sparse(ctx, indices, values, shape)
    if shape.shape[0] < 2:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"SparseTensor must have rank at least 2, got {shape.shape[0]}")
    rows = np.empty((int(shape[0]), 3), dtype=object)
    for b in range(int(shape[0])):
        mine = indices[:, 0] == b
        rows[b] = _serialize(indices[mine, 1:], values[mine], shape[1:])
    if indices.size and (indices[:, 0].min() < 0 or indices[:, 0].max() >= shape[0]):
        raise errors.InvalidArgumentError(None, ctx.op, "Minibatch index out of range of the "
                                                        f"dense shape {shape.tolist()}")
    return rows


# ---- DeserializeManySparse ------------------------------------------------------------------
DeserializeManySparse = registry.register_op(
    "DeserializeManySparse", inputs=["serialized_sparse: string"], outputs=_SPARSE_OUTPUTS,
    attrs={"dtype": registry.Attr("type")})
DeserializeManySparse.not_differentiable()


@DeserializeManySparse.shape
def _deserialize_shape(op):
    op.inputs[0].get_shape().with_rank(2)
    return [tensor_shape.matrix(None, None), tensor_shape.vector(None),
            tensor_shape.vector(None)]


def _parse_part(ctx, data, b, what):
    proto = protos.TensorProto()
    try:
        proto.ParseFromString(bytes(data))
        return tensor_util.MakeNdarray(proto)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Could not parse serialized_sparse[{b}, {what}]") from None


@DeserializeManySparse.kernel("CPU")
def _deserialize_many_sparse_kernel(ctx, serialized):
    if serialized.ndim != 2 or serialized.shape[1] != 3:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Serialized sparse should be a matrix with 3 columns, got shape "
                          f"{list(serialized.shape)}")
    want = ctx.attrs["dtype"].as_numpy_dtype
    parts = [[_parse_part(ctx, serialized[b, k], b, k) for k in range(3)]
             for b in range(serialized.shape[0])]
    if not parts:
        raise errors.InvalidArgumentError(None, ctx.op, "Must have at least 1 serialized "
                                                        "SparseTensor, but has 0")
    ranks = {p[2].shape[0] for p in parts}
    if len(ranks) != 1:
        raise errors.InvalidArgumentError(None, ctx.op, f"Inconsistent ranks of the "
                                                        f"serialized SparseTensors: {ranks}")
    for b, (_, values, _) in enumerate(parts):
        if values.dtype != np.dtype(want) and not (values.dtype == object and want == object):
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Requested SparseTensor of type {ctx.attrs['dtype'].name} but "
                              f"SparseTensor[{b}].values.dtype() == {values.dtype}")
    rank = ranks.pop()
    indices = np.concatenate([np.concatenate([np.full((len(i), 1), b, np.int64),
                                              i.reshape(-1, rank)], axis=1)
                              for b, (i, _, _) in enumerate(parts)])
    values = np.concatenate([v for _, v, _ in parts]).astype(want, copy=False)
    shape = np.max(np.stack([s for _, _, s in parts]), axis=0)
    return [indices, values, np.concatenate([[len(parts)], shape]).astype(np.int64)]


# ---- the public functions ------------------------------------------------------------------
def _components(sp_input):
    if not isinstance(sp_input, (parsing_ops.SparseTensor, parsing_ops.SparseTensorValue)):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    return sp_input.indices, sp_input.values, sp_input.dense_shape


def serialize_sparse(sp_input, name=None):
    """A string vector [3]: the SparseTensor's indices, values and shape as TensorProtos."""
    return apply_op("SerializeSparse", *_components(sp_input), name=name)


def serialize_many_sparse(sp_input, name=None):
    """A string matrix [N, 3]: one serialized SparseTensor per minibatch entry (rank >= 2)."""
    return apply_op("SerializeManySparse", *_components(sp_input), name=name)


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """The N serialized SparseTensors of `serialized_sparse` [N, 3] as one SparseTensor of
    rank R + 1 (`rank` sets the static rank when known)."""
    indices, values, shape = apply_op("DeserializeManySparse", serialized_sparse,
                                      dtype=dtypes.as_dtype(dtype).base_dtype, name=name)
    if rank is not None:
        indices.set_shape([None, rank])
        shape.set_shape([rank])
    return parsing_ops.SparseTensor(indices, values, shape)


