"""TF 0.9's word2vec ops: Skipgram (vocabulary, counts, skip-gram pairs, epochs, subsampling)
checked against a plain-Python reference, and NegTrain (which rows move, and by how much)."""
import atexit
import collections
import os
import shutil
import tempfile
import threading

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.ops import state_ops
from tensorflux.ops import word2vec_ops

pytestmark = pytest.mark.timeout(60)
_TMP = tempfile.mkdtemp(prefix="tfx_word2vec_ops")
# Removed at exit, not at this module's teardown: the op fuzzer runs SPECS later.
atexit.register(shutil.rmtree, _TMP, True)


def _corpus_file(name, words):
    path = os.path.join(_TMP, name)
    with open(path, "w") as f:
        f.write("  ".join(words[:7]) + "\n\t" + " ".join(words[7:]) + "\n")  # any whitespace
    return path


# ---- the plain-Python reference -----------------------------------------------------------
def _reference_vocabulary(words, min_count):
    counts, order = {}, []
    for w in words:
        if w not in counts:
            order.append(w)
        counts[w] = counts.get(w, 0) + 1
    kept = [w for w in order if counts[w] >= min_count]
    kept.sort(key=lambda w: -counts[w])  # stable: first seen first among equal counts
    vocab = [b"UNK"] + [w.encode() for w in kept]
    freq = [len(words) - sum(counts[w] for w in kept)] + [counts[w] for w in kept]
    ids = {w: i + 1 for i, w in enumerate(kept)}
    return vocab, freq, [ids.get(w, 0) for w in words]


def _reference_window1_pairs(ids, count):
    """The first `count` pairs at window_size 1 without subsampling (no randomness left):
    sentences of 1000 words walking round the corpus, each word paired with its neighbours
    inside its sentence; also each pair's example serial number and epoch."""
    pairs, serial, position, epoch = [], 0, len(ids), -1
    while len(pairs) < count:
        sentence, epochs = [], []
        for _ in range(word2vec_ops.SENTENCE_SIZE):
            if position >= len(ids):
                position, epoch = 0, epoch + 1
            sentence.append(ids[position])
            epochs.append(epoch)
            position += 1
        for c, word in enumerate(sentence):
            serial += 1
            for p in (c - 1, c + 1):
                if 0 <= p < len(sentence):
                    pairs.append((word, sentence[p], serial, epochs[c]))
    return pairs[:count]


def _words(n, vocabulary, seed=0):
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)  # Zipf-like: some frequent, some rare
    return list(rng.choice(vocabulary, size=n, p=weights / weights.sum()))


VOCABULARY = [f"w{k}" for k in range(40)]
SMALL_WORDS = _words(1500, VOCABULARY)


def _skipgram_outputs(path, batch_size=8, **attrs):
    return word2vec_ops.skipgram(path, batch_size, **attrs)


def _harness_skipgram():
    return _skipgram_outputs(_corpus_file("harness.txt", SMALL_WORDS), window_size=1,
                             min_count=3, subsample=0.0)


def _harness_skipgram_ref():
    vocab, freq, ids = _reference_vocabulary(SMALL_WORDS, 3)
    pairs = _reference_window1_pairs(ids, 8)
    return [np.array(vocab, dtype=object), np.array(freq, np.int32), len(SMALL_WORDS),
            pairs[-1][3], pairs[-1][2], [p[0] for p in pairs], [p[1] for p in pairs]]


# ---- NegTrain in the harness: every negative is row 5 (the only word with a count) ---------
_V, _DIM, _NEG = 6, 4, 2


def _fresh(x):
    return state_ops.assign(state_ops.variable_op(x.get_shape(), tf.float32), x,
                            validate_shape=False)


def _neg_train_fn(w_in, w_out, examples, labels, lr):
    w_in, w_out = _fresh(w_in), _fresh(w_out)
    step = word2vec_ops.neg_train(w_in, w_out, examples, labels, lr,
                                  vocab_count=[0] * (_V - 1) + [7], num_negative_samples=_NEG)
    with tf.control_dependencies([step]):
        return [tf.identity(w_in), tf.identity(w_out)]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_neg_train(w_in, w_out, examples, labels, negatives, lr):
    """Pair by pair, every gradient from the weights before the step, summed at the end."""
    d_in, d_out = np.zeros_like(w_in, np.float64), np.zeros_like(w_out, np.float64)
    for e, l, negs in zip(examples, labels, negatives):
        g = lr * _sigmoid(-w_in[e] @ w_out[l])
        d_in[e] += g * w_out[l]
        d_out[l] += g * w_in[e]
        for n in negs:
            if n != l:
                g = -lr * _sigmoid(w_in[e] @ w_out[n])
                d_in[e] += g * w_out[n]
                d_out[n] += g * w_in[e]
    return [w_in + d_in, w_out + d_out]


def _neg_train_ref(w_in, w_out, examples, labels, lr):
    negatives = np.full((len(examples), _NEG), _V - 1)
    return reference_neg_train(w_in, w_out, examples, labels, negatives, lr)


def _ids(rng, shape, dtype):
    return rng.permutation(_V)[:shape[0]].astype(np.int32)


def _learning_rate(rng, shape, dtype):
    return np.array(0.5, np.float32)


SPECS = [
    OpSpec("Skipgram", _harness_skipgram, _harness_skipgram_ref, [()], dtypes=[tf.float32],
           data_dependent_shape=True),
    OpSpec("NegTrain", _neg_train_fn, _neg_train_ref, [((_V, _DIM), (_V, _DIM), (4,), (4,), ())],
           dtypes=[tf.float32], grad=[],
           inputs=[lambda r, s, d: r.uniform(-1, 1, s).astype(np.float32)] * 2
           + [_ids, _ids, _learning_rate]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- Skipgram ---------------------------------------------------------------------------
def test_vocabulary_counts_ties_and_unk():
    words = ("the cat the dog x the dog cat the y the " * 6).split()
    path = _corpus_file("ties.txt", words)
    vocab, freq, per_epoch = _skipgram_outputs(path, window_size=2, min_count=7)[:3]
    with tf.Session() as sess:
        got = sess.run([vocab, freq, per_epoch])
    want_vocab, want_freq, _ = _reference_vocabulary(words, 7)
    assert want_vocab == [b"UNK", b"the", b"cat", b"dog"]  # cat and dog tie: cat seen first
    assert got[0].tolist() == want_vocab and got[1].tolist() == want_freq
    assert got[1].dtype == np.int32 and got[2] == len(words) == 66


def test_window1_pairs_epochs_and_counters_follow_the_reference():
    words = _words(1300, VOCABULARY, seed=3)  # a sentence crosses the corpus's end
    outs = _skipgram_outputs(_corpus_file("walk.txt", words), batch_size=250, window_size=1,
                             min_count=2, subsample=0.0)
    _, _, ids = _reference_vocabulary(words, 2)
    want = _reference_window1_pairs(ids, 250 * 12)
    with tf.Session() as sess:
        for k in range(12):
            epoch, processed, examples, labels = sess.run(outs[3:])
            batch = want[250 * k:250 * (k + 1)]
            assert examples.tolist() == [p[0] for p in batch]
            assert labels.tolist() == [p[1] for p in batch]
            assert (processed, epoch) == (batch[-1][2], batch[-1][3])
    assert epoch == 1  # 12 batches of ~2 pairs per word walk past the 1300 words


def _windows_of(examples, labels, sentence, window):
    """Each position's label positions, from the pairs of a sentence whose words are distinct
    within any window (so a new example word starts a new position)."""
    groups, pos = [], -1
    for e, l in zip(examples, labels):
        if pos < 0 or e != sentence[pos]:
            pos += 1
            if pos == len(sentence):
                break
            assert e == sentence[pos]
            groups.append([])
        near = [p for p in range(pos - window, pos + window + 1)
                if 0 <= p < len(sentence) and sentence[p] == l]
        assert len(near) == 1, (pos, l)
        groups[-1].append(near[0])
    return groups


def test_windows_are_random_skips_within_the_sentence():
    words = [f"t{k % 400}" for k in range(1200)]  # 400 distinct words: no repeats in a window
    window = 3
    outs = _skipgram_outputs(_corpus_file("distinct.txt", words), batch_size=500,
                             window_size=window, min_count=1, subsample=0.0)
    _, _, ids = _reference_vocabulary(words, 1)
    sentence = ids[:word2vec_ops.SENTENCE_SIZE]
    with tf.Session() as sess:
        batches = [sess.run(outs[5:]) for _ in range(12)]
    examples = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    groups = _windows_of(examples, labels, sentence, window)
    assert len(groups) == len(sentence)
    skips = []
    for c, got in enumerate(groups):
        candidates = [s for s in range(1, window + 1)
                      if got == [p for p in range(c - s, c + s + 1)
                                 if p != c and 0 <= p < len(sentence)]]
        assert candidates, f"position {c}: labels at {got}"
        skips.append(candidates[-1])
    counts = collections.Counter(skips[window:-window])  # away from the sentence's ends
    assert set(counts) == {1, 2, 3} and min(counts.values()) > 0.25 * len(skips) / 3


def test_subsampling_keeps_frequent_words_less_often():
    words = ["a"] * 1800 + [f"r{k}" for k in range(200)]
    np.random.default_rng(0).shuffle(words)
    subsample = 0.01
    outs = _skipgram_outputs(_corpus_file("frequent.txt", words), batch_size=1000,
                             window_size=1, min_count=1, subsample=subsample)
    with tf.Session() as sess:
        vocab = sess.run(outs[0])
        examples = np.concatenate([sess.run(outs[5]) for _ in range(20)])
    threshold = subsample * len(words)
    keep = {f: min(1.0, (np.sqrt(f / threshold) + 1) * threshold / f) for f in (1800, 1)}
    want = 1800 * keep[1800] / (1800 * keep[1800] + 200 * keep[1])  # share of "a" kept
    share = np.mean(vocab[examples] == b"a")
    assert abs(share - want) < 0.05, (share, want)
    assert share < 0.8  # "a" is 90% of the text


def test_concurrent_runs_hand_out_each_pair_once():
    words = _words(1200, VOCABULARY, seed=5)
    outs = _skipgram_outputs(_corpus_file("threads.txt", words), batch_size=50, window_size=1,
                             min_count=1, subsample=0.0)
    _, _, ids = _reference_vocabulary(words, 1)
    got = []
    with tf.Session() as sess:
        def work():
            for _ in range(10):
                e, processed = sess.run([outs[5], outs[4]])
                got.append((processed, e.tolist()))
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    got.sort()
    want = _reference_window1_pairs(ids, 1500)
    assert [x for _, e in got for x in e] == [p[0] for p in want]


def test_skipgram_errors_use_tf_wording():
    short = _corpus_file("short.txt", ["a", "b"] * 10)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"The text file .*short.txt contains too little data: 20 words"):
            sess.run(_skipgram_outputs(short, window_size=5)[5])
        with pytest.raises(tf.errors.NotFoundError, match="missing.txt"):
            sess.run(_skipgram_outputs(os.path.join(_TMP, "missing.txt"))[5])


# ---- NegTrain ---------------------------------------------------------------------------
def _neg_train_run(w_in0, w_out0, examples, labels, lr, vocab_count, num_negative):
    w_in, w_out = tf.Variable(w_in0), tf.Variable(w_out0)
    step = word2vec_ops.neg_train(w_in, w_out, examples, labels, lr, vocab_count=vocab_count,
                                  num_negative_samples=num_negative)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        return sess.run([w_in, w_out])


def test_neg_train_moves_only_the_rows_of_examples_labels_and_negatives():
    rng = np.random.default_rng(0)
    w_in0 = rng.uniform(-1, 1, (8, 5)).astype(np.float32)
    w_out0 = rng.uniform(-1, 1, (8, 5)).astype(np.float32)
    examples, labels = [1, 3, 1], [2, 4, 6]
    counts = [0, 0, 0, 0, 0, 0, 0, 9]  # every negative is word 7
    w_in, w_out = _neg_train_run(w_in0, w_out0, examples, labels, 0.1, counts, 3)
    moved_in = np.flatnonzero(np.any(w_in != w_in0, axis=1)).tolist()
    moved_out = np.flatnonzero(np.any(w_out != w_out0, axis=1)).tolist()
    assert moved_in == [1, 3] and moved_out == [2, 4, 6, 7]
    want = reference_neg_train(w_in0.astype(np.float64), w_out0.astype(np.float64), examples,
                               labels, np.full((3, 3), 7), 0.1)
    np.testing.assert_allclose(w_in, want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_out, want[1], rtol=1e-5, atol=1e-6)
    # the positive pair pulls example and label together, the negative pushes them apart
    assert w_in[3] @ w_out[4] > w_in0[3] @ w_out0[4]
    assert w_in[3] @ w_out[7] < w_in0[3] @ w_out0[7]


def test_neg_train_draws_negatives_by_count_to_the_075():
    w_in0 = np.full((4, 2), 0.1, np.float32)
    counts = [0, 16, 1, 0]  # weights 8 : 1, so word 1 is 8 times as likely as word 2
    examples, labels = np.zeros(4000, np.int32), np.full(4000, 3, np.int32)
    _, w_out = _neg_train_run(w_in0, np.zeros((4, 2), np.float32), examples, labels, 1e-4,
                              counts, 1)
    # each negative drawn moves its row by -lr * sigmoid(0) * w_in[0]
    drawn = -w_out[:, 0] / (1e-4 * 0.5 * 0.1)
    assert drawn[0] == 0 and abs(drawn[1] + drawn[2] - 4000) < 1
    assert 6.5 < drawn[1] / drawn[2] < 10


def test_neg_train_errors():
    w = tf.Variable(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="w_in.shape == w_out.shape"):
        word2vec_ops.neg_train(w, tf.Variable(np.zeros((4, 2), np.float32)), [0], [1], 0.1,
                               [1, 1, 1], 1)
    step = word2vec_ops.neg_train(w, tf.Variable(np.zeros((3, 2), np.float32)), [0], [5], 0.1,
                                  [1, 1, 1, 1], 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="vocab_size mismatches: 3 vs. 4"):
            sess.run(step)


def test_huge_batches_and_negative_counts_are_refused_before_allocating():
    path = _corpus_file("limits.txt", SMALL_WORDS)
    w = tf.Variable(np.zeros((3, 2), np.float32))
    step = word2vec_ops.neg_train(w, tf.Variable(np.zeros((3, 2), np.float32)), [0], [1], 0.1,
                                  [1, 1, 1], 2 ** 40)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.ResourceExhaustedError, match="Skipgram"):
            sess.run(_skipgram_outputs(path, batch_size=2 ** 40)[5])
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.ResourceExhaustedError, match="NegTrain"):
            sess.run(step)
