"""embedding_lookup: rows of one embedding tensor, or of a list of shards, picked by ids.

With several shards, id i lives in
  "mod": shard i % n, row i // n;
  "div": contiguous blocks, the first (total % n) shards one row longer, as TensorFlow's
         documentation describes.
The ids are split with DynamicPartition, gathered per shard and put back in order with
DynamicStitch, so the gradient reaching each shard is IndexedSlices (sparse), as Gather's is.
`embedding_lookup_sparse` combines (sum, mean or sqrtn) the rows of the ids of each row of a
SparseTensor, optionally weighted.
Composite only: no op is registered here. Exposed as `tf.nn.embedding_lookup(_sparse)`.
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


_COMBINERS = ("mean", "sqrtn", "sum")


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None,
                            combiner=None, max_norm=None):
    """Per row r of sp_ids: the combination of params rows of the ids in row r.

    sp_ids: SparseTensor of ids, [batch, ...] (only the first index column matters; rows must
    be sorted); sp_weights: SparseTensor of weights with the same indices, or None for 1.
    combiner: "sum" (weighted sum), "mean" (divided by the sum of the weights) or "sqrtn"
    (divided by the sqrt of the sum of squared weights); default "mean". The result has
    max(row) + 1 rows; a row without ids is zeros (unweighted) as in TensorFlow.
    """
    from tensorflux.ops.parsing_ops import SparseTensor
    combiner = "mean" if combiner is None else combiner
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner!r}")
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError(f"sp_ids must be SparseTensor, got {type(sp_ids).__name__}")
    if sp_weights is not None and not isinstance(sp_weights, SparseTensor):
        raise TypeError(f"sp_weights must be either None or SparseTensor, got "
                        f"{type(sp_weights).__name__}")
    if sp_weights is not None:
        sp_ids.values.get_shape().assert_is_compatible_with(sp_weights.values.get_shape())
        sp_ids.indices.get_shape().assert_is_compatible_with(sp_weights.indices.get_shape())
    shards = _shard_list(params)
    with ops.name_scope(name, "embedding_lookup_sparse", shards + [sp_ids.values]) as name:
        segment_ids = math_ops.cast(sp_ids.indices[:, 0], dtypes.int32)
        if sp_weights is None:
            return _combine_unweighted(shards, sp_ids.values, segment_ids, partition_strategy,
                                       combiner, max_norm, name)
        rows = embedding_lookup(shards, sp_ids.values, partition_strategy, max_norm=max_norm)
        return _combine_weighted(rows, sp_weights.values, segment_ids, combiner, name)


def _per_row(column, rows):
    """A [n] tensor reshaped to broadcast against `rows` ([n, d1, ...])."""
    rank = rows.get_shape().ndims
    if rank is not None:
        return array_ops.reshape(column, [-1] + [1] * (rank - 1))
    ones = array_ops.fill(array_ops.expand_dims(array_ops.rank(rows) - 1, 0), 1)
    return array_ops.reshape(column, array_ops.concat([array_ops.shape(column), ones], 0))


def _combine_unweighted(shards, ids, segment_ids, partition_strategy, combiner, max_norm, name):
    # each distinct id is looked up once (and its gradient row sent to its shard once)
    unique_ids, position = array_ops.unique(ids)
    found = embedding_lookup(shards, unique_ids, partition_strategy, max_norm=max_norm)
    summed = math_ops.segment_sum(array_ops.gather(found, position), segment_ids)
    if combiner == "sum":
        return array_ops.identity(summed, name=name)
    counts = math_ops.segment_sum(array_ops.ones_like(segment_ids, dtype=summed.dtype),
                                  segment_ids)
    counts = math_ops.maximum(counts, 1)  # rows without ids stay zero
    if combiner == "sqrtn":
        counts = math_ops.sqrt(counts)
    return math_ops.divide(summed, _per_row(counts, summed), name=name)


def _combine_weighted(rows, weights, segment_ids, combiner, name):
    if weights.dtype.base_dtype != rows.dtype.base_dtype:
        weights = math_ops.cast(weights, rows.dtype.base_dtype)
    summed = math_ops.segment_sum(rows * _per_row(weights, rows), segment_ids)
    if combiner == "sum":
        return array_ops.identity(summed, name=name)
    if combiner == "mean":
        total = math_ops.segment_sum(weights, segment_ids)
    else:
        total = math_ops.sqrt(math_ops.segment_sum(math_ops.square(weights), segment_ids))
    return math_ops.divide(summed, _per_row(total, summed), name=name)
