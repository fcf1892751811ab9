"""Harness entries and behaviour tests for tensorflux/ops/nn_ops.py (tf.nn)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, away_from_zero, distinct, run_spec, uniform, run_in_session as _run
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import nn_ops


# ---- NumPy references -----------------------------------------------------------------------
def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_xent(logits, labels):
    return -(labels * np_log_softmax(logits)).sum(-1), np_softmax(logits) - labels


def probabilities(rng, shape, dtype):
    """Rows on the probability simplex (labels for softmax cross entropy)."""
    p = rng.uniform(0.1, 1.0, size=shape)
    return (p / p.sum(axis=-1, keepdims=True)).astype(tf.as_dtype(dtype).as_numpy_dtype)


def class_labels(classes, dtype=tf.int32):
    def gen(rng, shape, _dtype):
        return rng.integers(0, classes, size=shape).astype(dtype.as_numpy_dtype)
    gen.dtype = dtype
    return gen


def around_relu6_kinks(rng, shape, dtype):
    """Values near -1, 3 and 7: away from relu6's kinks at 0 and 6."""
    x = rng.choice([-1.0, 3.0, 7.0], size=shape) + rng.uniform(-0.5, 0.5, size=shape)
    return x.astype(tf.as_dtype(dtype).as_numpy_dtype)


def elu_outputs(rng, shape, dtype):
    """Plausible Elu outputs: in (-1, 0) or positive, away from 0."""
    x = np.where(rng.random(shape) > 0.5, rng.uniform(0.3, 1.5, shape), rng.uniform(-0.9, -0.3,
                                                                                    shape))
    return x.astype(tf.as_dtype(dtype).as_numpy_dtype)


def np_bias_add_nchw(v, b):
    return v + b.reshape([-1] + [1] * (v.ndim - 2))


def np_top_k(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return np.take_along_axis(x, idx, -1), idx


UNARY = [((3, 4),), ((),)]
XENT_SHAPES = [((3, 4), (3, 4)), ((1, 5), (1, 5))]

SPECS = [
    OpSpec("Relu", tf.nn.relu, lambda x: np.maximum(x, 0), UNARY, inputs=away_from_zero),
    OpSpec("Relu", tf.nn.relu, lambda x: np.maximum(x, 0), UNARY, dtypes=[tf.int32],
           name="Relu_int32"),
    OpSpec("ReluGrad", nn_ops.relu_grad, lambda g, x: g * (x > 0), [((3, 4),) * 2, ((), ())],
           inputs=[uniform, away_from_zero]),
    OpSpec("Relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), UNARY, inputs=around_relu6_kinks),
    OpSpec("Relu6Grad", lambda g, x: apply_op("Relu6Grad", g, x),
           lambda g, x: g * ((x > 0) & (x < 6)), [((3, 4),) * 2, ((), ())],
           inputs=[uniform, around_relu6_kinks]),
    OpSpec("Elu", tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), UNARY,
           inputs=away_from_zero),
    OpSpec("EluGrad", lambda g, y: apply_op("EluGrad", g, y),
           lambda g, y: np.where(y > 0, g, g * (y + 1)), [((3, 4),) * 2, ((), ())],
           inputs=[uniform, elu_outputs]),
    OpSpec("Softplus", tf.nn.softplus, lambda x: np.log1p(np.exp(x)), UNARY),
    OpSpec("SoftplusGrad", lambda g, x: apply_op("SoftplusGrad", g, x),
           lambda g, x: g * np_sigmoid(x), [((3, 4),) * 2, ((), ())]),
    OpSpec("Softsign", tf.nn.softsign, lambda x: x / (1 + np.abs(x)), UNARY,
           inputs=away_from_zero),
    OpSpec("SoftsignGrad", lambda g, x: apply_op("SoftsignGrad", g, x),
           lambda g, x: g / (1 + np.abs(x)) ** 2, [((3, 4),) * 2, ((), ())],
           inputs=[uniform, away_from_zero]),
    OpSpec("Softmax", tf.nn.softmax, np_softmax, [((3, 4),), ((5,),), ((2, 3, 4),)]),
    OpSpec("Softmax", lambda x: tf.nn.softmax(x, dim=0), lambda x: np_softmax(x, 0),
           [((3, 4),)], name="Softmax_dim0"),
    OpSpec("LogSoftmax", tf.nn.log_softmax, np_log_softmax, [((3, 4),), ((5,),), ((2, 3, 4),)]),
    OpSpec("BiasAdd", tf.nn.bias_add, np.add, [((2, 3), (3,)), ((2, 2, 2, 3), (3,))]),
    OpSpec("BiasAdd", lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"), np_bias_add_nchw,
           [((2, 3, 2, 2), (3,)), ((2, 3), (3,))], name="BiasAdd_NCHW"),
    OpSpec("BiasAdd", tf.nn.bias_add, np.add, [((2, 3), (3,))], dtypes=[tf.int32],
           name="BiasAdd_int32"),
    OpSpec("BiasAddV1", nn_ops.bias_add_v1, np.add, [((2, 3), (3,)), ((2, 2, 3), (3,))]),
    OpSpec("BiasAddGrad", nn_ops.bias_add_grad, lambda g: g.reshape(-1, g.shape[-1]).sum(0),
           [((2, 3),), ((2, 2, 2, 3),)]),
    OpSpec("BiasAddGrad", lambda g: nn_ops.bias_add_grad(g, data_format="NCHW"),
           lambda g: g.sum(axis=tuple(i for i in range(g.ndim) if i != 1)),
           [((2, 3, 2, 2),)], name="BiasAddGrad_NCHW"),
    OpSpec("SoftmaxCrossEntropyWithLogits",
           lambda x, l: list(apply_op("SoftmaxCrossEntropyWithLogits", x, l)),
           lambda x, l: list(np_xent(x, l)), XENT_SHAPES, inputs=[uniform, probabilities]),
    OpSpec("SoftmaxCrossEntropyWithLogits",
           lambda x, l: tf.nn.softmax_cross_entropy_with_logits(labels=l, logits=x),
           lambda x, l: np_xent(x, l)[0], [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4))],
           inputs=[uniform, probabilities], name="softmax_cross_entropy_with_logits"),
    OpSpec("SparseSoftmaxCrossEntropyWithLogits",
           lambda x, l: list(apply_op("SparseSoftmaxCrossEntropyWithLogits", x, l)),
           lambda x, l: list(np_xent(x, np.eye(4)[l])), [((3, 4), (3,)), ((1, 4), (1,))],
           inputs=[uniform, class_labels(4)]),
    OpSpec("SparseSoftmaxCrossEntropyWithLogits",
           lambda x, l: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=l, logits=x),
           lambda x, l: np_xent(x, np.eye(4)[l])[0], [((3, 4), (3,)), ((2, 3, 4), (2, 3))],
           inputs=[uniform, class_labels(4, tf.int64)], name="sparse_xent_int64"),
    OpSpec("L2Loss", tf.nn.l2_loss, lambda t: np.sum(t * t) / 2, UNARY),
    OpSpec("InTopK", lambda p, t: tf.nn.in_top_k(p, t, 2),
           lambda p, t: np.argsort(-p, 1)[:, :2].__eq__(t[:, None]).any(1),
           [((4, 5), (4,)), ((1, 3), (1,))], dtypes=[tf.float32],
           inputs=[distinct, class_labels(3)]),
    OpSpec("TopKV2", lambda x: list(tf.nn.top_k(x, 2)), lambda x: list(np_top_k(x, 2)),
           [((5,),), ((3, 6),), ((2, 2, 4),)], inputs=distinct),
    OpSpec("TopKV2", lambda x: list(tf.nn.top_k(x, 4)), lambda x: list(np_top_k(x, 4)),
           [((4, 4),)], dtypes=[tf.int32, tf.float32], inputs=distinct, grad=(),
           name="TopKV2_full"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



# ---- composite losses, API generations --------------------------------------------------------
LOGITS = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]], np.float32)
LABELS = np.array([[0.2, 0.7, 0.1], [0.0, 0.0, 1.0]], np.float32)


def test_softmax_xent_positional_is_0_9_order():
    want = np_xent(LOGITS.astype(np.float64), LABELS)[0]
    old = tf.nn.softmax_cross_entropy_with_logits(LOGITS, LABELS)
    new = tf.nn.softmax_cross_entropy_with_logits(labels=LABELS, logits=LOGITS)
    mixed = tf.nn.softmax_cross_entropy_with_logits(LOGITS, labels=LABELS)
    for got in _run([old, new, mixed]):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_softmax_xent_rejects_conflicting_or_missing_args():
    with pytest.raises(TypeError, match="logits both positionally"):
        tf.nn.softmax_cross_entropy_with_logits(LOGITS, logits=LOGITS)
    with pytest.raises(ValueError, match="requires both"):
        tf.nn.softmax_cross_entropy_with_logits(logits=LOGITS)
    with pytest.raises(ValueError, match="same shape"):
        tf.nn.softmax_cross_entropy_with_logits(labels=LABELS[:, :2], logits=LOGITS)


def test_softmax_xent_dim_and_name():
    loss = tf.nn.softmax_cross_entropy_with_logits(LOGITS.T, LABELS.T, 0, "xent")
    assert loss.op.name.startswith("xent")
    np.testing.assert_allclose(_run(loss), np_xent(LOGITS.astype(np.float64), LABELS)[0],
                               rtol=1e-5)


def test_sparse_xent_orders_and_out_of_range_label():
    labels = np.array([1, 2], np.int32)
    want = np_xent(LOGITS.astype(np.float64), np.eye(3)[labels])[0]
    old = tf.nn.sparse_softmax_cross_entropy_with_logits(LOGITS, labels)
    new = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=LOGITS)
    for got in _run([old, new]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    bad = tf.placeholder(tf.int32, [2])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=LOGITS, labels=bad,
                                                          name="my_xent")
    want = r"^Received a label value of 3 which is outside the valid range of \[0, 3\)\.  Label "
    with pytest.raises(tf.errors.InvalidArgumentError, match=want + r"values: 0 3(.|\n)*my_xent"):
        _run(loss, {bad: [0, 3]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1"):
        _run(loss, {bad: [-1, 0]})


def test_sparse_xent_checks_label_dtype_and_rank():
    with pytest.raises(TypeError, match="int32 or int64"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=LOGITS)
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1, 2]], logits=LOGITS)


def np_logistic(x, z):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def test_sigmoid_xent_both_generations_and_stability():
    x = np.array([-100.0, -2.0, 0.0, 3.0, 100.0], np.float32)
    z = np.array([0.0, 1.0, 0.5, 0.0, 1.0], np.float32)
    got = _run([tf.nn.sigmoid_cross_entropy_with_logits(x, z),
                tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
                tf.nn.sigmoid_cross_entropy_with_logits(logits=x, targets=z)])
    for g in got:
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, np_logistic(x.astype(np.float64), z), rtol=1e-5,
                                   atol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z[:2], logits=x)


def test_sigmoid_xent_gradient_is_sigmoid_minus_labels():
    x = tf.constant([-3.0, 0.5, 4.0], tf.float64)
    z = np.array([1.0, 0.0, 0.3])
    grad, = tf.gradients(tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [x])
    np.testing.assert_allclose(_run(grad), np_sigmoid(np.array([-3.0, 0.5, 4.0])) - z,
                               rtol=1e-10)


def test_weighted_xent():
    x = np.array([-50.0, -1.0, 0.0, 2.0, 50.0])
    z = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    q = 3.0
    want = (1 - z) * x + (1 + (q - 1) * z) * np.logaddexp(0, -x)
    got = _run([tf.nn.weighted_cross_entropy_with_logits(x, z, q),
                tf.nn.weighted_cross_entropy_with_logits(targets=z, logits=x, pos_weight=q)])
    for g in got:
        np.testing.assert_allclose(g, want, rtol=1e-10)
    s = np_sigmoid(x[1:4])
    np.testing.assert_allclose(want[1:4], (z[1:4] * -np.log(s) * q
                                           + (1 - z[1:4]) * -np.log(1 - s)))


def test_xw_plus_b_and_bias_add_shape_errors():
    x = np.ones((2, 3), np.float32)
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(_run(tf.nn.xw_plus_b(x, w, b)), x @ w + b)
    with pytest.raises(ValueError, match="bias"):
        tf.nn.bias_add(x, b)
    with pytest.raises(ValueError, match="must have rank at least 2"):
        tf.nn.bias_add(np.ones(3, np.float32), np.ones(3, np.float32))


def test_top_k_sorted_ties_and_bad_k():
    x = np.array([[1.0, 3.0, 3.0, 2.0]], np.float32)
    values, indices = _run(tf.nn.top_k(x, 3))
    np.testing.assert_array_equal(values, [[3.0, 3.0, 2.0]])
    np.testing.assert_array_equal(indices, [[1, 2, 3]])
    with pytest.raises(ValueError, match="k must be in"):
        tf.nn.top_k(x, 5)
    k = tf.placeholder(tf.int32)
    want = "(?s)^input must have at least k columns. Had 4, needed 7.*TopKV2 op"
    with pytest.raises(tf.errors.InvalidArgumentError, match=want):
        _run(tf.nn.top_k(x, k), {k: 7})


def test_in_top_k_ties_and_nonfinite():
    predictions = np.array([[0.1, 0.3, 0.3, 0.2], [np.nan, 0.0, 1.0, 2.0]], np.float32)
    targets = np.array([2, 0], np.int32)
    np.testing.assert_array_equal(_run(tf.nn.in_top_k(predictions, targets, 1)), [True, False])
    out_of_range = np.array([3, 4], np.int64)  # TF 0.9/1.0 refuse it (later TF: False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="^targets\\[1\\] is out of range"):
        _run(tf.nn.in_top_k(predictions, out_of_range, 1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="^targets\\[0\\] is out of range"):
        _run(tf.nn.in_top_k(predictions, np.array([-1, 0], np.int32), 1))


# ---- dropout, zero_fraction, moments, l2_normalize ---------------------------------------------
def test_dropout_scales_and_keeps_fraction():
    x = np.ones((200, 100), np.float32)
    out = _run(tf.nn.dropout(x, 0.25, seed=3))
    assert set(np.unique(out)) <= {0.0, 4.0}
    assert abs(np.mean(out != 0) - 0.25) < 0.02
    assert abs(out.mean() - 1.0) < 0.1


def test_dropout_placeholder_keep_prob_and_noise_shape():
    x = np.ones((50, 40), np.float32)
    keep = tf.placeholder(tf.float32)
    out = tf.nn.dropout(x, keep, noise_shape=[50, 1])
    assert out.get_shape().as_list() == [50, 40]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {keep: 1.0}), x)
        half = sess.run(out, {keep: 0.5})
    assert np.all((half == half[:, :1]))  # one decision per row
    assert set(np.unique(half)) <= {0.0, 2.0}


def test_dropout_rejects_bad_keep_prob():
    with pytest.raises(ValueError, match="keep_prob"):
        tf.nn.dropout(np.ones(3, np.float32), 1.5)
    with pytest.raises(ValueError, match="floating"):
        tf.nn.dropout(np.ones(3, np.int32), 0.5)


def test_zero_fraction_moments_l2_normalize():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 5.0]], np.float32)
    frac, (mean, var), (mean_k, var_k), normed = _run([
        tf.nn.zero_fraction(x), tf.nn.moments(x, [0]), tf.nn.moments(x, [1], keep_dims=True),
        tf.nn.l2_normalize(x, 1)])
    assert frac.dtype == np.float32 and frac == pytest.approx(0.5)
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(var, x.var(0), rtol=1e-6)
    np.testing.assert_allclose(mean_k, x.mean(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(var_k, x.var(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(normed, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6)


def test_softmax_cross_entropy_training_gradient_matches_numpy():
    logits = tf.constant(LOGITS.astype(np.float64))
    loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=LABELS, logits=logits))
    grad, = tf.gradients(loss, [logits])
    np.testing.assert_allclose(_run(grad), np_softmax(LOGITS.astype(np.float64)) - LABELS,
                               rtol=1e-6)
    assert "Softmax" not in {op.type for op in tf.get_default_graph().get_operations()}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
@pytest.mark.parametrize("size", [0, 5, (1 << 16) + 1, 3 * (1 << 16)])
def test_sum_of_squares_matches_float64_reference(dtype, size):
    from tensorflux.ops.nn_ops import sum_of_squares
    x = (np.random.default_rng(size).standard_normal(size) * 3).astype(dtype)
    want = float(np.sum(np.square(x, dtype=np.float64)))
    rtol = 1e-3 if dtype == np.float16 else 1e-6
    np.testing.assert_allclose(sum_of_squares(x), want, rtol=rtol)
    # non-contiguous input (a transposed view)
    m = x[:size - size % 5].reshape(5, -1).T
    np.testing.assert_allclose(sum_of_squares(m), float(np.sum(np.square(m, dtype=np.float64))),
                               rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_softplus_grad_sigmoid_matches_reference_at_extremes(dtype):
    x = np.array([-1e4, -100, -20, -1, -1e-3, 0, 1e-3, 1, 20, 100, 1e4]).astype(dtype)
    with np.errstate(over="ignore"):  # exp(1e4) is inf: the reference's sigmoid is then 0
        want = 1 / (1 + np.exp(-x.astype(np.float64)))
    got = tf.Session().run(apply_op("SoftplusGrad", np.ones_like(x), x))  # 1 * sigmoid(x)
    assert got.dtype == dtype and np.isfinite(got).all()
    atol = 1e-3 if dtype == np.float16 else 1e-7
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=atol, atol=atol)
