"""tf.py_func: a Python function as an op in the graph.

The graph stores only a token string (attr `token`); the function itself stays in this
process's FuncRegistry, keyed by that token, and is dropped when its graph is garbage
collected. Nothing is ever pickled, so a GraphDef holding a PyFunc op runs only in the process
that built it (elsewhere the kernel reports the missing token).
"""
import itertools
import threading
import weakref

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common

__all__ = ["py_func"]


class FuncRegistry:
    """Process-local map from token strings to Python callables."""

    def __init__(self):
        self._funcs = {}
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def insert(self, func):
        """Stores `func`; returns its new unique token."""
        with self._lock:
            token = f"pyfunc_{next(self._counter)}"
            self._funcs[token] = func
        return token

    def remove(self, token):
        with self._lock:
            self._funcs.pop(token, None)

    def get(self, token):
        return self._funcs.get(token)

    def size(self):
        return len(self._funcs)


_registry = FuncRegistry()


def _output_array(value, dtype, index, ctx):
    """One returned value as an array of the declared dtype; InvalidArgumentError otherwise."""
    np_dtype = dtype.as_numpy_dtype
    if dtype == dtypes.string:
        array = np.asarray(value, dtype=object)
        if array.dtype.kind in "OSU" and all(isinstance(v, (bytes, str)) for v in array.flat):
            return np.vectorize(_as_bytes, otypes=[object])(array) if array.size else array
        raise _bad_value(ctx, index, dtype, f"non-string values ({array.dtype})")
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as e:
            raise _bad_value(ctx, index, dtype, f"{type(value).__name__} ({e})") from None
    if array.dtype == np_dtype:
        return array
    if array.dtype.kind in "OSUV" or not np.can_cast(array.dtype, np_dtype, "same_kind"):
        raise _bad_value(ctx, index, dtype, _describe(value, array))
    return array.astype(np_dtype)


def _describe(value, array):
    if isinstance(value, (np.ndarray, np.generic)):
        return f"an array of dtype {array.dtype} and shape {array.shape}"
    return f"{type(value).__name__} {value!r:.40} (dtype {array.dtype})"


def _as_bytes(value):
    return value.encode() if isinstance(value, str) else value


def _bad_value(ctx, index, dtype, got):
    return errors.InvalidArgumentError(
        None, ctx.op, f"{index}-th value returned by {ctx.op.type} op '{ctx.op.name}' "
                      f"(function {_func_name(ctx)}) is {got}, but the op declares Tout[{index}] "
                      f"= {dtype.name}")


def _func_name(ctx):
    func = _registry.get(ctx.attrs["token"])
    return getattr(func, "__name__", repr(func))


# Python exceptions raised by the function, as TensorFlow error classes (others: UnknownError).
_ERROR_FOR = {
    ValueError: errors.InvalidArgumentError,
    TypeError: errors.InvalidArgumentError,
    StopIteration: errors.OutOfRangeError,
    IndexError: errors.OutOfRangeError,
    MemoryError: errors.ResourceExhaustedError,
    NotImplementedError: errors.UnimplementedError,
}


def _py_func_kernel(ctx, *inputs):
    token = ctx.attrs["token"]
    func = _registry.get(token)
    if func is None:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{ctx.op.type} op '{ctx.op.name}': callback {token} is not registered "
                          "in this process (py_func functions live only in the process that "
                          "built the graph)")
    out_types = ctx.attrs["Tout"]
    try:
        result = func(*inputs)
    except errors.OpError:
        raise
    except Exception as e:  # noqa: BLE001 - reported with a TF error code, naming the op
        error_class = _ERROR_FOR.get(type(e), errors.UnknownError)
        raise error_class(None, ctx.op, f"{ctx.op.type} op '{ctx.op.name}': function "
                                        f"{_func_name(ctx)} raised {type(e).__name__}: {e}") from e
    if not out_types:
        return ()
    values = list(result) if isinstance(result, (list, tuple)) else [result]
    if len(values) != len(out_types):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{ctx.op.type} op '{ctx.op.name}': function {_func_name(ctx)} "
                          f"returned {len(values)} values, but the op declares {len(out_types)} "
                          f"outputs (Tout = [{', '.join(t.name for t in out_types)}])")
    arrays = tuple(_output_array(v, dtypes.as_dtype(t), i, ctx)
                   for i, (v, t) in enumerate(zip(values, out_types)))
    return arrays[0] if len(arrays) == 1 else arrays


def _register(name, stateful):
    op_def = registry.register_op(name, inputs=["input: Tin"], outputs=["output: Tout"],
                                  attrs={"token": registry.Attr("string"),
                                         "Tin": registry.Attr("list(type)"),
                                         "Tout": registry.Attr("list(type)")},
                                  stateful=stateful)
    op_def.shape(common.unknown_shapes)
    op_def.not_differentiable()
    op_def.kernel("CPU")(_py_func_kernel)
    return op_def


PyFunc = _register("PyFunc", stateful=True)
PyFuncStateless = _register("PyFuncStateless", stateful=False)


def py_func(func, inp, Tout, stateful=True, name=None):  # noqa: N803 (TensorFlow's name)
    """Wraps the Python function `func` (NumPy arrays in, NumPy arrays out) as a graph op.

    Args:
      func: called as func(*input_arrays); returns one array, or a list of arrays matching Tout.
      inp: list of input tensors.
      Tout: a dtype, or a list/tuple of dtypes, of func's outputs.
      stateful: whether the function has side effects (PyFunc vs PyFuncStateless).
      name: a name for the op.

    Returns:
      A tensor if Tout is a single dtype, else a list of tensors (the op if Tout is empty).
    """
    if not callable(func):
        raise TypeError(f"py_func requires a callable func, got {type(func).__name__}")
    if not isinstance(inp, (list, tuple)):
        raise TypeError(f"py_func requires inp to be a list of tensors, got "
                        f"{type(inp).__name__}")
    single = not isinstance(Tout, (list, tuple))
    out_types = [dtypes.as_dtype(t) for t in ([Tout] if single else Tout)]
    token = _registry.insert(func)
    op_type = "PyFunc" if stateful else "PyFuncStateless"
    try:
        result = apply_op(op_type, list(inp), token=token, Tout=out_types, name=name)
    except Exception:
        _registry.remove(token)
        raise
    if not out_types:
        weakref.finalize(result.graph, _registry.remove, token)
        return result
    weakref.finalize(result[0].graph, _registry.remove, token)
    return result[0] if single else list(result)
