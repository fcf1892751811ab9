"""convert_to_tensor: Tensors pass through; other values go through registered conversion
functions (Python/NumPy values become constants, Variables their snapshot, IndexedSlices a
dense tensor) — the op modules register them, so the framework needs no op definitions.
"""
from tensorflux.framework import dtypes
from tensorflux.framework import ops

_TENSOR_CONVERSION_FUNCS = []


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Lets objects of `base_type` be passed where tensors are expected."""
    _TENSOR_CONVERSION_FUNCS.append((priority, base_type, conversion_func))
    _TENSOR_CONVERSION_FUNCS.sort(key=lambda entry: entry[0])


def convert_to_tensor(value, dtype=None, name=None, as_ref=False, preferred_dtype=None):
    """Returns `value` as a Tensor: tensors pass through, Python/NumPy values become constants."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, ops.Tensor):
        if dtype is not None and not dtype.is_compatible_with(value.dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        return value  # a ref tensor given to a value input is read by the executor
    for _, base_type, func in _TENSOR_CONVERSION_FUNCS:
        if isinstance(value, base_type):
            if preferred_dtype is not None and dtype is None:
                try:
                    return func(value, dtype=dtypes.as_dtype(preferred_dtype), name=name,
                                as_ref=as_ref)
                except (TypeError, ValueError):
                    pass
            result = func(value, dtype=dtype, name=name, as_ref=as_ref)
            if result is not NotImplemented:
                return result
    raise TypeError(f"Cannot convert {value!r:.80} of type {type(value).__name__} to a Tensor "
                    "(no conversion function is registered for that type)")


def convert_n_to_tensor(values, dtype=None, name=None):
    return [convert_to_tensor(v, dtype, name=None if name is None else f"{name}_{i}")
            for i, v in enumerate(values)]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    if isinstance(value, ops.IndexedSlices):
        return value
    return convert_to_tensor(value, dtype, name)
