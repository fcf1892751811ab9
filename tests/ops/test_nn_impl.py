"""nn_impl composites: batch normalization, sufficient statistics, nce_loss and
sampled_softmax_loss (values against NumPy with fixed samples, both argument orders, and a
small model whose loss falls)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, positive, run_spec

# Fixed samples for deterministic losses: 3 examples, 6 classes, 4 sampled classes.
LABELS = np.array([[1], [4], [0]], np.int64)
SAMPLED = np.array([4, 2, 5, 0], np.int64)
TRUE_EXP = np.array([[0.3], [0.2], [0.5]], np.float32)
SAMPLED_EXP = np.array([0.2, 0.4, 0.1, 0.5], np.float32)
LOG_TRUE_EXP, LOG_SAMPLED_EXP = np.log(TRUE_EXP.astype(np.float64)), np.log(
    SAMPLED_EXP.astype(np.float64))
SAMPLED_VALUES = (SAMPLED, TRUE_EXP, SAMPLED_EXP)


def _sampled_logits(w, b, x, remove_hits):
    true_logits = np.sum(x * w[LABELS[:, 0]], 1, keepdims=True) + b[LABELS]
    true_logits = true_logits - LOG_TRUE_EXP
    sampled_logits = x @ w[SAMPLED].T + b[SAMPLED] - LOG_SAMPLED_EXP
    if remove_hits:
        sampled_logits = np.where(SAMPLED[None, :] == LABELS, -np.finfo(np.float32).max,
                                  sampled_logits)
    return np.concatenate([true_logits, sampled_logits], 1)


def ref_nce(w, b, x, remove_hits=False):
    logits = _sampled_logits(w, b, x, remove_hits)
    z = np.zeros_like(logits)
    z[:, 0] = 1
    return np.sum(np.logaddexp(0, logits) - logits * z, 1)


def ref_sampled_softmax(w, b, x, remove_hits=True):
    logits = _sampled_logits(w, b, x, remove_hits)
    m = logits.max(1, keepdims=True)
    return -(logits[:, 0] - (m[:, 0] + np.log(np.sum(np.exp(logits - m), 1))))


def ref_batch_norm(x, mean, var, offset, scale, eps):
    return scale * (x - mean) / np.sqrt(var + eps) + offset


SPECS = [
    OpSpec("Softplus",
           lambda w, b, x: tf.nn.nce_loss(w, b, LABELS, x, 4, 6, sampled_values=SAMPLED_VALUES),
           ref_nce, [((6, 3), (6,), (3, 3))], tol={tf.float32: 1e-4}, name="nce_loss"),
    OpSpec("SoftmaxCrossEntropyWithLogits",
           lambda w, b, x: tf.nn.sampled_softmax_loss(w, b, LABELS, x, 4, 6,
                                                      sampled_values=SAMPLED_VALUES),
           ref_sampled_softmax, [((6, 3), (6,), (3, 3))], tol={tf.float32: 1e-4},
           name="sampled_softmax_loss"),
    OpSpec("Rsqrt", lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
           lambda x, m, v, o, s: ref_batch_norm(x, m, v, o, s, 1e-3),
           [((2, 3, 4), (4,), (4,), (4,), (4,))], inputs=positive, tol={tf.float32: 1e-5},
           name="batch_normalization"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def _wbx(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal((3, 3))


def test_both_argument_orders_and_keywords_agree():
    w, b, x = _wbx()
    kw = {"num_sampled": 4, "num_classes": 6, "sampled_values": SAMPLED_VALUES}
    for fn, ref in ((tf.nn.nce_loss, ref_nce), (tf.nn.sampled_softmax_loss, ref_sampled_softmax)):
        old = fn(w, b, x, LABELS, 4, 6, sampled_values=SAMPLED_VALUES)   # 0.9 order
        new = fn(w, b, LABELS, x, 4, 6, sampled_values=SAMPLED_VALUES)   # 1.0 order
        named = fn(weights=w, biases=b, inputs=x, labels=LABELS, **kw)
        for got in _run([old, new, named]):
            np.testing.assert_allclose(got, ref(w, b, x), rtol=1e-10)


def test_accidental_hit_removal_switches():
    w, b, x = _wbx(1)
    nce = tf.nn.nce_loss(w, b, LABELS, x, 4, 6, sampled_values=SAMPLED_VALUES,
                         remove_accidental_hits=True)
    ssm = tf.nn.sampled_softmax_loss(w, b, LABELS, x, 4, 6, sampled_values=SAMPLED_VALUES,
                                     remove_accidental_hits=False)
    got_nce, got_ssm = _run([nce, ssm])
    np.testing.assert_allclose(got_nce, ref_nce(w, b, x, True), rtol=1e-10)
    np.testing.assert_allclose(got_ssm, ref_sampled_softmax(w, b, x, False), rtol=1e-10)


def test_sharded_weights_and_num_true_two():
    w, b, x = _wbx(2)
    labels = np.array([[1, 2], [4, 5], [0, 3]], np.int64)
    true_exp = np.full((3, 2), 0.25, np.float32)
    values = (SAMPLED, true_exp, SAMPLED_EXP)
    loss = tf.nn.sampled_softmax_loss([w[0::2], w[1::2]], b, labels, x, 4, 6, num_true=2,
                                      sampled_values=values, remove_accidental_hits=False)
    true_logits = (np.einsum("bd,btd->bt", x, w[labels]) + b[labels]
                   - np.log(true_exp.astype(np.float64)))
    sampled_logits = x @ w[SAMPLED].T + b[SAMPLED] - LOG_SAMPLED_EXP
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate([np.full((3, 2), 0.5), np.zeros((3, 4))], 1)
    log_p = logits - np.log(np.sum(np.exp(logits), 1, keepdims=True))
    np.testing.assert_allclose(_run(loss), -np.sum(targets * log_p, 1), rtol=1e-10)


def test_labels_must_be_integers():
    w, b, x = _wbx()
    with pytest.raises(TypeError, match="integer"):
        tf.nn.nce_loss(w, b, x, x, 4, 6)
    with pytest.raises(ValueError, match="num_sampled"):
        tf.nn.nce_loss(w, b, LABELS, x)


@pytest.mark.parametrize("loss_fn", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_sampled_losses_train_a_small_model(loss_fn):
    """A word -> (7 * word + 3) % V mapping; the default log-uniform sampler."""
    rng = np.random.default_rng(0)
    vocab, dim, batch = 40, 8, 32
    tf.set_random_seed(1)
    words = tf.placeholder(tf.int32, [batch])
    targets = tf.placeholder(tf.int64, [batch, 1])
    emb = tf.Variable(tf.random_uniform([vocab, dim], -1, 1))
    w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=0.1))
    b = tf.Variable(tf.zeros([vocab]))
    inputs = tf.nn.embedding_lookup(emb, words)
    loss = tf.reduce_mean(loss_fn(w, b, inputs, targets, 8, vocab))  # 0.9 order
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    history = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(150):
            xs = rng.integers(0, vocab, batch)
            history.append(sess.run([loss, step], {words: xs,
                                                   targets: ((7 * xs + 3) % vocab)[:, None]})[0])
    first, last = np.mean(history[:10]), np.mean(history[-10:])
    assert last < 0.5 * first, (first, last)


def test_fused_batch_norm_training_and_inference():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 2, 5))
    scale, offset = rng.uniform(0.5, 2, 5), rng.standard_normal(5)
    y, m, v = tf.nn.fused_batch_norm(x, scale, offset, epsilon=1e-3)
    got_y, got_m, got_v = _run([y, m, v])
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(got_y, ref_batch_norm(x, mean, var, offset, scale, 1e-3),
                               rtol=1e-10)
    np.testing.assert_allclose(got_m, mean, rtol=1e-10)
    np.testing.assert_allclose(got_v, var * 24 / 23, rtol=1e-10)
    xc = x.transpose(0, 3, 1, 2)
    y2, _, _ = tf.nn.fused_batch_norm(xc, scale, offset, mean, var, epsilon=1e-3,
                                      data_format="NCHW", is_training=False)
    np.testing.assert_allclose(_run(y2).transpose(0, 2, 3, 1),
                               ref_batch_norm(x, mean, var, offset, scale, 1e-3), rtol=1e-10)
    with pytest.raises(ValueError, match="requires mean"):
        tf.nn.fused_batch_norm(x, scale, offset, is_training=False)


def test_moments_and_sufficient_statistics():
    x = np.random.default_rng(4).standard_normal((3, 4, 5))
    mean, var = tf.nn.moments(tf.constant(x), [0, 1])
    counts, m_ss, v_ss, shift = tf.nn.sufficient_statistics(tf.constant(x), [0, 1], shift=0.5)
    m2, v2 = tf.nn.normalize_moments(counts, m_ss, v_ss, shift)
    got = _run([mean, var, counts, m2, v2])
    np.testing.assert_allclose(got[0], x.mean((0, 1)))
    np.testing.assert_allclose(got[1], x.var((0, 1)))
    assert got[2] == 12
    np.testing.assert_allclose(got[3], x.mean((0, 1)))
    np.testing.assert_allclose(got[4], x.var((0, 1)))
