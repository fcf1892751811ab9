"""Harness entries and behaviour tests for conv_ops: Conv2D and its backprop ops, depthwise
convolution, max/avg pooling with their gradient ops, LRN. References are written with plain
loops over output positions, from TensorFlow's documented padding arithmetic."""
import math

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, distinct, run_spec


# ---- NumPy references ---------------------------------------------------------------------------
def _pads(size, k, stride, dilation, padding):
    k_eff = (k - 1) * dilation + 1
    if padding == "VALID":
        return math.ceil((size - k_eff + 1) / stride), 0
    out = math.ceil(size / stride)
    return out, max((out - 1) * stride + k_eff - size, 0) // 2


def _windows(x_shape, kh, kw, strides, padding, dil=(1, 1)):
    """Yields (i, j, [(a, b, row, col) of every in-bounds tap])."""
    _, h, w, _ = x_shape
    oh, pt = _pads(h, kh, strides[1], dil[0], padding)
    ow, pl = _pads(w, kw, strides[2], dil[1], padding)
    for i in range(oh):
        for j in range(ow):
            taps = [(a, b, i * strides[1] + a * dil[0] - pt, j * strides[2] + b * dil[1] - pl)
                    for a in range(kh) for b in range(kw)]
            yield i, j, oh, ow, [t for t in taps if 0 <= t[2] < h and 0 <= t[3] < w]


def ref_conv(x, w, strides, padding, dil=(1, 1)):
    cases = list(_windows(x.shape, w.shape[0], w.shape[1], strides, padding, dil))
    oh, ow = (cases[0][2], cases[0][3]) if cases else (0, 0)
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i, j, _, _, taps in cases:
        for a, b, r, c in taps:
            out[:, i, j, :] += x[:, r, c, :] @ w[a, b]
    return out


def ref_conv_input(in_shape, w, dy, strides, padding, dil=(1, 1)):
    dx = np.zeros(in_shape)
    for i, j, _, _, taps in _windows(in_shape, w.shape[0], w.shape[1], strides, padding, dil):
        for a, b, r, c in taps:
            dx[:, r, c, :] += dy[:, i, j, :] @ w[a, b].T
    return dx


def ref_conv_filter(x, w_shape, dy, strides, padding, dil=(1, 1)):
    dw = np.zeros(w_shape)
    for i, j, _, _, taps in _windows(x.shape, w_shape[0], w_shape[1], strides, padding, dil):
        for a, b, r, c in taps:
            dw[a, b] += x[:, r, c, :].T @ dy[:, i, j, :]
    return dw


def ref_depthwise(x, w, strides, padding, dil=(1, 1)):
    n, _, _, c = x.shape
    m = w.shape[3]
    cases = list(_windows(x.shape, w.shape[0], w.shape[1], strides, padding, dil))
    out = np.zeros((n, cases[0][2], cases[0][3], c * m))
    for i, j, _, _, taps in cases:
        for a, b, r, col in taps:
            out[:, i, j, :] += (x[:, r, col, :, None] * w[a, b]).reshape(n, c * m)
    return out


def ref_pool(x, ksize, strides, padding, reduce):
    cases = list(_windows(x.shape, ksize[1], ksize[2], strides, padding))
    out = np.zeros((x.shape[0], cases[0][2], cases[0][3], x.shape[3]), dtype=x.dtype)
    for i, j, _, _, taps in cases:
        out[:, i, j, :] = reduce(np.stack([x[:, r, c, :] for _, _, r, c in taps]), axis=0)
    return out


def ref_max_pool_grad(x, dy, ksize, strides, padding):
    dx = np.zeros(x.shape)
    for i, j, _, _, taps in _windows(x.shape, ksize[1], ksize[2], strides, padding):
        vals = np.stack([x[:, r, c, :] for _, _, r, c in taps])
        first = np.argmax(vals, axis=0)  # first maximum wins ties
        for t, (_, _, r, c) in enumerate(taps):
            dx[:, r, c, :] += np.where(first == t, dy[:, i, j, :], 0)
    return dx


def ref_max_pool_grad_grad(x, gx, ksize, strides, padding):
    """gx read at each window's first maximum."""
    cases = list(_windows(x.shape, ksize[1], ksize[2], strides, padding))
    out = np.zeros((x.shape[0], cases[0][2], cases[0][3], x.shape[3]))
    for i, j, _, _, taps in cases:
        first = np.argmax(np.stack([x[:, r, c, :] for _, _, r, c in taps]), axis=0)
        picked = np.stack([gx[:, r, c, :] for _, _, r, c in taps])
        out[:, i, j, :] = np.take_along_axis(picked, first[None], 0)[0]
    return out


def ref_avg_pool_grad(in_shape, dy, ksize, strides, padding):
    dx = np.zeros(in_shape)
    for i, j, _, _, taps in _windows(in_shape, ksize[1], ksize[2], strides, padding):
        for _, _, r, c in taps:
            dx[:, r, c, :] += dy[:, i, j, :] / len(taps)
    return dx


def ref_lrn(x, r, bias, alpha, beta):
    d = x.shape[-1]
    sq = np.stack([np.sum(x[..., max(0, k - r):k + r + 1] ** 2, -1) for k in range(d)], -1)
    return x / (bias + alpha * sq) ** beta


# ---- harness entries ----------------------------------------------------------------------------
CONV_CASES = [  # (x shape, w shape, strides, padding, dilations)
    ((2, 5, 5, 3), (3, 3, 3, 2), [1, 1, 1, 1], "SAME", (1, 1)),
    ((1, 7, 6, 2), (3, 2, 2, 3), [1, 2, 2, 1], "SAME", (1, 1)),
    ((2, 6, 7, 2), (2, 3, 2, 2), [1, 2, 3, 1], "VALID", (1, 1)),
    ((1, 7, 7, 1), (3, 3, 1, 2), [1, 1, 1, 1], "VALID", (2, 2)),
    ((1, 8, 5, 2), (2, 2, 2, 1), [1, 1, 1, 1], "SAME", (2, 1)),
    ((1, 4, 4, 2), (4, 4, 2, 2), [1, 3, 3, 1], "SAME", (1, 1)),
]


def _conv_specs():
    specs = []
    for k, (xs, ws, st, pad, dil) in enumerate(CONV_CASES):
        dl = [1, dil[0], dil[1], 1]
        ys = ref_conv(np.zeros(xs), np.zeros(ws), st, pad, dil).shape
        specs += [
            OpSpec("Conv2D", lambda x, w, st=st, pad=pad, dl=dl: tf.nn.conv2d(
                x, w, st, pad, dilations=dl),
                lambda x, w, st=st, pad=pad, dil=dil: ref_conv(x, w, st, pad, dil),
                [(xs, ws)], tol={tf.float32: 1e-4}, name=f"Conv2D_{k}_{pad}"),
            OpSpec("Conv2DBackpropInput", lambda w, dy, xs=xs, st=st, pad=pad, dl=dl:
                   tf.nn.conv2d_backprop_input(list(xs), w, dy, st, pad, dilations=dl),
                   lambda w, dy, xs=xs, st=st, pad=pad, dil=dil: ref_conv_input(
                       xs, w, dy, st, pad, dil),
                   [(ws, ys)], tol={tf.float32: 1e-4}, name=f"Conv2DBackpropInput_{k}_{pad}"),
            OpSpec("Conv2DBackpropFilter", lambda x, dy, ws=ws, st=st, pad=pad, dl=dl:
                   tf.nn.conv2d_backprop_filter(x, list(ws), dy, st, pad, dilations=dl),
                   lambda x, dy, ws=ws, st=st, pad=pad, dil=dil: ref_conv_filter(
                       x, ws, dy, st, pad, dil),
                   [(xs, ys)], tol={tf.float32: 1e-4}, name=f"Conv2DBackpropFilter_{k}_{pad}"),
        ]
    return specs


DEPTHWISE_CASES = [((1, 5, 5, 2), (3, 3, 2, 2), [1, 1, 1, 1], "SAME", (1, 1)),
                   ((2, 6, 5, 3), (2, 3, 3, 1), [1, 2, 2, 1], "VALID", (1, 1)),
                   ((1, 7, 7, 2), (2, 2, 2, 2), [1, 1, 1, 1], "SAME", (2, 2))]


def _depthwise_specs():
    specs = []
    for k, (xs, ws, st, pad, dil) in enumerate(DEPTHWISE_CASES):
        dl = [1, dil[0], dil[1], 1]
        ys = ref_depthwise(np.zeros(xs), np.zeros(ws), st, pad, dil).shape
        specs.append(OpSpec(
            "DepthwiseConv2dNative",
            lambda x, w, st=st, pad=pad, dl=dl: tf.nn.depthwise_conv2d_native(
                x, w, st, pad, dilations=dl),
            lambda x, w, st=st, pad=pad, dil=dil: ref_depthwise(x, w, st, pad, dil),
            [(xs, ws)], tol={tf.float32: 1e-4}, name=f"Depthwise_{k}_{pad}"))
        specs.append(OpSpec(
            ("DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter"),
            lambda x, w, dy, st=st, pad=pad, dl=dl: tf.gradients(
                tf.nn.depthwise_conv2d_native(x, w, st, pad, dilations=dl), [x, w], dy),
            lambda x, w, dy, st=st, pad=pad, dil=dil: _depthwise_grads(x, w, dy, st, pad, dil),
            [(xs, ws, ys)], tol={tf.float32: 1e-4}, name=f"DepthwiseBackprop_{k}_{pad}"))
    return specs


def _depthwise_grads(x, w, dy, st, pad, dil):
    """Gradients of <dy, depthwise(x, w)> as a dense conv with a block-diagonal filter."""
    c, m = w.shape[2], w.shape[3]
    dense = np.zeros(w.shape[:2] + (c, c * m))
    for ch in range(c):
        dense[:, :, ch, ch * m:(ch + 1) * m] = w[:, :, ch, :]
    dx = ref_conv_input(x.shape, dense, dy, st, pad, dil)
    dd = ref_conv_filter(x, dense.shape, dy, st, pad, dil)
    dw = np.stack([dd[:, :, ch, ch * m:(ch + 1) * m] for ch in range(c)], 2)
    return [dx, dw]


POOL_CASES = [((2, 5, 5, 2), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
              ((1, 7, 6, 3), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
              ((2, 7, 6, 1), [1, 3, 2, 1], [1, 2, 1, 1], "VALID"),
              ((1, 5, 5, 2), [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
              ((1, 4, 5, 2), [1, 4, 5, 1], [1, 1, 1, 1], "VALID"),
              # windows tiling the input exactly (the reshape fast path)
              ((2, 4, 6, 3), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
              ((1, 6, 6, 2), [1, 3, 3, 1], [1, 3, 3, 1], "SAME")]


def _pool_specs():
    specs = []
    for k, (xs, ks, st, pad) in enumerate(POOL_CASES):
        ys = ref_pool(np.zeros(xs), ks, st, pad, np.max).shape
        specs += [
            OpSpec("MaxPool", lambda x, ks=ks, st=st, pad=pad: tf.nn.max_pool(x, ks, st, pad),
                   lambda x, ks=ks, st=st, pad=pad: ref_pool(x, ks, st, pad, np.max),
                   [(xs,)], dtypes=[tf.float32, tf.float64, tf.int32], inputs=distinct,
                   name=f"MaxPool_{k}_{pad}"),
            OpSpec("AvgPool", lambda x, ks=ks, st=st, pad=pad: tf.nn.avg_pool(x, ks, st, pad),
                   lambda x, ks=ks, st=st, pad=pad: ref_pool(x, ks, st, pad, np.mean),
                   [(xs,)], name=f"AvgPool_{k}_{pad}"),
            OpSpec(("MaxPoolGrad", "MaxPoolGradGrad"),
                   lambda x, dy, ks=ks, st=st, pad=pad: tf.gradients(
                       tf.nn.max_pool(x, ks, st, pad), x, dy)[0],
                   lambda x, dy, ks=ks, st=st, pad=pad: ref_max_pool_grad(x, dy, ks, st, pad),
                   [(xs, ys)], inputs=distinct, grad=(1,), name=f"MaxPoolGrad_{k}_{pad}"),
            OpSpec("AvgPoolGrad",
                   lambda dy, xs=xs, ks=ks, st=st, pad=pad: _avg_pool_grad(xs, dy, ks, st, pad),
                   lambda dy, xs=xs, ks=ks, st=st, pad=pad: ref_avg_pool_grad(xs, dy, ks, st, pad),
                   [(ys,)], name=f"AvgPoolGrad_{k}_{pad}"),
        ]
    for k in (1, 3):  # strides 2 and 1
        xs, ks, st, pad = POOL_CASES[k]
        ys = ref_pool(np.zeros(xs), ks, st, pad, np.max).shape
        specs.append(OpSpec(
            "MaxPoolGradGrad", lambda x, dy, u, ks=ks, st=st, pad=pad: tf.gradients(
                tf.gradients(tf.nn.max_pool(x, ks, st, pad), x, dy)[0], dy, u)[0],
            lambda x, dy, u, ks=ks, st=st, pad=pad: ref_max_pool_grad_grad(x, u, ks, st, pad),
            [(xs, ys, xs)], inputs=distinct, grad=(2,), name=f"MaxPoolGradGrad_{k}_{pad}"))
    return specs


def _avg_pool_grad(xs, dy, ks, st, pad):
    from tensorflux.framework.op_def_library import apply_op
    return apply_op("AvgPoolGrad", list(xs), dy, ksize=ks, strides=st, padding=pad)


def _lrn_specs():
    cases = [((1, 2, 2, 7), 2, 1.0, 0.3, 0.75), ((2, 1, 3, 4), 5, 2.0, 1.0, 0.5),
             ((1, 1, 1, 3), 0, 1.5, 0.5, 1.0)]
    specs = []
    for k, (xs, r, bias, alpha, beta) in enumerate(cases):
        specs.append(OpSpec("LRN", lambda x, r=r, b=bias, a=alpha, be=beta: tf.nn.lrn(
            x, r, b, a, be), lambda x, r=r, b=bias, a=alpha, be=beta: ref_lrn(x, r, b, a, be),
            [(xs,)], name=f"LRN_{k}"))
    specs.append(OpSpec(
        "LRNGrad", lambda x, dy: tf.gradients(tf.nn.lrn(x, 2, 1.0, 0.3, 0.75), x, dy)[0],
        lambda x, dy: _numeric_lrn_grad(x, dy, 2, 1.0, 0.3, 0.75), [((1, 2, 1, 5), (1, 2, 1, 5))],
        tol={tf.float32: 1e-4, tf.float64: 1e-7}, grad_tol=1e-5))
    return specs


def _numeric_lrn_grad(x, dy, r, bias, alpha, beta, eps=1e-6):
    x = x.astype(np.float64)
    grad = np.zeros(x.shape)
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        d = d.reshape(x.shape)
        grad.flat[k] = np.sum(dy * (ref_lrn(x + d, r, bias, alpha, beta)
                                    - ref_lrn(x - d, r, bias, alpha, beta))) / (2 * eps)
    return grad


# ---- NCHW: the same NHWC references, the op run on transposed inputs -------------------------
def _to_nchw(t):
    return tf.transpose(t, [0, 3, 1, 2])


def _to_nhwc(t):
    return tf.transpose(t, [0, 2, 3, 1])


def _c(v):
    """An NHWC attr list or shape in NCHW order."""
    return [v[0], v[3], v[1], v[2]]


def _nchw_conv_specs(k):
    xs, ws, st, pad, dil = CONV_CASES[k]
    dl = [1, dil[0], dil[1], 1]
    ys = ref_conv(np.zeros(xs), np.zeros(ws), st, pad, dil).shape
    attrs = dict(strides=_c(st), padding=pad, dilations=_c(dl), data_format="NCHW")
    return [
        OpSpec("Conv2D", lambda x, w: _to_nhwc(tf.nn.conv2d(_to_nchw(x), w, **attrs)),
               lambda x, w: ref_conv(x, w, st, pad, dil), [(xs, ws)], tol={tf.float32: 1e-4},
               name=f"Conv2D_NCHW_{k}_{pad}"),
        OpSpec("Conv2DBackpropInput", lambda w, dy: _to_nhwc(tf.nn.conv2d_backprop_input(
            _c(xs), w, _to_nchw(dy), **attrs)), lambda w, dy: ref_conv_input(
                xs, w, dy, st, pad, dil), [(ws, ys)], tol={tf.float32: 1e-4},
            name=f"Conv2DBackpropInput_NCHW_{k}_{pad}"),
        OpSpec("Conv2DBackpropFilter", lambda x, dy: tf.nn.conv2d_backprop_filter(
            _to_nchw(x), list(ws), _to_nchw(dy), **attrs), lambda x, dy: ref_conv_filter(
                x, ws, dy, st, pad, dil), [(xs, ys)], tol={tf.float32: 1e-4},
            name=f"Conv2DBackpropFilter_NCHW_{k}_{pad}"),
        OpSpec(("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                "DepthwiseConv2dNativeBackpropFilter"),
               lambda x, w, dy: _depthwise_nchw(x, w, dy, st, pad, dl),
               lambda x, w, dy: [ref_depthwise(x, w, st, pad, dil)] + _depthwise_grads(
                   x, w, dy, st, pad, dil),
               [(xs, ws[:2] + (xs[3], 2), ys[:3] + (xs[3] * 2,))], tol={tf.float32: 1e-4},
               grad=(0, 1), name=f"Depthwise_NCHW_{k}_{pad}"),
    ]


def _depthwise_nchw(x, w, dy, st, pad, dl):
    y = tf.nn.depthwise_conv2d_native(_to_nchw(x), w, _c(st), pad, data_format="NCHW",
                                      dilations=_c(dl))
    dx, dw = tf.gradients(y, [x, w], _to_nchw(dy))
    return [_to_nhwc(y), dx, dw]


def _nchw_pool_specs(k):
    xs, ks, st, pad = POOL_CASES[k]
    ys = ref_pool(np.zeros(xs), ks, st, pad, np.max).shape
    attrs = dict(ksize=_c(ks), strides=_c(st), padding=pad, data_format="NCHW")

    def max_pool(x):
        return tf.nn.max_pool(x, **attrs)

    def max_pool_grad(x, dy):
        return tf.gradients(max_pool(_to_nchw(x)), x, _to_nchw(dy))[0]
    return [
        OpSpec("MaxPool", lambda x: _to_nhwc(max_pool(_to_nchw(x))),
               lambda x: ref_pool(x, ks, st, pad, np.max), [(xs,)], inputs=distinct,
               name=f"MaxPool_NCHW_{k}_{pad}"),
        OpSpec("AvgPool", lambda x: _to_nhwc(tf.nn.avg_pool(_to_nchw(x), **attrs)),
               lambda x: ref_pool(x, ks, st, pad, np.mean), [(xs,)],
               name=f"AvgPool_NCHW_{k}_{pad}"),
        OpSpec(("MaxPoolGrad", "MaxPoolGradGrad"), max_pool_grad,
               lambda x, dy: ref_max_pool_grad(x, dy, ks, st, pad), [(xs, ys)],
               inputs=distinct, grad=(1,), name=f"MaxPoolGrad_NCHW_{k}_{pad}"),
        OpSpec("MaxPoolGradGrad", lambda x, dy, u: tf.gradients(
            max_pool_grad(x, dy), dy, u)[0],
            lambda x, dy, u: ref_max_pool_grad_grad(x, u, ks, st, pad), [(xs, ys, xs)],
            inputs=distinct, grad=(2,), name=f"MaxPoolGradGrad_NCHW_{k}_{pad}"),
        OpSpec("AvgPoolGrad", lambda dy: _to_nhwc(_apply_avg_pool_grad(_c(xs), _to_nchw(dy),
                                                                      **attrs)),
               lambda dy: ref_avg_pool_grad(xs, dy, ks, st, pad), [(ys,)],
               name=f"AvgPoolGrad_NCHW_{k}_{pad}"),
    ]


def _apply_avg_pool_grad(sizes, dy, **attrs):
    from tensorflux.framework.op_def_library import apply_op
    return apply_op("AvgPoolGrad", sizes, dy, **attrs)


SPECS = (_conv_specs() + _depthwise_specs() + _pool_specs() + _lrn_specs()
         + _nchw_conv_specs(1) + _nchw_conv_specs(3) + _nchw_pool_specs(1)
         + _nchw_pool_specs(2))


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- behaviour the harness cannot express -------------------------------------------------------
def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_nchw_matches_nhwc():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    xt = tf.constant(x.transpose(0, 3, 1, 2))
    y = tf.nn.conv2d(xt, w, [1, 1, 2, 2], "SAME", data_format="NCHW")
    p = tf.nn.max_pool(xt, [1, 1, 2, 2], [1, 1, 2, 2], "SAME", data_format="NCHW")
    assert y.get_shape().as_list() == [2, 4, 3, 3]
    gx = tf.gradients(tf.reduce_sum(y * y), xt)[0]
    got_y, got_p, got_g = _run([y, p, gx])
    np.testing.assert_allclose(got_y.transpose(0, 2, 3, 1),
                               ref_conv(x, w, [1, 2, 2, 1], "SAME"), atol=1e-10)
    np.testing.assert_allclose(got_p.transpose(0, 2, 3, 1),
                               ref_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME", np.max))
    dy = 2 * ref_conv(x, w, [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(got_g.transpose(0, 2, 3, 1),
                               ref_conv_input(x.shape, w, dy, [1, 2, 2, 1], "SAME"), atol=1e-9)


def test_max_pool_grad_ties_go_to_first_max():
    x = np.ones((1, 2, 2, 1), np.float32)
    xt = tf.constant(x)
    g = tf.gradients(tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), xt)[0]
    np.testing.assert_array_equal(_run(g)[0, :, :, 0], [[1, 0], [0, 0]])


def test_second_derivative_through_conv():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((1, 4, 4, 2)))
    w = tf.constant(rng.standard_normal((3, 3, 2, 2)))
    y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    gx = tf.gradients(tf.reduce_sum(y * y), x)[0]
    gw2 = tf.gradients(tf.reduce_sum(gx), w)[0]  # goes through Conv2DBackpropInput's gradient
    assert gw2 is not None and _run(gw2).shape == (3, 3, 2, 2)


def test_static_shapes_and_errors():
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    y = tf.nn.conv2d(x, tf.zeros([5, 5, 1, 32]), [1, 1, 1, 1], "SAME")
    assert y.get_shape().as_list() == [None, 28, 28, 32]
    p = tf.nn.max_pool(y, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    assert p.get_shape().as_list() == [None, 14, 14, 32]
    with pytest.raises(ValueError, match="^Dimensions must be equal, but are 1 and 3"):
        tf.nn.conv2d(x, tf.zeros([5, 5, 3, 32]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="^Conv2D on data format NHWC requires the stride "
                                         "attribute to contain 4 values, but got: 3"):
        tf.nn.conv2d(x, tf.zeros([5, 5, 1, 32]), [1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="^Attr 'padding' of 'Conv2D' Op passed string 'FULL' "
                                         "not in: \"SAME\", \"VALID\"."):
        tf.nn.conv2d(x, tf.zeros([5, 5, 1, 32]), [1, 1, 1, 1], "FULL")


def test_batch_stride_is_rejected_at_build_time_as_tf09():
    x = tf.placeholder(tf.float32)  # even with an unknown input shape
    with pytest.raises(ValueError, match="^Current implementation does not yet support strides "
                                         "in the batch and depth dimensions"):
        tf.nn.conv2d(x, tf.zeros([1, 1, 1, 1]), [2, 1, 1, 1], "SAME")


def test_conv2d_transpose_and_atrous_and_separable():
    rng = np.random.default_rng(2)
    v = rng.standard_normal((1, 3, 3, 2))
    w = rng.standard_normal((3, 3, 4, 2))
    t = tf.nn.conv2d_transpose(tf.constant(v), tf.constant(w), [1, 6, 6, 4], [1, 2, 2, 1])
    np.testing.assert_allclose(_run(t), ref_conv_input((1, 6, 6, 4), w, v, [1, 2, 2, 1], "SAME"),
                               atol=1e-10)
    x = rng.standard_normal((1, 7, 7, 2))
    f = rng.standard_normal((3, 3, 2, 3))
    a = tf.nn.atrous_conv2d(tf.constant(x), tf.constant(f), 2, "SAME")
    np.testing.assert_allclose(_run(a), ref_conv(x, f, [1, 1, 1, 1], "SAME", (2, 2)), atol=1e-10)
    dw, pw = rng.standard_normal((3, 3, 2, 2)), rng.standard_normal((1, 1, 4, 3))
    s = tf.nn.separable_conv2d(tf.constant(x), dw, pw, [1, 1, 1, 1], "VALID")
    want = ref_conv(ref_depthwise(x, dw, [1, 1, 1, 1], "VALID"), pw, [1, 1, 1, 1], "VALID")
    np.testing.assert_allclose(_run(s), want, atol=1e-10)


def test_float16_conv_and_pool():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 5, 5, 2)).astype(np.float16)
    w = rng.standard_normal((3, 3, 2, 2)).astype(np.float16)
    y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    a = tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    got_y, got_a = _run([y, a])
    assert got_y.dtype == np.float16 and got_a.dtype == np.float16
    np.testing.assert_allclose(got_y, ref_conv(x.astype(np.float64), w.astype(np.float64),
                                               [1, 1, 1, 1], "SAME"), rtol=1e-2, atol=2e-2)


def test_lrn_defaults_match_tf_docs():
    x = np.random.default_rng(4).uniform(0.5, 2.0, (1, 1, 2, 12)).astype(np.float32)
    np.testing.assert_allclose(_run(tf.nn.local_response_normalization(x)),
                               ref_lrn(x.astype(np.float64), 5, 1.0, 1.0, 0.5), rtol=1e-5)



def test_depthwise_conv2d_0_9_positional_name_and_rate():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 6, 6, 2)), rng.standard_normal((2, 2, 2, 3))
    named = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", "dw")
    assert named.op.name == "dw"
    dilated = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID", rate=[2, 2])
    got_named, got_dilated = _run([named, dilated])
    np.testing.assert_allclose(got_named, ref_depthwise(x, w, [1, 1, 1, 1], "SAME"), atol=1e-10)
    np.testing.assert_allclose(got_dilated, ref_depthwise(x, w, [1, 1, 1, 1], "VALID", (2, 2)),
                               atol=1e-10)
    with pytest.raises(ValueError, match="strides must be 1"):
        tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME", rate=[2, 2])


@pytest.mark.parametrize("case", [((1, 4, 4, 1), "VALID"), ((1, 5, 5, 1), "SAME")])
def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie(case):
    shape, pad = case
    x_value = np.zeros(shape, np.float32)  # every window is a tie
    dy_shape = ref_pool(x_value, [1, 2, 2, 1], [1, 2, 2, 1], pad, np.max).shape
    dy = np.arange(1, 1 + np.prod(dy_shape), dtype=np.float32).reshape(dy_shape)
    x = tf.constant(x_value)
    grad = tf.gradients(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], pad), x, dy)[0]
    with tf.Session() as sess:
        got = sess.run(grad)
    np.testing.assert_array_equal(got, ref_max_pool_grad(x_value, dy, [1, 2, 2, 1],
                                                         [1, 2, 2, 1], pad))
    assert got[0, 0, 0, 0] == 1.0 and got[0, 0, 1, 0] == 0.0  # the window's first element
