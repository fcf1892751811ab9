"""SparseSoftmaxCrossEntropyWithLogits' in-dtype kernel (nn_ops.sparse_xent_np) against the
float64 one-hot reference it replaced, including logits far outside exp's range."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import nn_ops

pytestmark = pytest.mark.timeout(60)


def reference(logits, labels):
    """Float64 loss and backprop through a dense one-hot matrix, written out plainly."""
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    log_p = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    one_hot = np.eye(x.shape[1])[labels]
    return -(one_hot * log_p).sum(axis=1), np.exp(log_p) - one_hot


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_float64_reference_on_a_wide_softmax(dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((50, 3000)) * 8).astype(dtype)
    labels = rng.integers(0, 3000, 50)
    loss, backprop = nn_ops.sparse_xent_np(logits, labels)
    want_loss, want_backprop = reference(logits, labels)
    assert loss.dtype == dtype and backprop.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, want_loss, rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop, want_backprop, rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop.sum(axis=1), 0, atol=10 * tol)


def test_extreme_float32_logits_stay_finite():
    logits = np.array([[1e30, -1e30, 0], [88.0, 89.0, 90.0], [-1e4, -1e4, -1e4],
                       [3e38, 1e38, -3e38]], np.float32)
    labels = np.array([1, 0, 2, 0])
    loss, backprop = nn_ops.sparse_xent_np(logits, labels)
    assert np.isfinite(loss).all() and np.isfinite(backprop).all()
    want_loss, want_backprop = reference(logits, labels)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-6)
    np.testing.assert_allclose(backprop, want_backprop, atol=1e-6)


def test_rows_with_inf_or_nan_are_not_finite():
    logits = np.array([[np.inf, 0, 1], [np.nan, 0, 1], [0, 1, 2]], np.float32)
    loss, backprop = nn_ops.sparse_xent_np(logits, np.array([1, 2, 0]))
    assert loss[0] == np.inf and np.isnan(loss[1])  # log(inf) - 0, and nan
    assert np.isnan(backprop[:2]).any(axis=1).all()
    np.testing.assert_allclose(loss[2], reference(logits[2:], np.array([0]))[0][0], rtol=1e-6)


def test_half_logits_work_in_float32_and_come_back_half():
    rng = np.random.default_rng(1)
    logits = rng.uniform(-5, 5, (4, 7)).astype(np.float16)
    labels = np.array([0, 6, 3, 3], np.int64)
    loss, backprop = tf.Session().run(
        list(apply_op("SparseSoftmaxCrossEntropyWithLogits", logits, labels)))
    assert loss.dtype == np.float16 and backprop.dtype == np.float16
    want_loss, want_backprop = reference(logits, labels)
    np.testing.assert_allclose(loss, want_loss, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(backprop, want_backprop, atol=2e-3)


def test_input_array_is_left_untouched():
    logits = np.array([[1.0, 2.0, 3.0]], np.float32)
    kept = logits.copy()
    nn_ops.sparse_xent_np(logits, np.array([2]))
    np.testing.assert_array_equal(logits, kept)


def test_empty_batch():
    loss, backprop = nn_ops.sparse_xent_np(np.zeros((0, 5), np.float32), np.zeros(0, np.int32))
    assert loss.shape == (0,) and backprop.shape == (0, 5)


@pytest.mark.parametrize("threads", [1, 2])
def test_blocks_of_rows_and_threads_give_the_reference(monkeypatch, threads):
    from tensorflux.ops import intra_op
    monkeypatch.setattr(nn_ops, "_XENT_BLOCK", 3000 * 7)  # 7 rows a block: 8 blocks, one short
    monkeypatch.setattr(intra_op, "MIN_FLOPS", 0)
    monkeypatch.setattr(intra_op, "max_threads", threads)
    rng = np.random.default_rng(2)
    logits = (rng.standard_normal((53, 3000)) * 4).astype(np.float32)
    logits[5, 7] = np.inf  # a row of its own goes non-finite, the others do not notice
    labels = rng.integers(0, 3000, 53)
    loss, backprop = nn_ops.sparse_xent_np(logits, labels)
    want_loss, want_backprop = reference(np.delete(logits, 5, 0), np.delete(labels, 5))
    np.testing.assert_allclose(np.delete(loss, 5), want_loss, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.delete(backprop, 5, 0), want_backprop, rtol=1e-5, atol=1e-5)
    assert loss[5] == np.inf or np.isnan(loss[5])
    serial = nn_ops._xent_rows
    calls = []
    monkeypatch.setattr(nn_ops, "_xent_rows", lambda *a: calls.append(1) or serial(*a))
    nn_ops.sparse_xent_np(logits, labels)
    assert len(calls) == 8
