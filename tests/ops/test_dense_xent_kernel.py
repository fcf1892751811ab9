"""SoftmaxCrossEntropyWithLogits' in-dtype kernel (nn_ops.dense_xent_np) against the float64
reference it replaced, including label rows that are not one-hot and logits far outside exp's
range."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import nn_ops

pytestmark = pytest.mark.timeout(60)


def reference(logits, labels):
    """Float64 loss and backprop, written out plainly (a zero label ignores its logit)."""
    x, y = logits.astype(np.float64), labels.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(all="ignore"):
        log_p = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
        loss = -np.where(y == 0, 0, y * log_p).sum(axis=1)
    return loss, np.exp(log_p) - y


def _distributions(rng, shape):
    p = rng.random(shape) * (rng.random(shape) < 0.5)
    p[:, 0] += 0.1  # no all-zero row
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_float64_reference(dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((64, 300)) * 8).astype(dtype)
    labels = _distributions(rng, (64, 300)).astype(dtype)
    loss, backprop = nn_ops.dense_xent_np(logits, labels)
    want_loss, want_backprop = reference(logits, labels)
    assert loss.dtype == dtype and backprop.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, want_loss, rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop, want_backprop, rtol=tol, atol=tol)


def test_extreme_logits_and_zero_labels():
    logits = np.array([[1e30, -1e30, 0], [88.0, 89.0, 90.0], [-np.inf, 0, 1],
                       [3e38, 1e38, -3e38]], np.float32)
    labels = np.array([[0, 1, 0], [0.5, 0.5, 0], [0, 0.25, 0.75], [1, 0, 0]], np.float32)
    loss, backprop = nn_ops.dense_xent_np(logits, labels)
    assert np.isfinite(loss).all() and np.isfinite(backprop).all()
    want_loss, want_backprop = reference(logits, labels)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-6)
    np.testing.assert_allclose(backprop, want_backprop, atol=1e-6)


def test_rows_with_inf_or_nan_are_not_finite():
    logits = np.array([[np.inf, 0, 1], [np.nan, 0, 1], [0, 1, 2]], np.float32)
    labels = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], np.float32)
    loss, backprop = nn_ops.dense_xent_np(logits, labels)
    want_loss, _ = reference(logits, labels)
    assert np.isnan(loss[0]) == np.isnan(want_loss[0]) and np.isnan(loss[1])
    assert np.isnan(backprop[:2]).any(axis=1).all()
    np.testing.assert_allclose(loss[2], want_loss[2], rtol=1e-6)


def test_half_logits_work_in_float32_and_come_back_half():
    rng = np.random.default_rng(1)
    logits = rng.uniform(-5, 5, (4, 7)).astype(np.float16)
    labels = _distributions(rng, (4, 7)).astype(np.float16)
    loss, backprop = tf.Session().run(
        list(apply_op("SoftmaxCrossEntropyWithLogits", logits, labels)))
    assert loss.dtype == np.float16 and backprop.dtype == np.float16
    want_loss, want_backprop = reference(logits, labels)
    np.testing.assert_allclose(loss, want_loss, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(backprop, want_backprop, atol=2e-3)


@pytest.mark.parametrize("scale_shape", [(37, 1), (1, 1), (), (11,)])
def test_scaled_backprops_equal_the_product_bit_for_bit(monkeypatch, scale_shape):
    from tensorflux.ops import intra_op, nn_ops
    monkeypatch.setattr(nn_ops, "_XENT_BLOCK", 44)  # 4 rows a block: 10 blocks
    monkeypatch.setattr(intra_op, "MIN_FLOPS", 0)  # and split over threads
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((37, 11)).astype(np.float32)
    labels = rng.integers(0, 11, 37)
    dense = rng.dirichlet(np.ones(11), 37).astype(np.float32)
    scale = rng.uniform(0.1, 2, scale_shape).astype(np.float32)
    for plain, scaled in ((nn_ops.sparse_xent_np(logits, labels),
                           nn_ops.sparse_xent_np(logits, labels, scale)),
                          (nn_ops.dense_xent_np(logits, dense),
                           nn_ops.dense_xent_np(logits, dense, scale))):
        np.testing.assert_array_equal(scaled[0], plain[0])
        np.testing.assert_array_equal(scaled[1], scale * plain[1])
