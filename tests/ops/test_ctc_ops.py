"""Harness entries and behaviour tests for tensorflux/ops/ctc_ops.py (CTC loss and greedy
decoding), against a brute-force sum over every alignment."""
import itertools

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, uniform
from tensorflux.framework.op_def_library import apply_op



def np_log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def collapse(path, blank):
    """CTC's many-to-one map: merge repeats, then drop blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return [k for k in merged if k != blank]


def brute_force_loss(logits, labels, seq_len=None):
    """-log of the summed probability of every path that collapses to the label."""
    steps, batch, classes = logits.shape
    losses = []
    for b in range(batch):
        n = steps if seq_len is None else seq_len[b]
        logp = np_log_softmax(logits[:n, b].astype(np.float64))
        total = [logp[np.arange(n), path].sum() for path in
                 itertools.product(range(classes), repeat=n)
                 if collapse(list(path), classes - 1) == labels[b]]
        losses.append(-np.logaddexp.reduce(total) if total else np.inf)
    return np.array(losses)


def brute_force_labelings(logits):
    """{labeling: log p} over every labeling of one [T, C] sequence (exact CTC scores)."""
    steps, classes = logits.shape
    logp = np_log_softmax(logits.astype(np.float64))
    scores = {}
    for path in itertools.product(range(classes), repeat=steps):
        key = tuple(collapse(list(path), classes - 1))
        scores[key] = np.logaddexp(scores.get(key, -np.inf), logp[np.arange(steps), path].sum())
    return scores


def top_log_probs(x, k):
    """[batch, k]: the k best exact labeling scores per batch entry of [T, B, C] logits."""
    return np.array([sorted(brute_force_labelings(x[:, b]).values(), reverse=True)[:k]
                     for b in range(x.shape[1])])


def sparse_labels(labels):
    indices = [[b, i] for b, seq in enumerate(labels) for i in range(len(seq))]
    values = [v for seq in labels for v in seq]
    shape = [len(labels), max([len(s) for s in labels] + [1])]
    return tf.SparseTensor(np.array(indices, np.int64).reshape(-1, 2),
                           np.array(values, np.int32), shape)


def ctc_spec(shape, labels):
    """CTC loss of `labels` (one list per batch entry; blank = the last class) over logits of
    `shape`, every sequence full length."""
    steps, batch, _ = shape
    return OpSpec("CTCLoss",
                  lambda x: tf.nn.ctc_loss(sparse_labels(labels), x, [steps] * batch),
                  lambda x: brute_force_loss(x, labels), [(shape,)], inputs=uniform,
                  name=f"CTCLoss{list(shape)}")


SPECS = [
    ctc_spec((4, 2, 3), [[0, 1], [1]]),
    ctc_spec((3, 1, 3), [[1, 1]]),
    ctc_spec((4, 3, 4), [[0], [], [2, 0]]),
    # the decoded labels' shapes depend on the data; test_greedy_decoder_* checks them
    OpSpec("CTCGreedyDecoder", lambda x: tf.nn.ctc_greedy_decoder(x, [4, 2])[1],
           lambda x: -np.stack([x[:4, 0].max(1).sum(), x[:2, 1].max(1).sum()])[:, None],
           [((4, 2, 3),)], inputs=uniform, name="CTCGreedyDecoder_log_probability"),
    # a beam wider than the number of prefixes makes prefix search exact
    OpSpec("CTCBeamSearchDecoder",
           lambda x: tf.nn.ctc_beam_search_decoder(x, [4, 4], 64, 3, merge_repeated=False)[1],
           lambda x: top_log_probs(x, 3), [((4, 2, 3),)], inputs=uniform,
           name="CTCBeamSearchDecoder_log_probability"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_harness(spec):
    run_spec(spec)


def test_loss_honours_sequence_length_and_zero_gradient_past_it():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 2, 3)).astype(np.float32)
    inputs = tf.constant(logits)
    loss = tf.nn.ctc_loss(sparse_labels([[0, 1], [1]]), inputs, [3, 5])
    grad = tf.gradients(loss, inputs)[0]
    with tf.Session() as sess:
        got, g = sess.run([loss, grad])
    np.testing.assert_allclose(got, brute_force_loss(logits, [[0, 1], [1]], [3, 5]), rtol=1e-5)
    assert np.all(g[3:, 0] == 0) and np.any(g[3:, 1] != 0)
    # each step's gradient w.r.t. logits sums to zero (softmax minus a distribution)
    np.testing.assert_allclose(g.sum(-1), 0, atol=1e-5)


def test_batch_major_inputs_and_collapse_repeated():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((2, 4, 3)).astype(np.float32)  # [batch, time, classes]
    labels = sparse_labels([[1, 1, 0], [0]])
    loss = tf.nn.ctc_loss(labels, logits, [4, 4], preprocess_collapse_repeated=True,
                          time_major=False)
    with tf.Session() as sess:
        got = sess.run(loss)
    want = brute_force_loss(logits.transpose(1, 0, 2), [[1, 0], [0]])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_too_short_input_is_tf_error_or_ignored():
    logits = np.zeros((2, 1, 3), np.float32)
    labels = sparse_labels([[1, 1]])  # needs 3 steps (a blank between the repeats)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Not enough time for target transition sequence \(required: 3"):
            sess.run(tf.nn.ctc_loss(labels, logits, [2]))
        ignored = tf.nn.ctc_loss(labels, logits, [2], ignore_longer_outputs_than_inputs=True)
        assert sess.run(ignored).tolist() == [0.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match="blank"):
            sess.run(tf.nn.ctc_loss(sparse_labels([[2]]), logits, [2]))


def test_second_derivative_is_refused_as_tf():
    x = tf.constant(np.zeros((3, 1, 3), np.float32))
    _, gradient = apply_op("CTCLoss", x, np.array([[0, 0]], np.int64), np.array([0], np.int32),
                           [3])
    with pytest.raises(LookupError, match="second derivative of ctc_loss"):
        tf.gradients(tf.reduce_sum(gradient), x)


def test_greedy_decoder_merges_repeats_and_scores_like_tf():
    # steps: 0 0 blank 0 1 1 -> merged "0 0 1"; unmerged "0 0 0 1 1"
    best = [0, 0, 2, 0, 1, 1]
    logits = np.full((6, 1, 3), -1.0, np.float32)
    logits[np.arange(6), 0, best] = 2.0
    (merged,), log_prob = tf.nn.ctc_greedy_decoder(logits, [6])
    (raw,), _ = tf.nn.ctc_greedy_decoder(logits, [6], merge_repeated=False)
    with tf.Session() as sess:
        m, lp, r = sess.run([merged, log_prob, raw])
    assert m.values.tolist() == [0, 0, 1] and m.dense_shape.tolist() == [1, 3]
    assert m.indices.tolist() == [[0, 0], [0, 1], [0, 2]]
    assert r.values.tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_allclose(lp, [[-12.0]])


def test_beam_search_finds_the_exact_best_labelings():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 2, 4)).astype(np.float32) * 2
    decoded, log_prob = tf.nn.ctc_beam_search_decoder(logits, [5, 3], beam_width=200,
                                                      top_paths=2, merge_repeated=False)
    with tf.Session() as sess:
        paths, lp = sess.run([decoded, log_prob])
    for b, steps in enumerate([5, 3]):
        exact = sorted(brute_force_labelings(logits[:steps, b]).items(), key=lambda kv: -kv[1])
        for i in range(2):
            got = [v for (row, _), v in zip(paths[i].indices.tolist(), paths[i].values.tolist())
                   if row == b]
            assert tuple(got) == exact[i][0]
            np.testing.assert_allclose(lp[b, i], exact[i][1], rtol=1e-5)


def test_beam_search_merge_repeated_merges_the_output_as_tf():
    # the best path is "0 blank 0": labeling (0, 0); TF's merge_repeated then emits (0,)
    logits = np.full((3, 1, 2), -5.0, np.float32)
    logits[[0, 2], 0, 0] = 5.0
    logits[1, 0, 1] = 5.0
    (merged,), _ = tf.nn.ctc_beam_search_decoder(logits, [3], beam_width=10)
    (raw,), _ = tf.nn.ctc_beam_search_decoder(logits, [3], beam_width=10, merge_repeated=False)
    with tf.Session() as sess:
        m, r = sess.run([merged, raw])
    assert m.values.tolist() == [0] and r.values.tolist() == [0, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="top_paths must be"):
        with tf.Session() as sess:
            sess.run(tf.nn.ctc_beam_search_decoder(logits, [3], beam_width=2, top_paths=3)[1])
