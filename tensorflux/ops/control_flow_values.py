"""The values tf.cond and tf.while_loop carry, as the tensors that travel through Switch, Merge,
Enter and Exit: a Tensor as itself, a TensorArray as its flow, an IndexedSlices as (values,
indices[, dense_shape]) and a SparseTensor as (indices, values, dense_shape), so that
composites come out of a cond or loop as the same composites (as in TF)."""
from tensorflux.framework import ops
from tensorflux.framework import tensor_shape


def _is_sparse(value):
    from tensorflux.ops.parsing_ops import SparseTensor  # parsing_ops builds on more ops
    return isinstance(value, SparseTensor)


def kind(value):
    """What a cond/loop value is, as far as its flows go: the kinds must match to merge."""
    if getattr(value, "_is_tensor_array", False):
        return "TensorArray"
    if isinstance(value, ops.IndexedSlices):
        return "IndexedSlices" + ("" if value.dense_shape is None else "+shape")
    if _is_sparse(value):
        return "SparseTensor"
    return "Tensor"


def to_flows(value):
    """The tensors that carry `value`."""
    k = kind(value)
    if k == "TensorArray":
        return [value.flow]
    if k.startswith("IndexedSlices"):
        parts = [value.values, value.indices]
        return parts + ([value.dense_shape] if value.dense_shape is not None else [])
    if k == "SparseTensor":
        return [value.indices, value.values, value.dense_shape]
    return [ops.convert_to_tensor(value)]


def all_flows(values):
    return [f for v in values for f in to_flows(v)]


def from_flows(originals, flows):
    """Values like `originals` rebuilt from their carried tensors (in to_flows's order)."""
    flows, out = iter(flows), []
    for o in originals:
        k = kind(o)
        if k == "TensorArray":
            out.append(o._with_flow(next(flows)))
        elif k.startswith("IndexedSlices"):
            values, indices = next(flows), next(flows)
            shape = next(flows) if o.dense_shape is not None else None
            out.append(ops.IndexedSlices(values, indices, shape))
        elif k == "SparseTensor":
            out.append(type(o)(next(flows), next(flows), next(flows)))
        else:
            out.append(next(flows))
    return out


def flow_invariants(value, shape):
    """Shape invariants of `value`'s carried tensors from the user's invariant `shape` (the
    dense shape for a SparseTensor, the values' shape for IndexedSlices)."""
    k = kind(value)
    if k == "TensorArray":
        return [tensor_shape.scalar()]
    shape = tensor_shape.as_shape(shape)
    if k.startswith("IndexedSlices"):
        rows = tensor_shape.TensorShape([None])
        extra = [value.dense_shape.get_shape()] if value.dense_shape is not None else []
        return [shape, rows] + extra
    if k == "SparseTensor":
        rank = shape.ndims
        return [tensor_shape.TensorShape([None, rank]), tensor_shape.TensorShape([None]),
                tensor_shape.TensorShape([rank])]
    return [shape]
