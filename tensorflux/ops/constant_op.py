"""Const: a value baked into the graph (`tf.constant`)."""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util

__all__ = [
    "constant",
]

Const = registry.register_op("Const", outputs=["output: dtype"],
                             attrs={"value": "tensor", "dtype": "type"})
Const.not_differentiable()


@Const.shape
def _const_shape(op):
    return tensor_shape.TensorShape(op.get_attr("value").shape)


@Const.kernel("CPU")
def _const_kernel(ctx):
    return ctx.attrs["value"]


@tensor_util.register_constant_folder("Const")
def _fold_const(tensor):
    return tensor.op.get_attr("value")


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor holding `value` (a Python or NumPy value), optionally of `shape`."""
    if isinstance(value, np.ndarray):
        _check_proto_size(value, dtype)  # before converting: no 2 GB copy to refuse afterwards
    array = tensor_util.to_numpy(value, dtype)
    _check_proto_size(array, None)  # the content; a value broadcast to `shape` is stored once
    if shape is not None:
        array = tensor_util.reshape_to(array, shape, verify_shape)
    array = np.array(array, copy=True)  # the graph owns its constants
    array.setflags(write=False)
    graph = ops.get_default_graph()
    op = graph.create_op("Const", [], [dtypes.as_dtype(array.dtype) if array.dtype != object
                                       else dtypes.string],
                         name=name, attrs={"value": array,
                                           "dtype": dtypes.string if array.dtype == object
                                           else dtypes.as_dtype(array.dtype)})
    return op.outputs[0]


def _check_proto_size(array, dtype):
    """TF's limit: a GraphDef is a protobuf, and a TensorProto over 2 GB cannot be written."""
    if array.dtype == object:
        nbytes = sum(len(v) for v in array.ravel() if isinstance(v, (bytes, str)))
    else:
        nbytes = array.size * (array.itemsize if dtype is None else dtypes.as_dtype(dtype).size)
    if nbytes >= 1 << 31:
        raise ValueError("Cannot create a tensor proto whose content is larger than 2GB.")


def _convert_python_value(value, dtype=None, name=None, as_ref=False):
    return constant(value, dtype=dtype, name=name or "Const")


ops.register_tensor_conversion_function((list, tuple, int, float, bool, complex, str, bytes,
                                         np.ndarray, np.generic), _convert_python_value, 200)


def _shape_dtype(dims, dtype, what):
    """int32 unless a dim needs int64 (or int64 is asked for), as TF converts shapes."""
    if dtype is not None and dtypes.as_dtype(dtype).base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Cannot convert {what} to dtype {dtypes.as_dtype(dtype)}. Allowed "
                        f"dtypes are tf.int32 and tf.int64.")
    if dtype is not None:
        return dtypes.as_dtype(dtype).base_dtype
    return dtypes.int64 if any(d >= 2 ** 31 for d in dims) else dtypes.int32


def _convert_shape(shape, dtype=None, name=None, as_ref=False):
    if not shape.is_fully_defined():
        raise ValueError(f"Cannot convert a partially known TensorShape to a Tensor: {shape}")
    dims = shape.as_list()
    return constant(dims, dtype=_shape_dtype(dims, dtype, f"TensorShape {shape}"),
                    name=name or "shape_as_tensor")


def _convert_dimension(dim, dtype=None, name=None, as_ref=False):
    if dim.value is None:
        raise ValueError(f"Cannot convert an unknown Dimension to a Tensor: {dim}")
    return constant(dim.value, dtype=_shape_dtype([dim.value], dtype, f"Dimension {dim}"),
                    name=name or "Const")


ops.register_tensor_conversion_function(tensor_shape.TensorShape, _convert_shape, 100)
ops.register_tensor_conversion_function(tensor_shape.Dimension, _convert_dimension, 100)
