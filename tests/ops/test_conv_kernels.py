"""The fast NumPy kernels of conv_ops (window_kernels: GEMM convolutions, pooling, LRN) and
ReluGrad checked against plain loop references, on the odd shapes the harness entries do not
cover: tiling windows with padding, ties, batch 1, one channel, zero-size, wide depths."""
import numpy as np
import pytest

import tensorflux as tf
from test_conv_ops import (_numeric_lrn_grad, ref_conv, ref_conv_filter, ref_conv_input,
                           ref_lrn, ref_max_pool_grad, ref_pool)

pytestmark = pytest.mark.timeout(120)


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


POOLS = [  # (x shape, window = stride, padding): the reshape path; then overlapping windows
    ((1, 7, 5, 1), 2, 2, "SAME"), ((3, 6, 4, 2), 2, 2, "VALID"), ((2, 7, 7, 3), 3, 3, "VALID"),
    ((2, 5, 8, 2), 3, 3, "SAME"), ((0, 4, 4, 2), 2, 2, "SAME"), ((2, 9, 7, 3), 3, 2, "SAME"),
    ((1, 6, 6, 1), 3, 2, "VALID"), ((1, 1, 1, 2), 2, 2, "SAME")]


@pytest.mark.parametrize("chunk", [1 << 16, 1])  # the whole batch; one image a chunk
@pytest.mark.parametrize("xs,k,s,pad", POOLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_max_pool_and_grad_with_ties_match_reference(xs, k, s, pad, dtype, chunk, monkeypatch):
    from tensorflux.ops import window_kernels
    monkeypatch.setattr(window_kernels, "POOL_CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 2, xs).astype(dtype)  # few values: many ties, as after a ReLU
    ks, st = [1, k, k, 1], [1, s, s, 1]
    want = ref_pool(x.astype(np.float64), ks, st, pad, np.max)
    dy = rng.standard_normal(want.shape).astype(dtype)
    xt = tf.constant(x)
    y = tf.nn.max_pool(xt, ks, st, pad)
    got_y, got_dx = _run([y, tf.gradients(y, xt, tf.constant(dy))[0]])
    assert got_y.dtype == dtype and got_dx.dtype == dtype
    np.testing.assert_array_equal(got_y, want)
    ref = ref_max_pool_grad(x.astype(np.float64), dy.astype(np.float64), ks, st, pad)
    np.testing.assert_allclose(got_dx, ref, rtol=1e-3 if dtype == np.float16 else 1e-6)


@pytest.mark.parametrize("shape,r,beta", [((2, 3, 2, 64), 4, 0.75), ((1, 2, 2, 40), 0, 0.75),
                                          ((1, 1, 3, 9), 2, 0.5), ((2, 2, 1, 5), 1, 1.0),
                                          ((1, 2, 2, 7), 3, 0.6), ((0, 2, 2, 8), 2, 0.75)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lrn_band_matrix_and_loop_paths_match_reference(shape, r, beta, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    xt = tf.constant(x)
    y = tf.nn.lrn(xt, r, 1.5, 0.2, beta)
    got_y, got_dx = _run([y, tf.gradients(y, xt, tf.constant(dy))[0]])
    tol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got_y, ref_lrn(x.astype(np.float64), r, 1.5, 0.2, beta),
                               rtol=tol, atol=tol)
    if x.size and x.size <= 100:
        np.testing.assert_allclose(got_dx, _numeric_lrn_grad(x, dy, r, 1.5, 0.2, beta),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_relu_grad_is_gradients_times_positive_mask(dtype):
    x = np.array([[-2, 0, 3], [5, -1, 0]], dtype=dtype)
    g = np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    from tensorflux.ops import nn_ops
    got = _run(nn_ops.relu_grad(tf.constant(g), tf.constant(x)))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.where(x > 0, g, 0))


CONVS = [  # (x shape, filter shape, strides, padding): both backprop-input paths, odd shapes
    ((2, 7, 5, 16), (3, 2, 16, 3), [1, 1, 1, 1], "SAME"),   # flipped-filter conv (C >= 16)
    ((1, 6, 6, 17), (5, 5, 17, 2), [1, 1, 1, 1], "VALID"),
    ((3, 5, 6, 1), (5, 5, 1, 4), [1, 1, 1, 1], "SAME"),      # one channel: tap-wise add back
    ((1, 9, 7, 2), (3, 3, 2, 2), [1, 2, 2, 1], "SAME"),      # strides 2
    ((2, 8, 5, 18), (2, 3, 18, 1), [1, 2, 1, 1], "VALID"),
    ((0, 5, 5, 16), (3, 3, 16, 2), [1, 1, 1, 1], "SAME")]    # zero-size batch


@pytest.mark.parametrize("chunk", [1 << 20, 64])  # one chunk; one image (or less) a chunk
@pytest.mark.parametrize("xs,ws,st,pad", CONVS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_conv_and_gradients_match_loop_references(xs, ws, st, pad, dtype, chunk, monkeypatch):
    from tensorflux.ops import intra_op, window_kernels
    monkeypatch.setattr(window_kernels, "CHUNK_ELEMENTS", chunk)
    if chunk == 64:  # small chunks also split over two threads (tests/ops/test_intra_op.py)
        monkeypatch.setattr(intra_op, "MIN_FLOPS", 0)
        monkeypatch.setattr(intra_op, "max_threads", 2)
        monkeypatch.setattr(intra_op, "blas_threads", lambda: 1)
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    want = ref_conv(x.astype(np.float64), w.astype(np.float64), st, pad)
    dy = rng.standard_normal(want.shape).astype(dtype)
    xt, wt = tf.constant(x), tf.constant(w)
    y = tf.nn.conv2d(xt, wt, st, pad)
    got = _run([y] + tf.gradients(y, [xt, wt], tf.constant(dy)))
    refs = [want, ref_conv_input(xs, w.astype(np.float64), dy.astype(np.float64), st, pad),
            ref_conv_filter(x.astype(np.float64), ws, dy.astype(np.float64), st, pad)]
    tol = {np.float16: 2e-2, np.float32: 1e-4, np.float64: 1e-10}[dtype]
    for g, r in zip(got, refs):
        assert g.dtype == dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol * np.abs(r).max(initial=1.0))


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (7, 1), (1, 1, 3), (0, 4), (3, 0), (6,)])
@pytest.mark.parametrize("keep", [False, True])
def test_bias_gradient_sums_match_np_sum(shape, keep):
    """The GEMV paths of Sum over the leading axes and of BiasAddGrad against np.sum."""
    from tensorflux.ops import nn_ops
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64, np.int32):
        g = rng.integers(-5, 6, shape).astype(dtype)  # integers: every path sums exactly
        lead = list(range(len(shape) - 1))
        got_sum = _run(tf.reduce_sum(tf.constant(g), lead, keep_dims=keep))
        np.testing.assert_array_equal(got_sum, np.sum(g, axis=tuple(lead), keepdims=keep))
        assert got_sum.dtype == dtype
        if len(shape) >= 2:
            got_bias = _run(nn_ops.bias_add_grad(tf.constant(g)))
            np.testing.assert_array_equal(got_bias, np.sum(g, axis=tuple(lead)))
            assert got_bias.dtype == dtype


def test_sum_fast_path_keeps_tf_axis_errors():
    x = tf.constant(np.ones((2, 3, 4), np.float32))
    axes = tf.placeholder(tf.int32, [None])  # fed: checked by the kernel, not the shape fn
    total = tf.reduce_sum(x, axes)
    for bad in ([0, 4], [0, 0, 1]):  # 4 % 3 and a repeated axis would look like (0, 1)
        with pytest.raises(tf.errors.InvalidArgumentError, match="reduction"):
            _run(total, {axes: bad})
    np.testing.assert_array_equal(_run(total, {axes: [1, -3]}), np.full(4, 6, np.float32))
