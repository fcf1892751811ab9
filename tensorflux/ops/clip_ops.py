"""Clipping: by value, by (average / global) L2 norm. Composites of math ops, no op types."""
from tensorflux.framework import ops
from tensorflux.ops import array_ops
from tensorflux.ops import math_ops
from tensorflux.ops import nn_ops

__all__ = [
    "clip_by_value",
    "clip_by_norm",
    "global_norm",
    "clip_by_global_norm",
    "clip_by_average_norm",
]


def _as_values(t, name="t"):
    """The dense values of a tensor or IndexedSlices."""
    if isinstance(t, ops.IndexedSlices):
        return t.values
    return ops.convert_to_tensor(t, name=name)


def _like(t, values):
    """`values` shaped as `t` was: wrapped back into IndexedSlices when t was one."""
    if isinstance(t, ops.IndexedSlices):
        return ops.IndexedSlices(values, t.indices, t.dense_shape)
    return values


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """min(max(t, clip_value_min), clip_value_max), element-wise (bounds may broadcast)."""
    with ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as name:
        values = _as_values(t)
        dtype = values.dtype.base_dtype
        lo = ops.convert_to_tensor(clip_value_min, dtype=dtype, name="clip_value_min")
        hi = ops.convert_to_tensor(clip_value_max, dtype=dtype, name="clip_value_max")
        upper = math_ops.minimum(values, hi)
        return _like(t, math_ops.maximum(upper, lo, name=name))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(l2norm(t, axes), clip_norm): rescaled so its L2 norm (over `axes`,
    default all) is at most clip_norm."""
    with ops.name_scope(name, "clip_by_norm", [t, clip_norm]) as name:
        values = _as_values(t)
        clip_norm = ops.convert_to_tensor(clip_norm, dtype=values.dtype.base_dtype,
                                          name="clip_norm")
        square_sum = math_ops.reduce_sum(values * values, axes, keep_dims=True)
        norm = math_ops.sqrt(square_sum)
        clipped = values * clip_norm / math_ops.maximum(norm, clip_norm)
        return _like(t, array_ops.identity(clipped, name=name))


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every entry of every tensor in t_list); None entries are skipped."""
    if not isinstance(t_list, (list, tuple)) or isinstance(t_list, str):
        raise TypeError(f"t_list must be a sequence of tensors, got {type(t_list).__name__}")
    present = [t for t in t_list if t is not None]
    with ops.name_scope(name, "global_norm", [v for v in present
                                              if isinstance(v, ops.Tensor)]) as name:
        if not present:
            raise ValueError("global_norm needs at least one tensor, got only None entries")
        values = [_as_values(t, name=f"t_{i}") for i, t in enumerate(present)]
        half_squares = [nn_ops.l2_loss(v) for v in values]
        dtype = values[0].dtype.base_dtype
        half_squares = [math_ops.cast(h, dtype) for h in half_squares]
        total = math_ops.add_n(half_squares) * 2
        return math_ops.sqrt(total, name=name)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(list of t * clip_norm / max(global_norm, clip_norm), the global norm).

    None entries stay None; IndexedSlices stay IndexedSlices. An infinite norm gives NaNs, as
    in TensorFlow, so an exploding gradient is visible rather than silently zeroed."""
    if not isinstance(t_list, (list, tuple)) or isinstance(t_list, str):
        raise TypeError(f"t_list must be a sequence of tensors, got {type(t_list).__name__}")
    t_list = list(t_list)
    with ops.name_scope(name, "clip_by_global_norm",
                        [t for t in t_list if isinstance(t, ops.Tensor)]) as name:
        if use_norm is None:
            use_norm = global_norm(t_list, name="global_norm")
        use_norm = ops.convert_to_tensor(use_norm)
        dtype = use_norm.dtype.base_dtype
        clip_norm = ops.convert_to_tensor(clip_norm, dtype=dtype, name="clip_norm")
        one = ops.convert_to_tensor(1.0, dtype=dtype)
        scale = clip_norm * math_ops.minimum(one / use_norm, one / clip_norm)
        scale = scale + (use_norm - use_norm)  # NaN when the norm is infinite, as in TF
        clipped = []
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            values = _as_values(t)
            factor = math_ops.cast(scale, values.dtype.base_dtype)
            clipped.append(_like(t, array_ops.identity(values * factor, name=f"clipped_{i}")))
        return clipped, use_norm


def clip_by_average_norm(t, clip_norm, name=None):
    """t * clip_norm / max(l2norm(t) / size(t), clip_norm): clips the L2 norm averaged over the
    number of elements."""
    with ops.name_scope(name, "clip_by_average_norm", [t, clip_norm]) as name:
        values = _as_values(t)
        dtype = values.dtype.base_dtype
        clip_norm = ops.convert_to_tensor(clip_norm, dtype=dtype, name="clip_norm")
        count = math_ops.cast(array_ops.size(values), dtype)
        avg_norm = math_ops.sqrt(math_ops.reduce_sum(values * values)) / count
        clipped = values * clip_norm / math_ops.maximum(avg_norm, clip_norm)
        return _like(t, array_ops.identity(clipped, name=name))
