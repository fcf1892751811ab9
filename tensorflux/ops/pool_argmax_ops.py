"""MaxPoolWithArgmax and MaxPoolGradWithArgmax (`tf.nn.max_pool_with_argmax`), NHWC only as
in TensorFlow.

`argmax` holds, for each output, where its maximum came from, flattened as TF 0.9 documents:
[b, y, x, c] becomes ((b * height + y) * width + x) * channels + c. Later TensorFlow dropped
the batch term by default and added `include_batch_in_index` (default False there) to ask for
it; here the attr defaults to True, TF 0.9's index, and GraphDefs that set it explicitly get
what they ask for. Padding never wins a window (it counts as -infinity); ties go to the
first maximum in the window's row-major order.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import conv_ops
from tensorflux.ops import window_kernels

__all__ = ["max_pool_with_argmax"]

_ATTRS = {"ksize": "list(int)", "strides": "list(int)",
          "Targmax": registry.Attr("type", dtypes.int64, allowed=common.INDEX),
          "padding": registry.Attr("string", allowed=("SAME", "VALID")),
          "include_batch_in_index": True, "T": common.REALS}


def _geometry(ctx, x):
    ksize, strides = ctx.attrs["ksize"], ctx.attrs["strides"]
    if x.ndim != 4:
        raise errors.InvalidArgumentError(None, ctx.op, f"input must be 4-dimensional, got "
                                                        f"shape {common.shape_text(x.shape)}")
    if len(ksize) != 4 or len(strides) != 4 or ksize[0] != 1 or ksize[3] != 1 or \
            strides[0] != 1 or strides[3] != 1:
        raise errors.UnimplementedError(
            None, ctx.op, f"Pooling is not yet supported on the batch nor depth dimension "
                          f"(ksize {list(ksize)}, strides {list(strides)})")
    return window_kernels.Geometry(x.shape, ksize[1], ksize[2], strides[1:3], (1, 1),
                              ctx.attrs["padding"])


def _flat_argmax(g, taps, include_batch):
    """Window tap indices -> flattened input positions."""
    i, j = np.divmod(taps, g.kw)
    rows = np.arange(g.oh)[None, :, None, None] * g.sh + i - g.pt
    cols = np.arange(g.ow)[None, None, :, None] * g.sw + j - g.pl
    flat = (rows * g.w + cols) * g.c + np.arange(g.c)
    if include_batch:
        flat = flat + np.arange(g.n)[:, None, None, None] * (g.h * g.w * g.c)
    return flat


# ---- MaxPoolWithArgmax ----------------------------------------------------------------------
MaxPoolWithArgmax = registry.register_op("MaxPoolWithArgmax", inputs=["input: T"],
                                         outputs=["output: T", "argmax: Targmax"],
                                         attrs=_ATTRS)


@MaxPoolWithArgmax.shape
def _max_pool_with_argmax_shape(op):
    shape = conv_ops._pool_shape_of(_NHWC(op), op.inputs[0].get_shape())
    return [shape, shape]


class _NHWC:
    """An op seen with data_format NHWC (the pooling shape rule reads that attr)."""

    def __init__(self, op):
        self._op, self.type = op, op.type

    def get_attr(self, name):
        return "NHWC" if name == "data_format" else self._op.get_attr(name)


@MaxPoolWithArgmax.gradient
def _max_pool_with_argmax_grad(op, grad, unused_argmax_grad):
    return [apply_op("MaxPoolGradWithArgmax", op.inputs[0], grad, op.outputs[1],
                     **_grad_attrs(op))]


def _grad_attrs(op):
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding",
                                        "include_batch_in_index")}


@MaxPoolWithArgmax.kernel("CPU")
def _max_pool_with_argmax_kernel(ctx, x):
    g = _geometry(ctx, x)
    best, taps = window_kernels.max_and_argmax(x, g)
    flat = _flat_argmax(g, taps, ctx.attrs["include_batch_in_index"])
    return [best, flat.astype(ctx.attrs["Targmax"].as_numpy_dtype)]


# ---- MaxPoolGradWithArgmax: scatters grad to the argmax positions -------------------------------
MaxPoolGradWithArgmax = registry.register_op(
    "MaxPoolGradWithArgmax", inputs=["input: T", "grad: T", "argmax: Targmax"],
    outputs=["output: T"], attrs=_ATTRS)
MaxPoolGradWithArgmax.shape(common.unchanged_shape)


@MaxPoolGradWithArgmax.gradient
def _max_pool_grad_with_argmax_grad(op, grad):
    # Linear in `grad`: its gradient reads the incoming gradient back at the argmax positions.
    argmax = op.inputs[2]
    flat = array_ops.reshape(grad, [-1])
    if not op.get_attr("include_batch_in_index"):
        argmax = argmax + _batch_offsets(op.inputs[0], argmax)
    from tensorflux.ops import indexing_ops
    return [array_ops.zeros_like(op.inputs[0]), indexing_ops.gather(flat, argmax), None]


def _batch_offsets(x, argmax):
    """b * (height * width * channels), shaped to broadcast over argmax [b, oh, ow, c]."""
    from tensorflux.ops import math_ops
    shape = math_ops.cast(array_ops.shape(x), argmax.dtype.base_dtype)
    per_image = shape[1] * shape[2] * shape[3]
    batch = math_ops.cast(array_ops.range(array_ops.shape(x)[0]), argmax.dtype.base_dtype)
    return array_ops.reshape(batch * per_image, [-1, 1, 1, 1])


@MaxPoolGradWithArgmax.kernel("CPU")
def _max_pool_grad_with_argmax_kernel(ctx, x, dy, argmax):
    g = _geometry(ctx, x)
    if dy.shape != (g.n, g.oh, g.ow, g.c) or argmax.shape != dy.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"grad and argmax must have the pooled shape "
                          f"{common.shape_text((g.n, g.oh, g.ow, g.c))}, got "
                          f"{common.shape_text(dy.shape)} and {common.shape_text(argmax.shape)}")
    index = argmax.astype(np.int64)
    if not ctx.attrs["include_batch_in_index"]:
        index = index + np.arange(g.n)[:, None, None, None] * (g.h * g.w * g.c)
    if index.size and (index.min() < 0 or index.max() >= x.size):
        raise errors.InvalidArgumentError(None, ctx.op, "Invalid argmax: an index is out of "
                                                        f"range [0, {x.size})")
    out = np.zeros(x.size, dtype=np.float64 if dy.dtype == np.float64 else np.float32)
    np.add.at(out, index.reshape(-1), dy.reshape(-1))
    return out.reshape(x.shape).astype(x.dtype)


def max_pool_with_argmax(input, ksize, strides, padding, Targmax=None, name=None,  # noqa: A002
                         include_batch_in_index=True):
    """(output, argmax): max pooling (NHWC) and the flattened input index of each maximum."""
    return tuple(apply_op("MaxPoolWithArgmax", input, ksize=list(ksize), strides=list(strides),
                          padding=padding, Targmax=Targmax or dtypes.int64,
                          include_batch_in_index=include_batch_in_index, name=name))
