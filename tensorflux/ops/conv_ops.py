"""Convolution, pooling and local response normalization: Conv2D (and its backprop ops),
DepthwiseConv2dNative (and its backprop ops), MaxPool/MaxPoolGrad/MaxPoolGradGrad,
AvgPool/AvgPoolGrad, LRN/LRNGrad. Exposed as `tf.nn.*` (tensorflux/nn/__init__.py).

Padding follows TensorFlow: VALID output = ceil((in - k_eff + 1) / stride); SAME output =
ceil(in / stride), padded with total = max((out - 1) * stride + k_eff - in, 0) of which
total // 2 goes before, where k_eff = (k - 1) * dilation + 1.

Kernels work in NHWC (NCHW is transposed around them) and in float32 for half types; their
NumPy cores (im2col GEMM convolutions, pooling, LRN's depth window) are in window_kernels.py."""
import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import intra_op
from tensorflux.ops import window_checks
from tensorflux.ops import math_ops
from tensorflux.ops import window_kernels as _wk
from tensorflux.ops.window_kernels import Geometry as _Geometry
from tensorflux.ops.window_kernels import out_and_pad as _out_and_pad

__all__ = []  # everything here lives in tf.nn

_PADDING = registry.Attr("string", allowed=("SAME", "VALID"))
_FORMAT = registry.Attr("string", "NHWC", allowed=("NHWC", "NCHW"))


def _s(value):
    return value.decode() if isinstance(value, bytes) else value


# ---- geometry -----------------------------------------------------------------------------------
def _static_out(size, k, stride, dilation, padding):
    if size is None or k is None:
        return None
    return _out_and_pad(size, k, stride, dilation, padding)[0]


def _nhwc(values, data_format):
    """A 4-vector (strides, ksize, dilations, a shape) in NHWC order."""
    values = list(values)
    return [values[0], values[2], values[3], values[1]] if _s(data_format) == "NCHW" else values


def _from_nhwc(values, data_format):
    values = list(values)
    return [values[0], values[3], values[1], values[2]] if _s(data_format) == "NCHW" else values


def _check_4(name, values, what="strides"):
    if len(values) != 4:
        raise ValueError(f"{name} requires the {what[:-1]} attribute to contain 4 values, but "
                         f"got: {len(values)}")
    return values


def _spatial_attrs(attrs, ksize_name=None):
    """(kh, kw) for pooling or None, (sh, sw), (dh, dw) from NHWC-normalised attrs."""
    fmt = attrs.get("data_format", "NHWC")
    strides = _nhwc(attrs["strides"], fmt)
    dil = _nhwc(attrs.get("dilations", [1, 1, 1, 1]), fmt)
    k = _nhwc(attrs[ksize_name], fmt)[1:3] if ksize_name else None
    return k, strides[1:3], dil[1:3]


def _compute_dtype(dtype):
    return np.float64 if dtype == np.float64 else np.float32


def _as_t(ctx, x):
    dtype = ctx.attrs["T"].as_numpy_dtype
    return x if x.dtype == dtype else x.astype(dtype)


def _to_nhwc_array(x, fmt):
    return np.transpose(x, (0, 2, 3, 1)) if _s(fmt) == "NCHW" else x


def _from_nhwc_array(x, fmt):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))) if _s(fmt) == "NCHW" else x


# ---- Conv2D and its backprop ops ----------------------------------------------------------------
def _conv_attrs(cudnn_attr):
    """TF's attrs of a convolution family (only Conv2D's ops declare use_cudnn_on_gpu)."""
    attrs = {"T": common.FLOATS, "strides": "list(int)", "padding": _PADDING,
             "data_format": _FORMAT, "dilations": [1, 1, 1, 1]}
    if cudnn_attr:
        attrs["use_cudnn_on_gpu"] = True
    return attrs


def _conv_out_shape(op, in_shape, f_shape, out_channels):
    """Static NHWC->format output shape of a convolution-like op."""
    fmt = op.get_attr("data_format")
    window_checks.check_attrs(op, lambda v: _nhwc(v, fmt), pooling=False)
    strides = _nhwc(op.get_attr("strides"), fmt)
    dil = _nhwc(_check_4(op.type, op.get_attr("dilations"), "dilations"), fmt)
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape(4)
    n, h, w, c = _nhwc(in_shape.as_list(), fmt)
    kh, kw = f_shape[0].value, f_shape[1].value
    if c is not None and f_shape[2].value is not None and c != f_shape[2].value:
        raise ValueError(f"Dimensions must be equal, but are {c} and {f_shape[2].value}")
    pad = op.get_attr("padding")
    for size, k, d in ((h, kh, dil[1]), (w, kw, dil[2])):
        window_checks.check_static_size(size, None if k is None else (k - 1) * d + 1, pad)
    dims = [n, _static_out(h, kh, strides[1], dil[1], pad),
            _static_out(w, kw, strides[2], dil[2], pad), out_channels]
    return tensor_shape.TensorShape(_from_nhwc(dims, fmt))


def _check_conv_args(ctx, x, w, name="filter"):
    fmt = ctx.attrs.get("data_format", "NHWC")
    for what, a in (("input", x), (name, w)):
        if a.ndim != 4:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"{'convolution ' if what == 'input' else ''}{what} must be "
                              f"4-dimensional: {common.shape_text(a.shape)}")
    window_checks.check_attrs_at_run(ctx, lambda v: _nhwc(v, fmt), pooling=False)


def _geometry(ctx, x_shape, f_shape):
    _, strides, dil = _spatial_attrs(ctx.attrs)
    for size, k, s, d in zip(x_shape[1:3], f_shape[:2], strides, dil):
        window_checks.check_run_size(ctx, size, (k - 1) * d + 1, s, ctx.attrs["padding"])
    return _Geometry(x_shape, f_shape[0], f_shape[1], strides, dil, ctx.attrs["padding"])


def _grad_attrs(op):
    return {k: op.get_attr(k) for k in ("strides", "padding", "data_format", "dilations")}


def _sizes(ctx, sizes, what):
    sizes = [int(s) for s in np.ravel(sizes)]
    if len(sizes) != 4 or min(sizes) < 0:
        raise errors.InvalidArgumentError(None, ctx.op, f"{what} must have 4 non-negative "
                                                        f"elements, got {sizes}")
    limits.check_allocation(ctx.op, sizes, np.float64)  # the gradient is computed in float64
    return sizes


def _check_4d(ctx, **arrays):
    """TF's 'must be 4-dimensional' for a backprop kernel's array inputs fed at run time."""
    for what, a in arrays.items():
        if np.ndim(a) != 4:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"{what} must be 4-dimensional{common.shape_text(np.shape(a))}")


def _check_out_backprop(ctx, dy, g, channels, x_shape, w_shape):
    if dy.shape != (g.n, g.oh, g.ow, channels) or g.c != w_shape[2]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"out_backprop (NHWC) must be {[g.n, g.oh, g.ow, channels]} for "
                          f"input {list(x_shape)} and filter {list(w_shape)}, got "
                          f"{list(dy.shape)}")


class _ConvFamily:
    """A convolution op and its two backprop ops, with kernels from three NumPy functions
    (NHWC, compute dtype) and gradients that use each other: every one is linear in each
    float input, so its gradient is another member of the family."""

    def __init__(self, names, numpy_fns, out_channels, cudnn_attr):
        self.names = names  # (forward, backprop input, backprop filter)
        self.forward_np, self.input_np, self.filter_np = numpy_fns
        self.out_channels = out_channels  # filter shape -> output channels
        fwd, bi, bf = (registry.register_op(name, inputs=inputs, outputs=["output: T"],
                                            attrs=_conv_attrs(cudnn_attr))
                       for name, inputs in zip(names, (
                           ["input: T", "filter: T"],
                           ["input_sizes: int32", "filter: T", "out_backprop: T"],
                           ["input: T", "filter_sizes: int32", "out_backprop: T"])))
        fwd.shape(self._forward_shape)
        bi.shape(lambda op: tensor_util.constant_value_as_shape(op.inputs[0]).with_rank(4))
        bf.shape(lambda op: tensor_util.constant_value_as_shape(op.inputs[1]).with_rank(4))
        fwd.kernel("CPU")(self._forward_kernel)
        bi.kernel("CPU")(self._input_kernel)
        bf.kernel("CPU")(self._filter_kernel)
        fwd.gradient(self._forward_grad)
        bi.gradient(self._input_grad)
        bf.gradient(self._filter_grad)
        self.ops = (fwd, bi, bf)

    def _forward_shape(self, op):
        f_shape = op.inputs[1].get_shape().with_rank(4)
        op.inputs[0].get_shape().with_rank(4)
        dims = [d.value for d in f_shape]
        channels = None if None in dims else self.out_channels(dims)
        return _conv_out_shape(op, op.inputs[0].get_shape(), f_shape, channels)

    def _forward_kernel(self, ctx, x, w):
        _check_conv_args(ctx, x, w)
        fmt = ctx.attrs["data_format"]
        x = _to_nhwc_array(x, fmt)
        if x.shape[3] != w.shape[2]:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"input and filter must have the same depth: {x.shape[3]} vs "
                              f"{w.shape[2]}")
        cd = _compute_dtype(x.dtype)
        with intra_op.limit(ctx.intra_op_threads):
            out = self.forward_np(x.astype(cd, copy=False), w.astype(cd, copy=False),
                                  _geometry(ctx, x.shape, w.shape))
        return _as_t(ctx, _from_nhwc_array(out, fmt))

    def _input_kernel(self, ctx, sizes, w, dy):
        fmt = ctx.attrs["data_format"]
        in_shape = _nhwc(_sizes(ctx, sizes, "input_sizes"), fmt)
        _check_4d(ctx, filter=w, out_backprop=dy)
        dy = _to_nhwc_array(dy, fmt)
        g = _geometry(ctx, in_shape, w.shape)
        _check_out_backprop(ctx, dy, g, self.out_channels(w.shape), in_shape, w.shape)
        cd = _compute_dtype(dy.dtype)
        with intra_op.limit(ctx.intra_op_threads):
            dx = self.input_np(w.astype(cd, copy=False), dy.astype(cd, copy=False), g)
        return _as_t(ctx, _from_nhwc_array(dx, fmt))

    def _filter_kernel(self, ctx, x, sizes, dy):
        fmt = ctx.attrs["data_format"]
        w_shape = _sizes(ctx, sizes, "filter_sizes")
        _check_4d(ctx, input=x, out_backprop=dy)
        x, dy = _to_nhwc_array(x, fmt), _to_nhwc_array(dy, fmt)
        g = _geometry(ctx, x.shape, w_shape)
        _check_out_backprop(ctx, dy, g, self.out_channels(w_shape), x.shape, w_shape)
        cd = _compute_dtype(dy.dtype)
        with intra_op.limit(ctx.intra_op_threads):
            dw = self.filter_np(x.astype(cd, copy=False), w_shape, dy.astype(cd, copy=False), g)
        return _as_t(ctx, dw)

    def _apply(self, which, *inputs, attrs):
        return apply_op(self.names[which], *inputs, **attrs)

    def _forward_grad(self, op, grad):
        x, w = op.inputs
        attrs = _grad_attrs(op)
        return [self._apply(1, array_ops.shape(x), w, grad, attrs=attrs),
                self._apply(2, x, array_ops.shape(w), grad, attrs=attrs)]

    def _input_grad(self, op, grad):
        _, w, dy = op.inputs
        attrs = _grad_attrs(op)
        return [None, self._apply(2, grad, array_ops.shape(w), dy, attrs=attrs),
                self._apply(0, grad, w, attrs=attrs)]

    def _filter_grad(self, op, grad):
        x, _, dy = op.inputs
        attrs = _grad_attrs(op)
        return [self._apply(1, array_ops.shape(x), grad, dy, attrs=attrs), None,
                self._apply(0, x, grad, attrs=attrs)]


Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter = _ConvFamily(
    ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"),
    (_wk.conv_forward, _wk.conv_backprop_input, _wk.conv_backprop_filter),
    lambda f_shape: f_shape[3], cudnn_attr=True).ops


# ---- DepthwiseConv2dNative and its backprop ops -------------------------------------------------
def _depthwise_forward(x, w, g):
    """out[..., c * M + m] = sum over taps of x[tap, c] * w[i, j, c, m]."""
    xp = g.pad(x)
    out = np.zeros((g.n, g.oh, g.ow, g.c, w.shape[3]), dtype=x.dtype)
    for i, j, rows, cols in g.taps():
        out += xp[:, rows, cols, :, None] * w[i, j]
    return out.reshape(g.n, g.oh, g.ow, -1)


def _depthwise_backprop_input(w, dy, g):
    dy = dy.reshape(g.n, g.oh, g.ow, g.c, w.shape[3])
    dxp = np.zeros((g.n, g.h + g.pt + g.pb, g.w + g.pl + g.pr, g.c), dtype=dy.dtype)
    for i, j, rows, cols in g.taps():
        dxp[:, rows, cols, :] += np.einsum("nhwcm,cm->nhwc", dy, w[i, j])
    return np.ascontiguousarray(g.crop(dxp))


def _depthwise_backprop_filter(x, w_shape, dy, g):
    dy = dy.reshape(g.n, g.oh, g.ow, g.c, w_shape[3])
    xp = g.pad(x)
    dw = np.zeros(w_shape, dtype=dy.dtype)
    for i, j, rows, cols in g.taps():
        dw[i, j] = np.einsum("nhwc,nhwcm->cm", xp[:, rows, cols, :], dy)
    return dw


Depthwise, DepthwiseInput, DepthwiseFilter = _ConvFamily(
    ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
     "DepthwiseConv2dNativeBackpropFilter"),
    (_depthwise_forward, _depthwise_backprop_input, _depthwise_backprop_filter),
    lambda f_shape: f_shape[2] * f_shape[3], cudnn_attr=False).ops


# ---- pooling ------------------------------------------------------------------------------------
def _pool_attrs(types):
    return {"T": types, "ksize": "list(int)", "strides": "list(int)", "padding": _PADDING,
            "data_format": _FORMAT}


def _pool_shape_of(op, in_shape):
    fmt = op.get_attr("data_format")
    window_checks.check_attrs(op, lambda v: _nhwc(v, fmt), pooling=True)
    ksize, strides = _nhwc(op.get_attr("ksize"), fmt), _nhwc(op.get_attr("strides"), fmt)
    in_shape = in_shape.with_rank(4)
    if in_shape.ndims is None:
        return tensor_shape.unknown_shape(4)
    n, h, w, c = _nhwc(in_shape.as_list(), fmt)
    pad = op.get_attr("padding")
    window_checks.check_static_size(h, ksize[1], pad)
    window_checks.check_static_size(w, ksize[2], pad)
    dims = [n, _static_out(h, ksize[1], strides[1], 1, pad),
            _static_out(w, ksize[2], strides[2], 1, pad), c]
    return tensor_shape.TensorShape(_from_nhwc(dims, fmt))


def _pool_geometry(ctx, in_shape):
    fmt = ctx.attrs["data_format"]
    if len(in_shape) != 4:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input must be 4-dimensional, got {common.shape_text(in_shape)}")
    window_checks.check_attrs_at_run(ctx, lambda v: _nhwc(v, fmt), pooling=True)
    (kh, kw), strides, _ = _spatial_attrs(ctx.attrs, "ksize")
    if _nhwc(ctx.attrs["ksize"], fmt)[3] != 1 or _nhwc(ctx.attrs["strides"], fmt)[3] != 1:
        raise errors.UnimplementedError(  # TF pools over depth alone; tensorflux does not
            None, ctx.op, "Pooling across depth is not supported by tensorflux; ksize and "
                          "strides must be 1 in the depth dimension")
    for size, k, s in zip(in_shape[1:3], (kh, kw), strides):
        window_checks.check_run_size(ctx, size, k, s, ctx.attrs["padding"])
    return _Geometry(in_shape, kh, kw, strides, (1, 1), ctx.attrs["padding"])


MaxPool = registry.register_op("MaxPool", inputs=["input: T"], outputs=["output: T"],
                               attrs=_pool_attrs(common.REALS))


@MaxPool.shape
def _max_pool_shape(op):
    return _pool_shape_of(op, op.inputs[0].get_shape())


@MaxPool.kernel("CPU")
def _max_pool_kernel(ctx, x):
    fmt = ctx.attrs["data_format"]
    x = _to_nhwc_array(x, fmt)
    return _from_nhwc_array(_wk.window_max(x, _pool_geometry(ctx, x.shape)), fmt)


@MaxPool.gradient
def _max_pool_grad(op, grad):
    return [apply_op("MaxPoolGrad", op.inputs[0], op.outputs[0], grad, **_pool_grad_attrs(op))]


def _pool_grad_attrs(op):
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


MaxPoolGrad = registry.register_op(
    "MaxPoolGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"],
    outputs=["output: T"], attrs=_pool_attrs(common.REALS))
MaxPoolGrad.shape(common.unchanged_shape)


@MaxPoolGrad.kernel("CPU")
def _max_pool_grad_kernel(ctx, x, y, dy):
    fmt = ctx.attrs["data_format"]
    x, dy = _to_nhwc_array(x, fmt), _to_nhwc_array(dy, fmt)
    g = _pool_geometry(ctx, x.shape)
    y = _to_nhwc_array(y, fmt)
    if y.shape != (g.n, g.oh, g.ow, g.c) or dy.shape != y.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"orig_output and grad (NHWC) must be {[g.n, g.oh, g.ow, g.c]} for "
                          f"input {list(x.shape)}, got {list(y.shape)} and {list(dy.shape)}")
    return _as_t(ctx, _from_nhwc_array(_wk.max_pool_backprop(x, y, dy, g), fmt))


@MaxPoolGrad.gradient
def _max_pool_grad_grad(op, grad):
    x, y, _ = op.inputs
    attrs = _pool_grad_attrs(op)
    return [array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPoolGradGrad", x, y, grad, **attrs)]


MaxPoolGradGrad = registry.register_op(
    "MaxPoolGradGrad", inputs=["orig_input: T", "orig_output: T", "grad: T"],
    outputs=["output: T"], attrs=_pool_attrs(common.REALS))


@MaxPoolGradGrad.shape
def _max_pool_grad_grad_shape(op):
    return op.inputs[1].get_shape()


@MaxPoolGradGrad.kernel("CPU")
def _max_pool_grad_grad_kernel(ctx, x, y, gx):
    """The gradient `gx` (input-shaped) read at each window's argmax."""
    fmt = ctx.attrs["data_format"]
    x, gx = _to_nhwc_array(x, fmt), _to_nhwc_array(gx, fmt)
    g = _pool_geometry(ctx, x.shape)
    _, arg = _wk.max_and_argmax(x, g)
    gp = g.pad(gx)
    out = np.zeros((g.n, g.oh, g.ow, g.c), dtype=gx.dtype)
    for t, (_, _, rows, cols) in enumerate(g.taps()):
        out += np.where(arg == t, gp[:, rows, cols, :], 0)
    return _as_t(ctx, _from_nhwc_array(out, fmt))


@MaxPoolGradGrad.gradient
def _max_pool_grad_grad_grad(op, grad):
    x, y, _ = op.inputs
    return [array_ops.zeros_like(x), array_ops.zeros_like(y),
            apply_op("MaxPoolGrad", x, y, grad, **_pool_grad_attrs(op))]


def _window_counts(g):
    """[oh, ow, 1]: how many real (unpadded) input pixels each window covers."""
    def counts(out, k, s, pad, size):
        start = np.arange(out) * s - pad
        return np.minimum(start + k, size) - np.maximum(start, 0)
    return np.outer(counts(g.oh, g.kh, g.sh, g.pt, g.h),
                    counts(g.ow, g.kw, g.sw, g.pl, g.w))[:, :, None]


AvgPool = registry.register_op("AvgPool", inputs=["value: T"], outputs=["output: T"],
                               attrs=_pool_attrs(common.FLOATS))


@AvgPool.shape
def _avg_pool_shape(op):
    return _pool_shape_of(op, op.inputs[0].get_shape())


@AvgPool.kernel("CPU")
def _avg_pool_kernel(ctx, x):
    fmt = ctx.attrs["data_format"]
    x = _to_nhwc_array(x, fmt)
    g = _pool_geometry(ctx, x.shape)
    xp = g.pad(x.astype(_compute_dtype(x.dtype), copy=False))
    total = np.zeros((g.n, g.oh, g.ow, g.c), dtype=xp.dtype)
    for _, _, rows, cols in g.taps():
        total += xp[:, rows, cols, :]
    return _as_t(ctx, _from_nhwc_array(total / _window_counts(g), fmt))


@AvgPool.gradient
def _avg_pool_grad(op, grad):
    return [apply_op("AvgPoolGrad", array_ops.shape(op.inputs[0]), grad,
                     **_pool_grad_attrs(op))]


AvgPoolGrad = registry.register_op("AvgPoolGrad",
                                   inputs=["orig_input_shape: int32", "grad: T"],
                                   outputs=["output: T"], attrs=_pool_attrs(common.FLOATS))


@AvgPoolGrad.shape
def _avg_pool_grad_shape(op):
    return tensor_util.constant_value_as_shape(op.inputs[0]).with_rank(4)


@AvgPoolGrad.kernel("CPU")
def _avg_pool_grad_kernel(ctx, sizes, dy):
    fmt = ctx.attrs["data_format"]
    shape = _nhwc(_sizes(ctx, sizes, "orig_input_shape"), fmt)
    dy = _to_nhwc_array(dy, fmt)
    g = _pool_geometry(ctx, shape)
    if dy.shape != (g.n, g.oh, g.ow, g.c):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"grad (NHWC) must be {[g.n, g.oh, g.ow, g.c]} for input {shape}, "
                          f"got {list(dy.shape)}")
    share = dy.astype(_compute_dtype(dy.dtype)) / _window_counts(g)
    dxp = np.zeros((g.n, g.h + g.pt + g.pb, g.w + g.pl + g.pr, g.c), dtype=share.dtype)
    for _, _, rows, cols in g.taps():
        dxp[:, rows, cols, :] += share
    return _as_t(ctx, _from_nhwc_array(np.ascontiguousarray(g.crop(dxp)), fmt))


@AvgPoolGrad.gradient
def _avg_pool_grad_grad(op, grad):
    return [None, apply_op("AvgPool", grad, **_pool_grad_attrs(op))]


# ---- LRN ----------------------------------------------------------------------------------------
def _lrn_attrs():
    return {"T": common.FLOATS, "depth_radius": 5, "bias": 1.0, "alpha": 1.0, "beta": 0.5}


def _lrn_norm(ctx, x):
    if x.ndim != 4:
        raise errors.InvalidArgumentError(None, ctx.op, f"in must be 4-dimensional, got shape "
                                                        f"{common.shape_text(x.shape)}")
    a = ctx.attrs
    if a["depth_radius"] < 0:
        raise errors.InvalidArgumentError(None, ctx.op, f"depth_radius must be non-negative, "
                                                        f"got {a['depth_radius']}")
    norm = _wk.depth_window_sum(np.square(x), a["depth_radius"])
    norm *= x.dtype.type(a["alpha"])
    norm += x.dtype.type(a["bias"])
    return norm


LRN = registry.register_op("LRN", inputs=["input: T"], outputs=["output: T"],
                           attrs=_lrn_attrs())
LRN.shape(lambda op: op.inputs[0].get_shape().with_rank(4))


@LRN.kernel("CPU")
def _lrn_kernel(ctx, x):
    x = x.astype(_compute_dtype(x.dtype), copy=False)
    return _as_t(ctx, x * _wk.neg_pow(_lrn_norm(ctx, x), ctx.attrs["beta"]))


def _lrn_attr_values(op):
    return {k: op.get_attr(k) for k in ("depth_radius", "bias", "alpha", "beta")}


@LRN.gradient
def _lrn_grad(op, grad):
    return [apply_op("LRNGrad", grad, op.inputs[0], op.outputs[0], **_lrn_attr_values(op))]


LRNGrad = registry.register_op("LRNGrad",
                               inputs=["input_grads: T", "input_image: T", "output_image: T"],
                               outputs=["output: T"], attrs=_lrn_attrs())
LRNGrad.shape(common.merged_input_shapes)


@LRNGrad.kernel("CPU")
def _lrn_grad_kernel(ctx, dy, x, y):
    cd = _compute_dtype(x.dtype)
    x, dy = x.astype(cd, copy=False), dy.astype(cd, copy=False)
    norm = _lrn_norm(ctx, x)
    beta, alpha, r = ctx.attrs["beta"], ctx.attrs["alpha"], ctx.attrs["depth_radius"]
    scaled = _wk.neg_pow(norm.copy(), beta)  # N^-beta; N^(-beta - 1) = scaled / norm
    inner = dy * x
    inner *= scaled
    inner /= norm
    inner = _wk.depth_window_sum(inner, r)
    inner *= x
    inner *= cd(2 * alpha * beta)
    out = np.multiply(dy, scaled, out=scaled)
    out -= inner
    return _as_t(ctx, out)


def _lrn_grad_composite(dy, x, depth_radius, bias, alpha, beta):
    """LRNGrad written with primitive ops, so its own gradient comes from autodiff."""
    depth = x.get_shape()[-1].value
    if depth is None:
        raise ValueError(f"the gradient of LRNGrad needs the static depth of its input, got "
                         f"shape {x.get_shape()}")
    idx = np.arange(depth)
    band = ops.convert_to_tensor((np.abs(idx[:, None] - idx[None, :]) <= depth_radius)
                                 .astype(x.dtype.base_dtype.as_numpy_dtype))

    def window(v):
        flat = array_ops.reshape(v, [-1, depth])
        return array_ops.reshape(math_ops.matmul(flat, band), array_ops.shape(v))
    norm = bias + alpha * window(math_ops.square(x))
    inner = window(dy * x * math_ops.pow(norm, -beta - 1))
    return dy * math_ops.pow(norm, -beta) - 2 * alpha * beta * x * inner


@LRNGrad.gradient
def _lrn_grad_grad(op, grad):
    from tensorflux.autodiff.gradients import gradients
    dy, x = (array_ops.identity(t) for t in op.inputs[:2])
    composite = _lrn_grad_composite(dy, x, **_lrn_attr_values(op))
    d_dy, d_x = gradients(composite, [dy, x], grad_ys=grad)
    return [d_dy, d_x, None]


# ---- Python wrappers ----------------------------------------------------------------------------
def conv2d(input, filter, strides, padding, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """2-D convolution of a 4-D input [N, H, W, C] with a filter [kh, kw, C, out_channels]."""
    return apply_op("Conv2D", input, filter, strides=list(strides), padding=padding,
                    use_cudnn_on_gpu=use_cudnn_on_gpu, data_format=data_format or "NHWC",
                    dilations=list(dilations or (1, 1, 1, 1)), name=name)


def conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1),
                          name=None):
    """The gradient of conv2d with respect to its input (of shape input_sizes)."""
    return apply_op("Conv2DBackpropInput", input_sizes, filter, out_backprop,
                    strides=list(strides), padding=padding, use_cudnn_on_gpu=use_cudnn_on_gpu,
                    data_format=data_format or "NHWC", dilations=list(dilations), name=name)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1),
                           name=None):
    """The gradient of conv2d with respect to its filter (of shape filter_sizes)."""
    return apply_op("Conv2DBackpropFilter", input, filter_sizes, out_backprop,
                    strides=list(strides), padding=padding, use_cudnn_on_gpu=use_cudnn_on_gpu,
                    data_format=data_format or "NHWC", dilations=list(dilations), name=name)


def conv2d_transpose(value, filter, output_shape, strides, padding="SAME",
                     data_format="NHWC", name=None):
    """The transpose of conv2d (a 'deconvolution'): filter is [kh, kw, out_channels, in]."""
    with ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as name:
        sizes = ops.convert_to_tensor(output_shape, name="output_shape")
        if sizes.dtype.base_dtype != array_ops.shape(value).dtype.base_dtype:
            sizes = math_ops.cast(sizes, array_ops.shape(value).dtype.base_dtype)
        return conv2d_backprop_input(sizes, filter, value, strides, padding,
                                     data_format=data_format, name=name)


def atrous_conv2d(value, filters, rate, padding, name=None):
    """conv2d with stride 1 and the filter dilated by `rate`."""
    return conv2d(value, filters, [1, 1, 1, 1], padding, dilations=[1, rate, rate, 1], name=name)


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",
                            dilations=(1, 1, 1, 1), name=None):
    """Per-channel convolution: filter [kh, kw, C, M] gives C * M output channels."""
    return apply_op("DepthwiseConv2dNative", input, filter, strides=list(strides),
                    padding=padding, data_format=data_format or "NHWC",
                    dilations=list(dilations), name=name)


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,
                     data_format=None):
    """tf.nn.depthwise_conv2d: depthwise_conv2d_native with an optional dilation `rate`.
    (TF 0.9's fifth positional argument was `name`; a string there is taken as the name.)"""
    if isinstance(rate, str):
        rate, name = None, rate
    rate = [1, 1] if rate is None else list(rate)
    fmt = data_format or "NHWC"
    dilations = [1, 1] + rate if fmt == "NCHW" else [1] + rate + [1]
    if rate != [1, 1] and any(s != 1 for s in strides):
        raise ValueError(f"depthwise_conv2d: strides must be 1 when rate > 1, got strides "
                         f"{list(strides)} and rate {rate}")
    return depthwise_conv2d_native(input, filter, strides, padding, fmt, dilations, name)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
                     rate=None, name=None, data_format=None):
    """depthwise_conv2d followed by a 1x1 conv2d with pointwise_filter (a string `rate` is
    TF 0.9's positional name)."""
    if isinstance(rate, str):
        rate, name = None, rate
    with ops.name_scope(name, "separable_conv2d",
                        [input, depthwise_filter, pointwise_filter]) as name:
        depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, rate,
                                     data_format=data_format)
        return conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], "VALID",
                      data_format=data_format or "NHWC", name=name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None):
    """The maximum over each ksize window (padding counts as -infinity)."""
    return apply_op("MaxPool", value, ksize=list(ksize), strides=list(strides), padding=padding,
                    data_format=data_format or "NHWC", name=name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None):
    """The mean over each ksize window, of the real (unpadded) entries only."""
    return apply_op("AvgPool", value, ksize=list(ksize), strides=list(strides), padding=padding,
                    data_format=data_format or "NHWC", name=name)


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0,
                                 beta=0.5, name=None):
    """input / (bias + alpha * sum of squares over depth_radius neighbours in depth) ** beta."""
    return apply_op("LRN", input, depth_radius=int(depth_radius), bias=float(bias),
                    alpha=float(alpha), beta=float(beta), name=name)


lrn = local_response_normalization
