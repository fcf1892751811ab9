"""Neural-network ops: activations (and their gradient ops), softmax, bias addition, losses,
top-k. The Python functions are exposed as `tf.nn.*` (tensorflux/nn/__init__.py).

Gradient ops (ReluGrad, SoftplusGrad, ...) are ops of their own, as in TensorFlow, so graphs
with gradients can be exported; each has a gradient too, for second derivatives.
"""
import numbers

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops import common
from tensorflux.ops import intra_op
from tensorflux.ops import math_ops
from tensorflux.ops import random_ops

__all__ = []  # everything here lives in tf.nn, not the top-level namespace


def _as_t(ctx, result):
    """`result` in the op's T dtype (NumPy promotes float16 and ints)."""
    dtype = ctx.attrs["T"].as_numpy_dtype
    return result if result.dtype == dtype else result.astype(dtype)


def _activation(name, allowed, numpy_fn, grad_name, grad_input):
    """Registers `name` (features -> activations) and its gradient op
    `grad_name`(gradients, features or outputs) -> backprops."""
    op_def = registry.register_op(name, inputs=["features: T"], outputs=["activations: T"],
                                  attrs={"T": allowed})
    op_def.shape(common.unchanged_shape)
    op_def.kernel("CPU")(lambda ctx, x: _as_t(ctx, numpy_fn(x)))
    grad_def = registry.register_op(grad_name, inputs=["gradients: T", f"{grad_input}: T"],
                                    outputs=["backprops: T"], attrs={"T": allowed})
    grad_def.shape(common.merged_input_shapes)
    return op_def, grad_def


def _ones(x):
    return array_ops.ones_like(x)


# ---- Relu / Relu6 ---------------------------------------------------------------------------
Relu, ReluGrad = _activation("Relu", common.REALS, lambda x: np.maximum(x, x.dtype.type(0)),
                             "ReluGrad", "features")


@Relu.gradient
def _relu_grad(op, grad):
    return [relu_grad(grad, op.outputs[0])]


@ReluGrad.kernel("CPU")
def _relu_grad_kernel(ctx, g, x):
    # gradients * (features > 0), as TensorFlow computes it (so NaN * 0 stays NaN); a multiply
    # by the mask is ~10x faster than np.where.
    g, x = np.asarray(g), np.asarray(x)
    dtype = np.result_type(g, x)
    if g.shape == x.shape and dtype == g.dtype and dtype.kind in "fiu":
        return _as_t(ctx, np.multiply(g, np.greater(x, 0)))
    return _as_t(ctx, np.where(x > 0, g, 0))


@ReluGrad.gradient
def _relu_grad_grad(op, grad):
    return [relu_grad(grad, op.inputs[1]), array_ops.zeros_like(op.inputs[1])]


Relu6, Relu6Grad = _activation("Relu6", common.REALS, lambda x: np.clip(x, 0, 6), "Relu6Grad",
                               "features")


@Relu6.gradient
def _relu6_grad(op, grad):
    return [apply_op("Relu6Grad", grad, op.inputs[0])]


@Relu6Grad.kernel("CPU")
def _relu6_grad_kernel(ctx, g, x):
    return _as_t(ctx, np.where((x > 0) & (x < 6), g, 0))


@Relu6Grad.gradient
def _relu6_grad_grad(op, grad):
    return [apply_op("Relu6Grad", grad, op.inputs[1]), array_ops.zeros_like(op.inputs[1])]


# ---- Elu ------------------------------------------------------------------------------------
Elu, EluGrad = _activation("Elu", common.FLOATS,
                           lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
                           "EluGrad", "outputs")


@Elu.gradient
def _elu_grad(op, grad):
    return [apply_op("EluGrad", grad, op.outputs[0])]


@EluGrad.kernel("CPU")
def _elu_grad_kernel(ctx, g, y):
    return _as_t(ctx, np.where(y > 0, g, g * (y + 1)))


@EluGrad.gradient
def _elu_grad_grad(op, grad):
    g, y = op.inputs
    # d/dy of g * (y + 1) on y < 0 is g; ReluGrad(v, -y) keeps v where y < 0.
    return [apply_op("EluGrad", grad, y), relu_grad(grad * g, -y)]


# ---- Softplus -------------------------------------------------------------------------------
Softplus, SoftplusGrad = _activation("Softplus", common.FLOATS, lambda x: np.logaddexp(0, x),
                                     "SoftplusGrad", "features")


@Softplus.gradient
def _softplus_grad(op, grad):
    return [apply_op("SoftplusGrad", grad, op.inputs[0])]


@SoftplusGrad.kernel("CPU")
def _softplus_grad_kernel(ctx, g, x):
    # g * sigmoid(x) as g / (1 + exp(-x)), one division into the denominator's buffer. Half
    # types work in float32 (their exp overflows from x = -11 on).
    x = np.asarray(x)
    t = math_ops.one_plus_exp_neg(x if x.dtype.itemsize >= 4 else x.astype(np.float32))
    return _as_t(ctx, np.divide(g, t, out=t if np.shape(g) == t.shape else None))


@SoftplusGrad.gradient
def _softplus_grad_grad(op, grad):
    g, x = op.inputs
    s = apply_op("SoftplusGrad", _ones(x), x)  # sigmoid(x)
    return [apply_op("SoftplusGrad", grad, x), grad * g * s * (1 - s)]


# ---- Softsign -------------------------------------------------------------------------------
Softsign, SoftsignGrad = _activation("Softsign", common.FLOATS, lambda x: x / (1 + np.abs(x)),
                                     "SoftsignGrad", "features")


@Softsign.gradient
def _softsign_grad(op, grad):
    return [apply_op("SoftsignGrad", grad, op.inputs[0])]


@SoftsignGrad.kernel("CPU")
def _softsign_grad_kernel(ctx, g, x):
    return _as_t(ctx, g / np.square(1 + np.abs(x)))


@SoftsignGrad.gradient
def _softsign_grad_grad(op, grad):
    g, x = op.inputs
    ones = _ones(x)
    q = apply_op("SoftsignGrad", ones, x)                      # (1 + |x|)^-2
    sign = relu_grad(ones, x) - relu_grad(ones, -x)
    # d q / dx = -2 sign(x) (1 + |x|)^-3 = -2 q (sign(x) - softsign(x))
    return [apply_op("SoftsignGrad", grad, x), grad * g * (-2.0 * q) * (sign - softsign(x))]


# ---- Softmax / LogSoftmax --------------------------------------------------------------------
def _rank_at_least_1(op):
    return op.inputs[0].get_shape().with_rank_at_least(1)


def _logsumexp_np(x):
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


Softmax = registry.register_op("Softmax", inputs=["logits: T"], outputs=["softmax: T"],
                               attrs={"T": common.FLOATS})
Softmax.shape(_rank_at_least_1)


def _check_logits_rank(ctx, x):
    if x.ndim < 1:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"logits must have >= 1 dimension, got {common.shape_text(x.shape)}")


@Softmax.kernel("CPU")
def _softmax_kernel(ctx, x):
    _check_logits_rank(ctx, x)
    if x.size == 0:  # nothing to normalize (NumPy's max would refuse the empty class axis)
        return _as_t(ctx, x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return _as_t(ctx, e / np.sum(e, axis=-1, keepdims=True))


@Softmax.gradient
def _softmax_grad(op, grad):
    y = op.outputs[0]
    return [(grad - math_ops.reduce_sum(grad * y, -1, keep_dims=True)) * y]


LogSoftmax = registry.register_op("LogSoftmax", inputs=["logits: T"], outputs=["logsoftmax: T"],
                                  attrs={"T": common.FLOATS})
LogSoftmax.shape(_rank_at_least_1)


@LogSoftmax.kernel("CPU")
def _log_softmax_kernel(ctx, x):
    _check_logits_rank(ctx, x)
    if x.size == 0:
        return _as_t(ctx, x)
    return _as_t(ctx, x - _logsumexp_np(x))


@LogSoftmax.gradient
def _log_softmax_grad(op, grad):
    p = apply_op("Softmax", op.inputs[0])
    return [grad - math_ops.reduce_sum(grad, -1, keep_dims=True) * p]


# ---- BiasAdd / BiasAddGrad / BiasAddV1 --------------------------------------------------------
_FORMAT = registry.Attr("string", "NHWC", allowed=("NHWC", "NCHW"))


def _channel_axis(data_format, rank):
    return 1 if data_format in ("NCHW", b"NCHW") and rank >= 3 else rank - 1


BiasAdd = registry.register_op("BiasAdd", inputs=["value: T", "bias: T"], outputs=["output: T"],
                               attrs={"T": common.NUMBERS, "data_format": _FORMAT})


def _bias_add_shape(op):
    value = op.inputs[0].get_shape().with_rank_at_least(2)
    bias = op.inputs[1].get_shape().with_rank(1)
    if value.ndims is None:
        return value
    fmt = op.get_attr("data_format") if "data_format" in op._attrs else "NHWC"
    axis = _channel_axis(fmt, value.ndims)
    if not value[axis].is_compatible_with(bias[0]):
        raise ValueError(f"bias must have as many elements as value's channel dimension "
                         f"{axis}: value {value}, bias {bias}")
    dims = value.as_list()
    dims[axis] = dims[axis] if dims[axis] is not None else bias[0].value
    return tensor_shape.TensorShape(dims)


BiasAdd.shape(_bias_add_shape)


def _bias_add_np(ctx, value, bias, data_format):
    axis = _channel_axis(data_format, value.ndim)
    if value.ndim < 2 or bias.ndim != 1 or value.shape[axis] != bias.shape[0]:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Must provide as many biases as the last dimension of the input "
                          f"tensor: {common.shape_text(bias.shape)} vs. "
                          f"{common.shape_text(value.shape)}"
                          + ("" if data_format in ("NHWC", b"NHWC", None) else
                             f" (channel dimension {axis}, {data_format})"))
    shape = [1] * value.ndim
    shape[axis] = bias.shape[0]
    return _as_t(ctx, value + bias.reshape(shape))


@BiasAdd.kernel("CPU")
def _bias_add_kernel(ctx, value, bias):
    return _bias_add_np(ctx, value, bias, ctx.attrs["data_format"])


@BiasAdd.gradient
def _bias_add_grad(op, grad):
    return [grad, bias_add_grad(grad, data_format=op.get_attr("data_format"))]


BiasAddGrad = registry.register_op("BiasAddGrad", inputs=["out_backprop: T"],
                                   outputs=["output: T"],
                                   attrs={"T": common.NUMBERS, "data_format": _FORMAT})


@BiasAddGrad.shape
def _bias_add_grad_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(2)
    if shape.ndims is None:
        return tensor_shape.vector(None)
    return tensor_shape.vector(shape[_channel_axis(op.get_attr("data_format"), shape.ndims)])


@BiasAddGrad.kernel("CPU")
def _bias_add_grad_kernel(ctx, g):
    axis = _channel_axis(ctx.attrs["data_format"], g.ndim)
    if axis == g.ndim - 1 and g.dtype in (np.float32, np.float64) and g.flags.c_contiguous \
            and g.size:  # ones @ g: BLAS's GEMV sums rows ~5x faster than np.sum over axes
        return np.ones(g.size // g.shape[-1], dtype=g.dtype) @ g.reshape(-1, g.shape[-1])
    return _as_t(ctx, np.sum(g, axis=tuple(i for i in range(g.ndim) if i != axis)))


@BiasAddGrad.gradient
def _bias_add_grad_grad(op, grad):
    ob = op.inputs[0]
    rank = ob.get_shape().ndims
    if op.get_attr("data_format") == "NCHW" and (rank is None or rank >= 3):
        if rank is None:
            raise ValueError(f"Gradient of BiasAddGrad {op.name} (NCHW) needs the static rank "
                             f"of its input, got shape {ob.get_shape()}")
        grad = array_ops.reshape(grad, [-1] + [1] * (rank - 2))
    return [math_ops.broadcast_to_shape(grad, array_ops.shape(ob))]


def bias_add_grad(out_backprop, data_format="NHWC", name=None):
    return apply_op("BiasAddGrad", out_backprop, data_format=data_format or "NHWC", name=name)


BiasAddV1 = registry.register_op("BiasAddV1", inputs=["value: T", "bias: T"],
                                 outputs=["output: T"], attrs={"T": common.NUMBERS})
BiasAddV1.shape(_bias_add_shape)


@BiasAddV1.kernel("CPU")
def _bias_add_v1_kernel(ctx, value, bias):
    return _bias_add_np(ctx, value, bias, "NHWC")


@BiasAddV1.gradient
def _bias_add_v1_grad(op, grad):
    return [grad, bias_add_grad(grad)]


# ---- softmax cross entropy (dense and sparse labels) ----------------------------------------
def _xent_shape(op):
    logits = op.inputs[0].get_shape().with_rank(2)
    labels = op.inputs[1].get_shape()
    if op.type == "SoftmaxCrossEntropyWithLogits":
        try:
            logits = logits.merge_with(labels.with_rank(2))
        except ValueError:
            raise ValueError(f"logits and labels must have the same shape, got logits {logits} "
                             f"and labels {labels}") from None
    elif not labels.with_rank(1)[0].is_compatible_with(logits[0]):
        raise ValueError(f"labels must be [batch_size] matching logits [batch_size, "
                         f"num_classes], got labels {labels} and logits {logits}")
    return [tensor_shape.vector(logits[0]), logits]


_XENT_BLOCK = 1 << 18  # elements per block of rows: ~1 MB of float32, kept in cache


def sparse_xent_np(logits, labels, scale=None):
    """Sparse softmax cross entropy in the logits' own float dtype (float16 and bfloat16 work
    in float32): the backprop buffer is made by the first pass (logits minus the row max) and
    finished in place, so no one-hot matrix, no copy and no float64 temporaries. Rows go in
    blocks of ~1 MB, so the passes after the first read the cache, not memory; big inputs
    split their blocks over threads (NumPy releases the GIL; each row is computed the same
    way whatever the split). Subtracting the row max keeps exp finite for finite logits.
    `scale` (broadcasting to the backprop): the backprop comes out multiplied by it, block by
    block (the gradient's `grad_loss * backprop`, runtime/optimizer/xent_scale.py)."""
    if logits.dtype not in (np.float32, np.float64):
        logits = logits.astype(np.float32)
    rows, classes = logits.shape
    loss = np.zeros(rows, logits.dtype)
    work = np.empty((rows, classes), logits.dtype)
    if not logits.size:
        return loss, work
    step = max(1, _XENT_BLOCK // classes)
    blocks = [slice(s, min(rows, s + step)) for s in range(0, rows, step)]

    by_row = scale is not None and np.ndim(scale) == 2 and np.shape(scale)[0] == rows > 1

    def run(_, mine):
        for block in mine:
            _xent_rows(logits[block], labels[block], loss[block], work[block])
            if scale is not None:
                np.multiply(work[block], scale[block] if by_row else scale, out=work[block])
    intra_op.run_split(run, blocks, 20 * logits.size, blas=False)
    return loss, work


def _xent_rows(logits, labels, loss, work):
    """One block of sparse_xent_np: fills `loss` and `work` (views of the outputs)."""
    m = logits.max(axis=1, keepdims=True).astype(work.dtype, copy=False)
    m[~np.isfinite(m)] = 0  # rows holding inf/nan give nan, as the float64 reference does
    rows = np.arange(work.shape[0])
    # -huge minus huge overflows to -inf, whose exp is the right 0; inf rows give inf/nan.
    with np.errstate(over="ignore", invalid="ignore"):
        np.subtract(logits, m, out=work, casting="unsafe")
        label_logit = work[rows, labels]  # shifted logit of the true class (a copy)
        np.exp(work, out=work)
        total = work.sum(axis=1, keepdims=True)
        loss[:] = np.log(total[:, 0]) - label_logit
        np.multiply(work, 1 / total, out=work)  # (a multiply pass costs half a divide's)
    work[rows, labels] -= 1


def _check_matrix(ctx, logits, labels, label_rank):
    def fail(message):
        raise errors.InvalidArgumentError(None, ctx.op, message)
    lg, lb = common.shape_text(logits.shape), common.shape_text(labels.shape)
    shapes = f"logits_size={lg} labels_size={lb}"
    if logits.ndim != 2:
        fail(f"logits must be 2-dimensional, got {shapes}")
    if label_rank == 2 and labels.shape != logits.shape:
        fail(f"logits and labels must be same size: {shapes}")  # TF 0.9/1.x's wording
    if label_rank == 1 and labels.ndim != 1:
        fail(f"labels must be 1-D, but got shape {common.shape_text(labels.shape)}")
    if labels.shape[0] != logits.shape[0]:
        fail(f"logits and labels must have the same first dimension, got logits shape "
             f"{lg} and labels shape {lb}")



SoftmaxXent = registry.register_op("SoftmaxCrossEntropyWithLogits",
                                   inputs=["features: T", "labels: T"],
                                   outputs=["loss: T", "backprop: T"], attrs={"T": common.FLOATS})
SoftmaxXent.shape(_xent_shape)


@SoftmaxXent.kernel("CPU")
def _softmax_xent_kernel(ctx, logits, labels, scale=None):
    _check_matrix(ctx, logits, labels, 2)
    loss, backprop = dense_xent_np(logits, labels, scale)
    return _as_t(ctx, loss), _as_t(ctx, backprop)


def dense_xent_np(logits, labels, scale=None):
    """Softmax cross entropy against label distributions, in the logits' own float dtype
    (float16 and bfloat16 work in float32) like sparse_xent_np: one working buffer becomes the
    backprop, no float64 temporaries (tests/ops/test_dense_xent_kernel.py holds the float64
    reference). `scale`: as sparse_xent_np's, applied in place at the end."""
    work_dtype = logits.dtype if logits.dtype in (np.float32, np.float64) else np.float32
    labels = np.asarray(labels, dtype=work_dtype)
    work = np.array(logits, dtype=work_dtype, copy=True, order="C")
    m = work.max(axis=1, keepdims=True) if work.size else np.zeros((work.shape[0], 1))
    m[~np.isfinite(m)] = 0  # rows holding inf/nan give nan, as the reference does
    with np.errstate(over="ignore", invalid="ignore"):
        np.subtract(work, m, out=work, casting="unsafe")  # shifted logits
        weighted = labels * work
        if not np.isfinite(weighted).all():  # 0 * -inf: a label of 0 ignores its logit
            weighted[labels == 0] = 0
        np.exp(work, out=work)
        total = work.sum(axis=1, keepdims=True)
        # -sum(labels * (shifted - log(total))), the log taken once per row
        loss = np.log(total[:, 0]) * labels.sum(axis=1) - weighted.sum(axis=1)
        np.multiply(work, 1 / total, out=work)  # (a multiply pass costs half a divide's)
    work -= labels
    if scale is not None:
        np.multiply(work, scale, out=work)
    return loss, work


def _is_zero(grad):
    """True for a missing gradient (autodiff passes zeros_like for unconnected outputs)."""
    return grad is None or grad.op.type == "ZerosLike"


def _xent_logits_grad(op, grad_loss, grad_backprop):
    """Gradient w.r.t. logits: grad_loss * backprop, plus the softmax Jacobian applied to the
    gradient arriving at the backprop output (backprop = softmax(logits) - labels)."""
    result = array_ops.reshape(grad_loss, [-1, 1]) * op.outputs[1]
    if not _is_zero(grad_backprop):
        p = apply_op("Softmax", op.inputs[0])
        result = result + (grad_backprop - math_ops.reduce_sum(
            grad_backprop * p, -1, keep_dims=True)) * p
    return result


@SoftmaxXent.gradient
def _softmax_xent_grad(op, grad_loss, grad_backprop=None):
    logits_grad = _xent_logits_grad(op, grad_loss, grad_backprop)
    labels_grad = array_ops.reshape(grad_loss, [-1, 1]) * -apply_op("LogSoftmax", op.inputs[0])
    if not _is_zero(grad_backprop):
        labels_grad = labels_grad - grad_backprop
    return [logits_grad, labels_grad]


SparseSoftmaxXent = registry.register_op(
    "SparseSoftmaxCrossEntropyWithLogits", inputs=["features: T", "labels: Tlabels"],
    outputs=["loss: T", "backprop: T"],
    attrs={"T": common.FLOATS,
           "Tlabels": registry.Attr("type", dtypes.int64, allowed=common.INDEX)})
SparseSoftmaxXent.shape(_xent_shape)


@SparseSoftmaxXent.kernel("CPU")
def _sparse_softmax_xent_kernel(ctx, logits, labels, scale=None):
    _check_matrix(ctx, logits, labels, 1)
    classes = logits.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Received a label value of {labels[bad][0]} which is outside the "
                          f"valid range of [0, {classes}).  Label values: "
                          f"{' '.join(str(v) for v in labels.tolist()[:20])}")
    with intra_op.limit(ctx.intra_op_threads):
        loss, backprop = sparse_xent_np(logits, labels, scale)
    return _as_t(ctx, loss), _as_t(ctx, backprop)


@SparseSoftmaxXent.gradient
def _sparse_softmax_xent_grad(op, grad_loss, grad_backprop=None):
    return [_xent_logits_grad(op, grad_loss, grad_backprop), None]


# ---- L2Loss ----------------------------------------------------------------------------------
L2Loss = registry.register_op("L2Loss", inputs=["t: T"], outputs=["output: T"],
                              attrs={"T": common.FLOATS})
L2Loss.shape(common.scalar_shape)


@L2Loss.kernel("CPU")
def _l2_loss_kernel(ctx, t):
    return _as_t(ctx, np.asarray(sum_of_squares(t) / 2))


_BLOCK = 1 << 16


def sum_of_squares(t):
    """sum(t ** 2) as a Python float, in 64K-element blocks whose sums are added in float64:
    float32 and float64 blocks as one BLAS dot product each (one pass, fused multiply-adds in
    several accumulators), narrower floats squared and summed in float64. Within a few float32
    ulps of squaring the whole array in float64 (measured: 5e-8 relative on 2M normal
    float32s), at a quarter of the cost of squaring and summing each block."""
    flat = np.ascontiguousarray(t).reshape(-1)
    if flat.dtype.kind != "f" or flat.size <= _BLOCK:
        return float(np.sum(np.square(flat, dtype=np.float64)))
    total = 0.0
    if flat.dtype.itemsize >= 4:
        for start in range(0, flat.size, _BLOCK):
            chunk = flat[start:start + _BLOCK]
            total += float(np.dot(chunk, chunk))
        return total
    buf = np.empty(_BLOCK, flat.dtype)
    for start in range(0, flat.size, _BLOCK):
        chunk = flat[start:start + _BLOCK]
        out = buf[:chunk.size]
        np.multiply(chunk, chunk, out=out)
        total += float(out.sum(dtype=np.float64))
    return total


@L2Loss.gradient
def _l2_loss_grad(op, grad):
    return [op.inputs[0] * grad]


# ---- InTopK / TopKV2 ---------------------------------------------------------------------------
InTopK = registry.register_op("InTopK", inputs=["predictions: float32", "targets: T"],
                              outputs=["precision: bool"],
                              attrs={"k": "int",
                                     "T": registry.Attr("type", dtypes.int32,
                                                        allowed=common.INDEX)})
InTopK.not_differentiable()


@InTopK.shape
def _in_top_k_shape(op):
    predictions = op.inputs[0].get_shape().with_rank(2)
    targets = op.inputs[1].get_shape().with_rank(1)
    if not predictions[0].is_compatible_with(targets[0]):
        raise ValueError(f"predictions {predictions} and targets {targets} must have the same "
                         "batch size")
    return tensor_shape.vector(predictions[0].merge_with(targets[0]))


@InTopK.kernel("CPU")
def _in_top_k_kernel(ctx, predictions, targets):
    _check_matrix(ctx, predictions, targets, 1)
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    if not np.all(valid):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"targets[{int(np.argmin(valid))}] is out of range")
    chosen = predictions[np.arange(targets.shape[0]), np.where(valid, targets, 0)]
    higher = np.sum(predictions > chosen[:, None], axis=1)
    return valid & np.isfinite(chosen) & (higher < ctx.attrs["k"])


TopKV2 = registry.register_op("TopKV2", inputs=["input: T", "k: int32"],
                              outputs=["values: T", "indices: int32"],
                              attrs={"sorted": True, "T": common.REALS})


@TopKV2.shape
def _top_k_shape(op):
    shape = op.inputs[0].get_shape().with_rank_at_least(1)
    k = tensor_util.constant_value(op.inputs[1])
    if shape.ndims is None:
        return [shape, shape]
    last = shape[-1].value
    if k is not None and last is not None and not 0 <= int(k) <= last:
        raise ValueError(f"k must be in [0, {last}] (the last dimension of input {shape}), "
                         f"got k={int(k)}")
    out = tensor_shape.TensorShape(shape.as_list()[:-1] + [None if k is None else int(k)])
    return [out, out]


@TopKV2.kernel("CPU")
def _top_k_kernel(ctx, x, k):
    n = x.shape[-1] if x.ndim else 0
    if x.ndim and not np.ndim(k) and int(k) > n:  # TF's wording for the common mistake
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input must have at least k columns. Had {n}, needed {int(k)}")
    if x.ndim == 0 or np.ndim(k) or not 0 <= int(k) <= n:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"input must have rank >= 1 and k a scalar in [0, last dimension], "
                          f"got input shape {list(x.shape)} and k={k}")
    # descending and stable (ties keep the lower index first): sort the reversed row ascending
    order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    indices = (n - 1 - order[..., :int(k)]).astype(np.int32)
    return np.take_along_axis(x, indices, axis=-1), indices


@TopKV2.gradient
def _top_k_grad(op, grad_values, grad_indices=None):
    """Scatters the values' gradient back to the input: sum_k one_hot(indices_k) * grad_k."""
    x, indices = op.inputs[0], op.outputs[1]
    depth = x.get_shape()[-1].value if x.get_shape().ndims else None
    if depth is None:
        depth = array_ops.shape(x)[-1]
    hot = array_ops.one_hot(indices, depth, dtype=x.dtype.base_dtype)
    return [math_ops.reduce_sum(hot * array_ops.expand_dims(grad_values, -1), -2), None]


# ---- activations and softmax: Python wrappers ----------------------------------------------------
def relu(features, name=None):
    """max(features, 0)."""
    return apply_op("Relu", features, name=name)


def relu_grad(gradients, features, name=None):
    return apply_op("ReluGrad", gradients, features, name=name)


def relu6(features, name=None):
    """min(max(features, 0), 6)."""
    return apply_op("Relu6", features, name=name)


def elu(features, name=None):
    """features if > 0, else exp(features) - 1."""
    return apply_op("Elu", features, name=name)


def softplus(features, name=None):
    """log(exp(features) + 1), computed without overflow."""
    return apply_op("Softplus", features, name=name)


def softsign(features, name=None):
    """features / (abs(features) + 1)."""
    return apply_op("Softsign", features, name=name)


def _along_last_axis(op_type, logits, dim, name):
    """Applies a last-axis op along `dim` by swapping `dim` with the last axis around it."""
    logits = ops.convert_to_tensor(logits, name="logits")
    rank = logits.get_shape().ndims
    if dim == -1 or (rank is not None and dim == rank - 1):
        return apply_op(op_type, logits, name=name)
    perm = _swap_with_last(logits, dim)
    out = apply_op(op_type, array_ops.transpose(logits, perm))
    return array_ops.transpose(out, perm, name=name)


def _swap_with_last(x, dim):
    """The permutation swapping axis `dim` with the last axis (a tensor if the rank is unknown)."""
    rank = x.get_shape().ndims
    if rank == 0:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for {x.name}: dim={dim} "
                         f"names no dimension of a scalar")
    if rank is not None:
        perm = list(range(rank))
        dim = common.normalize_axis(dim, rank, "dim")
        perm[dim], perm[-1] = perm[-1], perm[dim]
        return perm
    if dim < 0:
        raise ValueError(f"dim={dim} needs the static rank of logits, got shape "
                         f"{x.get_shape()}; give a non-negative dim or a known rank")
    last = array_ops.rank(x) - 1
    return array_ops.concat([array_ops.range(dim), array_ops.reshape(last, [1]),
                             array_ops.range(dim + 1, last), [dim]], 0)


def softmax(logits, dim=-1, name=None):
    """exp(logits) / sum(exp(logits), dim)."""
    return _along_last_axis("Softmax", logits, dim, name)


def log_softmax(logits, dim=-1, name=None):
    """logits - log(sum(exp(logits), dim))."""
    return _along_last_axis("LogSoftmax", logits, dim, name)


def bias_add(value, bias, data_format=None, name=None):
    """value + bias, bias being 1-D over the channel dimension (last for NHWC)."""
    with ops.name_scope(name, "BiasAdd", [value, bias]) as name:
        value = ops.convert_to_tensor(value, name="input")
        bias = ops.convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", value, bias, data_format=data_format or "NHWC", name=name)


def bias_add_v1(value, bias, name=None):
    """TF 0.9's BiasAddV1 (NHWC only)."""
    return apply_op("BiasAddV1", value, bias, name=name)


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with ops.name_scope(name, "xw_plus_b", [x, weights, biases]) as name:
        return bias_add(math_ops.matmul(x, weights), biases, name=name)


# ---- losses: Python wrappers (both API generations) ---------------------------------------------
def _loss_args(fn_name, args, logits, labels, label_word="labels"):
    """(logits, labels, extra positionals). Positional calls use TF 0.9's order (logits, labels);
    keywords mean what they say."""
    if len(args) > 4:
        raise TypeError(f"{fn_name}() takes at most 4 positional arguments, got {len(args)}")
    given = list(args[:2])
    if given and logits is not None:
        raise TypeError(f"{fn_name}() got logits both positionally (TF 0.9 order: logits, "
                        f"{label_word}) and as a keyword")
    if len(given) == 2 and labels is not None:
        raise TypeError(f"{fn_name}() got {label_word} both positionally and as a keyword")
    logits = given[0] if given else logits
    labels = given[1] if len(given) == 2 else labels
    if logits is None or labels is None:
        raise ValueError(f"{fn_name}() requires both {label_word} and logits, got "
                         f"{label_word}={labels!r:.40} and logits={logits!r:.40}")
    return logits, labels, list(args[2:])


def _flat_to_matrix(x):
    """x reshaped to [-1, last dim] (the ops work on matrices)."""
    if x.get_shape().ndims == 0:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for logits and labels "
                         f"({x.name}): they need a class dimension")
    depth = x.get_shape()[-1].value
    if depth is None:
        return array_ops.reshape(x, array_ops.stack([-1, array_ops.shape(x)[-1]]))
    return array_ops.reshape(x, [-1, depth])


def _restore_batch_shape(loss, like, name):
    shape = like.get_shape()
    if shape.ndims is not None and shape[:-1].is_fully_defined():
        return array_ops.reshape(loss, shape[:-1].as_list(), name=name)
    return array_ops.reshape(loss, array_ops.shape(like)[:-1], name=name)


def softmax_cross_entropy_with_logits(*args, labels=None, logits=None, dim=-1, name=None,
                                      _sentinel=None):
    """-sum(labels * log_softmax(logits), dim) per example.

    0.9: (logits, labels[, dim][, name]) positionally; 1.0: (labels=, logits=, dim=, name=)."""
    logits, labels, rest = _loss_args("softmax_cross_entropy_with_logits", args, logits, labels)
    for extra in rest:
        if extra is None or isinstance(extra, str):
            name = extra
        else:
            dim = extra
    with ops.name_scope(name, "SoftmaxCrossEntropyWithLogits", [logits, labels]) as name:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        rank = logits.get_shape().ndims
        if dim != -1 and dim != (rank or 0) - 1:
            perm = _swap_with_last(logits, dim)
            logits = array_ops.transpose(logits, perm)
            labels = array_ops.transpose(labels, perm)
        if rank == 2:
            return apply_op("SoftmaxCrossEntropyWithLogits", logits, labels, name=name)[0]
        loss, _ = apply_op("SoftmaxCrossEntropyWithLogits", _flat_to_matrix(logits),
                           _flat_to_matrix(labels))
        return _restore_batch_shape(loss, logits, name)


def sparse_softmax_cross_entropy_with_logits(*args, labels=None, logits=None, name=None,
                                             _sentinel=None):
    """-log_softmax(logits)[label] per example; labels are int32/int64 class indices.

    0.9: (logits, labels[, name]) positionally; 1.0: (labels=, logits=, name=)."""
    logits, labels, rest = _loss_args("sparse_softmax_cross_entropy_with_logits", args, logits,
                                      labels)
    name = rest[0] if rest else name
    with ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [logits, labels]) as name:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, name="labels")
        if labels.dtype.base_dtype not in common.INDEX:
            raise TypeError(f"labels must be int32 or int64 class indices, got "
                            f"{labels.dtype.name}")
        lr, gr = labels.get_shape().ndims, logits.get_shape().ndims
        if lr is not None and gr is not None and gr != lr + 1:
            raise ValueError(f"Rank mismatch: rank of labels (received {lr}) should equal rank "
                             f"of logits minus 1 (received {gr}); labels "
                             f"{labels.get_shape()}, logits {logits.get_shape()}")
        if gr == 2:
            return apply_op("SparseSoftmaxCrossEntropyWithLogits", logits, labels, name=name)[0]
        loss, _ = apply_op("SparseSoftmaxCrossEntropyWithLogits", _flat_to_matrix(logits),
                           array_ops.reshape(labels, [-1]))
        return _restore_batch_shape(loss, logits, name)


def _same_shape(logits, labels, fn_name):
    try:
        logits.get_shape().merge_with(labels.get_shape())
    except ValueError:
        raise ValueError(f"{fn_name}: logits and labels must have the same shape, got "
                         f"{logits.get_shape()} vs {labels.get_shape()}") from None


def sigmoid_cross_entropy_with_logits(*args, labels=None, logits=None, targets=None, name=None,
                                      _sentinel=None):
    """Element-wise logistic loss, as softplus(x) - x * z (stable for large |x|).

    0.9: (logits, targets[, name]) positionally or targets=; 1.0: (labels=, logits=, name=)."""
    if targets is not None:
        if labels is not None:
            raise TypeError("give labels= or targets= (its 0.9 name), not both")
        labels = targets
    logits, labels, rest = _loss_args("sigmoid_cross_entropy_with_logits", args, logits, labels)
    name = rest[0] if rest else name
    with ops.name_scope(name, "logistic_loss", [logits, labels]) as name:
        logits = ops.convert_to_tensor(logits, name="logits")
        labels = ops.convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        _same_shape(logits, labels, "sigmoid_cross_entropy_with_logits")
        return math_ops.subtract(softplus(logits), logits * labels, name=name)


def weighted_cross_entropy_with_logits(*args, targets=None, logits=None, pos_weight=None,
                                       labels=None, name=None):
    """Logistic loss with positives weighted by pos_weight:
    (1 - z) * x + (1 + (pos_weight - 1) * z) * softplus(-x).

    Positional calls use 0.9's order (logits, targets, pos_weight[, name]); keywords as named."""
    targets = labels if targets is None else targets
    logits, targets, rest = _loss_args("weighted_cross_entropy_with_logits", args, logits,
                                       targets, "targets")
    if rest:
        pos_weight = rest[0]
        name = rest[1] if len(rest) > 1 else name
    if pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits() requires pos_weight")
    with ops.name_scope(name, "logistic_loss", [logits, targets]) as name:
        logits = ops.convert_to_tensor(logits, name="logits")
        targets = ops.convert_to_tensor(targets, dtype=logits.dtype.base_dtype, name="targets")
        _same_shape(logits, targets, "weighted_cross_entropy_with_logits")
        q = ops.convert_to_tensor(pos_weight, dtype=logits.dtype.base_dtype, name="pos_weight")
        weight = 1 + (q - 1) * targets
        return math_ops.add((1 - targets) * logits, weight * softplus(-logits), name=name)


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    return apply_op("L2Loss", t, name=name)


def in_top_k(predictions, targets, k, name=None):
    """Whether each target class is among its row's k largest predictions (ties count in)."""
    return apply_op("InTopK", predictions, targets, k=int(k), name=name)


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF's argument names
    """(values, indices) of the k largest entries along the last dimension."""
    return apply_op("TopKV2", input, k, sorted=bool(sorted), name=name)


# ---- dropout and statistics ----------------------------------------------------------------------
def dropout(x, keep_prob, noise_shape=None, seed=None, name=None):
    """Keeps each element with probability keep_prob, scaled by 1 / keep_prob; zeroes the rest.

    keep_prob may be a tensor (e.g. a placeholder fed 0.5 in training and 1.0 in evaluation);
    noise_shape picks which dimensions share one keep/drop decision."""
    with ops.name_scope(name, "dropout", [x]) as name:
        x = ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError(f"dropout needs a floating point tensor x, got {x.dtype.name}")
        if isinstance(keep_prob, numbers.Real) and not 0 < keep_prob <= 1:
            raise ValueError(f"keep_prob must be a scalar tensor or a float in the range (0, 1], "
                             f"got {keep_prob}")
        keep_prob = ops.convert_to_tensor(keep_prob, dtype=x.dtype.base_dtype, name="keep_prob")
        keep_prob.get_shape().assert_is_compatible_with(tensor_shape.scalar())
        shape = array_ops.shape(x) if noise_shape is None else noise_shape
        noise = keep_prob + random_ops.random_uniform(shape, seed=seed, dtype=x.dtype.base_dtype)
        kept = math_ops.floor(noise)  # 1 with probability keep_prob, else 0
        result = math_ops.multiply(x / keep_prob, kept, name=name)
        result.set_shape(x.get_shape())
        return result


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, a float32 scalar."""
    with ops.name_scope(name, "zero_fraction", [value]):
        value = ops.convert_to_tensor(value, name="value")
        zero = ops.convert_to_tensor(0, dtype=value.dtype.base_dtype)
        return math_ops.reduce_mean(math_ops.cast(math_ops.equal(value, zero), dtypes.float32))


def moments(x, axes, shift=None, name=None, keep_dims=False):
    """(mean, variance) of x over `axes`."""
    with ops.name_scope(name, "moments", [x, axes]):
        x = ops.convert_to_tensor(x, name="x")
        mean = math_ops.reduce_mean(x, axes, keep_dims=True)
        variance = math_ops.reduce_mean(math_ops.square(x - mean), axes, keep_dims=keep_dims,
                                        name="variance")
        if not keep_dims:
            mean = math_ops.reduce_mean(x, axes, name="mean")
        return mean, variance


def l2_normalize(x, dim, epsilon=1e-12, name=None):
    """x / sqrt(max(sum(x ** 2, dim), epsilon))."""
    with ops.name_scope(name, "l2_normalize", [x]) as name:
        x = ops.convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), dim, keep_dims=True)
        eps = ops.convert_to_tensor(epsilon, dtype=x.dtype.base_dtype, name="epsilon")
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, eps))
        return math_ops.multiply(x, inv_norm, name=name)
