"""map_fn, scan, foldl and foldr: tf.while_loop over TensorArrays (TensorFlow's definitions).

`elems` may be a tensor or a nested structure of tensors sharing their first dimension; `fn`
receives (and, for map_fn with `dtype`, returns) the same structure of slices.
"""
from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import tensor_shape
from tensorflux.ops import array_ops
from tensorflux.ops import control_flow_ops as cf
from tensorflux.ops import tensor_array_ops

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _flat_elems(elems):
    flat = [ops.convert_to_tensor(e, name="elem") for e in cf._flatten_nest(elems)]
    if not flat:
        raise ValueError("elems must hold at least one tensor")
    for e in flat:
        if e.get_shape().ndims == 0:
            raise ValueError(f"elems must be at least rank 1 (a sequence to iterate over), got "
                             f"{e.name} with shape {e.get_shape()}")
    return flat


def _length(flat):
    static = flat[0].get_shape()[0] if flat[0].get_shape().ndims else None
    static = getattr(static, "value", static)
    n = array_ops.shape(flat[0])[0] if static is None else \
        ops.convert_to_tensor(static, dtype=dtypes.int32)
    return n, static


def _input_arrays(flat, n):
    return [tensor_array_ops.TensorArray(e.dtype, size=n, element_shape=e.get_shape()[1:])
            .unstack(e) for e in flat]


def _output_arrays(flat_dtypes, n, infer_shape=True):
    return [tensor_array_ops.TensorArray(d, size=n, infer_shape=infer_shape)
            for d in flat_dtypes]


def _stacked(arrays, static):
    results = []
    for ta in arrays:
        value = ta.stack()
        value.set_shape(tensor_shape.TensorShape([static]).concatenate(ta.element_shape))
        results.append(value)
    return results


def map_fn(fn, elems, dtype=None, parallel_iterations=10, back_prop=True, swap_memory=False,
           infer_shape=True, name=None):
    """fn applied to each slice elems[i] (along the first dimension), results stacked.

    `dtype` (structure of dtypes) is required when fn's output structure differs from elems'.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    flat = _flat_elems(elems)
    with ops.name_scope(name, "map", flat):
        out_structure = elems if dtype is None else dtype
        flat_dtypes = [e.dtype for e in flat] if dtype is None else \
            [dtypes.as_dtype(d) for d in cf._flatten_nest(dtype)]
        n, static = _length(flat)
        inputs = _input_arrays(flat, n)
        outputs = _output_arrays(flat_dtypes, n, infer_shape)

        def body(i, arrays):
            piece = cf._pack_nest(elems, [ta.read(i) for ta in inputs])
            result = cf._flatten_nest(fn(piece))
            if len(result) != len(arrays):
                raise ValueError(f"map_fn: fn returned {len(result)} tensors, dtype structure "
                                 f"has {len(arrays)} (pass dtype= when fn's output structure "
                                 "differs from elems)")
            return i + 1, [ta.write(i, v) for ta, v in zip(arrays, result)]
        _, arrays = cf.while_loop(lambda i, _: i < n, body, (0, outputs),
                                  parallel_iterations=parallel_iterations, back_prop=back_prop,
                                  swap_memory=swap_memory)
        return cf._pack_nest(out_structure, _stacked(arrays, static))


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, name=None, reverse=False):
    """The successive values of a = fn(a, elems[i]), stacked (elems[0] starts `a` when no
    initializer is given)."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    flat = _flat_elems(elems)
    with ops.name_scope(name, "scan", flat):
        n, static = _length(flat)
        inputs = _input_arrays(flat, n)
        index = (lambda i: n - 1 - i) if reverse else (lambda i: i)
        structure, first, start = _initial_accumulator(elems, initializer, inputs, index)
        outputs = _output_arrays([a.dtype for a in first], n, infer_shape)
        if initializer is None:
            outputs = [ta.write(index(0), a) for ta, a in zip(outputs, first)]

        def body(i, acc, arrays):
            piece = cf._pack_nest(elems, [ta.read(index(i)) for ta in inputs])
            new = cf._flatten_nest(fn(cf._pack_nest(structure, acc), piece))
            if len(new) != len(acc):
                raise ValueError(f"scan: fn returned {len(new)} tensors for an accumulator "
                                 f"of {len(acc)}")
            return i + 1, new, [ta.write(index(i), v) for ta, v in zip(arrays, new)]
        _, _, arrays = cf.while_loop(lambda i, a, t: i < n, body, (start, first, outputs),
                                     parallel_iterations=parallel_iterations,
                                     back_prop=back_prop, swap_memory=swap_memory)
        return cf._pack_nest(structure, _stacked(arrays, static))


def _initial_accumulator(elems, initializer, inputs, index):
    """(structure, flat first accumulator, first index to process): elems[0] starts the
    accumulator when no initializer is given."""
    if initializer is None:
        return elems, [ta.read(index(0)) for ta in inputs], 1
    return initializer, [ops.convert_to_tensor(v) for v in cf._flatten_nest(initializer)], 0


def _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
          default_name, reverse):
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    flat = _flat_elems(elems)
    with ops.name_scope(name, default_name, flat):
        n, _ = _length(flat)
        inputs = _input_arrays(flat, n)
        index = (lambda i: n - 1 - i) if reverse else (lambda i: i)
        structure, first, start = _initial_accumulator(elems, initializer, inputs, index)

        def body(i, acc):
            piece = cf._pack_nest(elems, [ta.read(index(i)) for ta in inputs])
            new = cf._flatten_nest(fn(cf._pack_nest(structure, acc), piece))
            return i + 1, new
        _, final = cf.while_loop(lambda i, a: i < n, body, (start, first),
                                 parallel_iterations=parallel_iterations, back_prop=back_prop,
                                 swap_memory=swap_memory)
        return cf._pack_nest(structure, final)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """a = fn(a, elems[i]) for i = 0, 1, ...; returns the final a."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
                 "foldl", reverse=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """a = fn(a, elems[i]) for i = n-1, ..., 0; returns the final a."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name,
                 "foldr", reverse=True)
