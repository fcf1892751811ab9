"""Two numeric helpers of TF 0.9 that fit no larger op family: LinSpace (`tf.linspace`,
`tf.lin_space`) and `tf.saturate_cast` (a composite of clipping and Cast)."""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.ops import math_ops
from tensorflux.ops.complex_ops import real

__all__ = ["linspace", "lin_space", "saturate_cast"]

# ---- LinSpace: num evenly spaced values from start to stop, both included --------------------
LinSpace = registry.register_op(
    "LinSpace", inputs=["start: T", "stop: T", "num: Tidx"], outputs=["output: T"],
    attrs={"T": frozenset({dtypes.float32, dtypes.float64}),
           "Tidx": registry.Attr("type", dtypes.int32, allowed=common.INDEX)})
LinSpace.not_differentiable()  # as in TensorFlow


@LinSpace.shape
def _lin_space_shape(op):
    start, stop, num = op.inputs
    for t, what in ((start, "start"), (stop, "stop"), (num, "num")):
        if not t.get_shape().is_compatible_with(tensor_shape.scalar()):
            raise ValueError(f"{what} must be a scalar, got shape {t.get_shape()}")
    n = tensor_util.constant_value(num)
    if n is not None and int(n) <= 0:
        raise ValueError(f"Requires num > 0: {int(n)}")
    return tensor_shape.vector(None if n is None else int(n))


@LinSpace.kernel("CPU")
def _lin_space_kernel(ctx, start, stop, num):
    for value, what in ((start, "start"), (stop, "stop"), (num, "num")):
        if np.ndim(value) != 0:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"{what} must be a scalar, not shape "
                              f"{common.shape_text(np.shape(value))}")
    n = int(num)
    if n <= 0:
        raise errors.InvalidArgumentError(None, ctx.op, f"Requires num > 0: {n}")
    dtype = ctx.attrs["T"].as_numpy_dtype
    limits.check_allocation(ctx.op, [n], dtype)
    return np.linspace(float(start), float(stop), n).astype(dtype)


def linspace(start, stop, num, name=None):
    """`num` evenly spaced values from `start` to `stop` (both included; `num` == 1 gives
    just `start`)."""
    return apply_op("LinSpace", start, stop, num, name=name)


lin_space = linspace


# ---- saturate_cast --------------------------------------------------------------------------
def saturate_cast(value, dtype, name=None):
    """`value` cast to `dtype`, first clipped to the range `dtype` can hold (so large values
    do not wrap around)."""
    with ops.name_scope(name, "saturate_cast", [value]) as name:
        value = ops.convert_to_tensor(value, name="value")
        dtype = dtypes.as_dtype(dtype).base_dtype
        source = value.dtype.base_dtype
        if source.is_complex:
            value = real(value) if not dtype.is_complex else value
            source = value.dtype.base_dtype
        if not dtype.is_complex and source != dtypes.bool:
            np_type = source.as_numpy_dtype
            if source.min < dtype.min:
                value = math_ops.maximum(value, np_type(_lowest(source, dtype)))
            if source.max > dtype.max:
                value = math_ops.minimum(value, np_type(_highest(source, dtype)))
        return math_ops.cast(value, dtype, name=name)


def _lowest(source, dtype):
    """dtype's minimum as a `source` value that does not exceed it once rounded."""
    return _representable(source, dtype.min, np.nextafter, np.inf)


def _highest(source, dtype):
    return _representable(source, dtype.max, np.nextafter, -np.inf)


def _representable(source, bound, step, toward):
    np_type = np.dtype(source.as_numpy_dtype)
    if np_type.kind != "f":
        return bound
    value = np_type.type(bound)
    if float(value) != bound and (float(value) > bound) == (toward == -np.inf):
        value = step(value, np_type.type(toward))  # rounding went past the bound
    return value
