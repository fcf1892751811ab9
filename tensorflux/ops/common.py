"""Shape-function building blocks and kernel input checks shared by op modules (no op
definitions here)."""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import tensor_shape

FLOATS = frozenset({dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64})
COMPLEX = frozenset({dtypes.complex64, dtypes.complex128})
INTS = frozenset({dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
                  dtypes.uint16, dtypes.uint32, dtypes.uint64})
SIGNED = FLOATS | COMPLEX | frozenset({dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64})
REALS = FLOATS | INTS
NUMBERS = REALS | COMPLEX
INDEX = frozenset({dtypes.int32, dtypes.int64})
ALL = NUMBERS | frozenset({dtypes.bool, dtypes.string})


def unchanged_shape(op):
    """Output 0 has the shape of input 0."""
    return op.inputs[0].get_shape()


def scalar_shape(op):
    return tensor_shape.scalar()


def unknown_shapes(op):
    return [tensor_shape.unknown_shape() for _ in op.outputs]


def broadcast_shape(shape_x, shape_y):
    """The NumPy-broadcast of two static shapes; ValueError naming both if incompatible."""
    if shape_x.ndims is None or shape_y.ndims is None:
        return tensor_shape.unknown_shape()
    x, y = shape_x.as_list(), shape_y.as_list()
    n = max(len(x), len(y))
    x = [1] * (n - len(x)) + x
    y = [1] * (n - len(y)) + y
    dims = []
    for a, b in zip(x, y):
        if a == 1:
            dims.append(b)
        elif b == 1:
            dims.append(a)
        elif a is None or b is None:
            dims.append(a if b is None else b)
        elif a == b:
            dims.append(a)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting: {shape_x} and {shape_y}")
    return tensor_shape.TensorShape(dims)


def broadcast_binary_shape(op):
    return broadcast_shape(op.inputs[0].get_shape(), op.inputs[1].get_shape())


def merged_input_shapes(op):
    """All inputs must share one shape (e.g. AddN); returns it."""
    shape = tensor_shape.unknown_shape()
    for t in op.inputs:
        other = t.get_shape()
        if shape.ndims is not None and other.ndims is not None and shape.ndims != other.ndims:
            raise ValueError(f"Shapes must be equal rank, but are {shape.ndims} and "
                             f"{other.ndims}")  # TF's shape-inference wording
        for i, (a, b) in enumerate(zip(shape.dims or [], other.dims or [])):
            if not a.is_compatible_with(b):
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {a} and "
                                 f"{b}. Shapes are {shape} and {other}.")
        shape = shape.merge_with(other)
    return shape


def normalize_axis(axis, ndims, what="axis"):
    """`axis` in [0, ndims); ValueError naming the valid range otherwise."""
    if not -ndims <= axis < max(ndims, 1):
        raise ValueError(f"{what} {axis} is out of range for a tensor of rank {ndims}; "
                         f"expected in [{-ndims}, {ndims})")
    return axis % ndims if ndims else 0


# ---- kernel input checks: TF's wording instead of NumPy's ----------------------------------------
# Kernels call these on their failure path (after NumPy raised) or before NumPy would raise, so
# that a bad shape fed at run time reads as TensorFlow reports it. The executor adds the op's
# name, inputs and creation site.
def shape_text(shape):
    """A shape as TensorFlow prints it: [2,3]."""
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def type_text(dtype):
    """A dtype as TF's kernels print it (DataTypeString): float, double, half, int32, ..."""
    name = dtypes.as_dtype(dtype).base_dtype.name
    return _TF_TYPE_NAMES.get(name, name)


def partial_shape_text(shape):
    """A static shape as TF's kernels print it: [?,2], or <unknown>."""
    shape = tensor_shape.as_shape(shape)
    if shape.ndims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def check_broadcastable(ctx, x, y):
    """Raises TF's InvalidArgumentError if `x` and `y` do not broadcast; returns otherwise."""
    sx, sy = np.shape(x), np.shape(y)
    try:
        np.broadcast_shapes(sx, sy)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Incompatible shapes: {shape_text(sx)} vs. {shape_text(sy)}") from None


def scalar_int(ctx, value, what):
    """`value`, an input that must be a scalar (an axis, a depth, a count), as an int; TF's
    InvalidArgumentError otherwise (int() of a vector would raise NumPy's TypeError)."""
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{what} must be a scalar, but it has shape "
                          f"{shape_text(np.shape(value))}")
    return int(value)


def check_dimension(ctx, axis, ndims, expected="Expected dimension"):
    """`axis` in [0, ndims), or TF's 'Expected dimension in the range' error."""
    axis = scalar_int(ctx, axis, "dimension")
    if not -ndims <= axis < max(ndims, 1):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{expected} in the range [{-ndims}, {ndims}), but got {axis}")
    return axis % ndims if ndims else 0
