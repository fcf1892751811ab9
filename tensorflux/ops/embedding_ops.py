"""embedding_lookup: rows of one embedding tensor, or of a list of shards, picked by ids.

With several shards, id i lives in
  "mod": shard i % n, row i // n;
  "div": contiguous blocks, the first (total % n) shards one row longer, as TensorFlow's
         documentation describes.
The ids are split with DynamicPartition, gathered per shard and put back in order with
DynamicStitch, so the gradient reaching each shard is IndexedSlices (sparse), as Gather's is.
Composite only: no op is registered here. Exposed as `tf.nn.embedding_lookup`.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.ops import array_ops
from tensorflux.ops import math_ops

__all__ = []  # lives in tf.nn


def _shard_list(params):
    if params is None:
        raise ValueError("embedding_lookup requires params (a tensor or a list of shards), "
                         "got None")
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup requires a non-empty list of params shards, got []")
        shards = list(params)
    elif hasattr(params, "_get_variable_list"):  # a PartitionedVariable
        shards = list(params._get_variable_list())
    else:
        shards = [params]
    return [p if isinstance(p, ops.Tensor) or hasattr(p, "_as_graph_element")
            else ops.convert_to_tensor(p, name="params") for p in shards]


def _gather(param, ids, validate_indices):
    with ops.colocate_with(param):
        return array_ops.gather(param, ids, validate_indices=validate_indices)


def _clip_rows(rows, ids, max_norm):
    """Rows of `rows` (shape ids.shape + dims) rescaled to L2 norm at most max_norm."""
    if max_norm is None:
        return rows
    ids_rank = ids.get_shape().ndims
    rank = rows.get_shape().ndims
    if ids_rank is None or rank is None:
        raise ValueError(f"embedding_lookup(max_norm=...) needs static ranks, got ids "
                         f"{ids.get_shape()} and result {rows.get_shape()}")
    axes = list(range(ids_rank, rank))
    if not axes:
        return rows
    square_sum = math_ops.reduce_sum(math_ops.square(rows), axes, keep_dims=True)
    norm = math_ops.sqrt(square_sum)
    limit = ops.convert_to_tensor(max_norm, dtype=rows.dtype.base_dtype)
    return rows * limit / math_ops.maximum(norm, limit)


def _first_dims(shards):
    """[rows of each shard] as an int tensor (static where every shard's size is known)."""
    sizes = [p.get_shape()[0].value if p.get_shape().ndims else None for p in shards]
    if all(s is not None for s in sizes):
        return ops.convert_to_tensor(np.array(sizes, np.int64))
    return array_ops.stack([math_ops.cast(array_ops.shape(p)[0], dtypes.int64)
                            for p in shards])


def _assign(flat_ids, shards, partition_strategy):
    """(shard of each id as int32, row within that shard)."""
    n = len(shards)
    if partition_strategy == "mod":
        return math_ops.cast(flat_ids % n, dtypes.int32), flat_ids // n
    total = math_ops.reduce_sum(_first_dims(shards))
    per = total // n
    extras = total % n
    # ids below extras * (per + 1) are in the first `extras` shards, of per + 1 rows each
    shard = math_ops.maximum(flat_ids // (per + 1), (flat_ids - extras) // math_ops.maximum(
        per, 1))
    in_long = math_ops.less(shard, extras)
    row = array_ops.where(in_long, flat_ids % (per + 1),
                          (flat_ids - extras) % math_ops.maximum(per, 1))
    return math_ops.cast(shard, dtypes.int32), row


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Rows of `params` for each id: output shape ids.shape + params.shape[1:].

    params is a tensor (or Variable) or a list of shards of one table; partition_strategy
    ("mod" or "div") says how ids map to shards. max_norm, if given, clips each looked-up
    row's L2 norm to it."""
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"partition_strategy must be 'mod' or 'div', got "
                         f"{partition_strategy!r}")
    shards = _shard_list(params)
    with ops.name_scope(name, "embedding_lookup", shards + [ids]) as name:
        ids = ops.convert_to_tensor(ids, name="ids")
        if len(shards) == 1:
            rows = _gather(shards[0], ids, validate_indices)
            return array_ops.identity(_clip_rows(rows, ids, max_norm), name=name)
        return _sharded_lookup(shards, ids, partition_strategy, validate_indices, max_norm, name)


def _sharded_lookup(shards, ids, partition_strategy, validate_indices, max_norm, name):
    flat_ids = array_ops.reshape(ids, [-1])
    wide_ids = math_ops.cast(flat_ids, dtypes.int64)
    shard_of, row_of = _assign(wide_ids, shards, partition_strategy)
    n = len(shards)
    rows_by_shard = array_ops.dynamic_partition(row_of, shard_of, n)
    positions = array_ops.dynamic_partition(
        math_ops.cast(array_ops.range(array_ops.size(flat_ids)), dtypes.int32), shard_of, n)
    found = [_gather(p, r, validate_indices) for p, r in zip(shards, rows_by_shard)]
    merged = array_ops.dynamic_stitch(positions, found)
    tail = shards[0].get_shape()[1:]
    if tail.is_fully_defined():
        out_shape = array_ops.concat([array_ops.shape(ids), np.array(tail.as_list(), np.int32)],
                                     0)
    else:
        out_shape = array_ops.concat([array_ops.shape(ids), array_ops.shape(merged)[1:]], 0)
    rows = array_ops.reshape(merged, out_shape)
    rows.set_shape(ids.get_shape().concatenate(tail))
    return array_ops.identity(_clip_rows(rows, ids, max_norm), name=name)
