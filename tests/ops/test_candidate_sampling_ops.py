"""Candidate samplers and ComputeAccidentalHits: harness entries for their deterministic
outputs, and statistical checks of the documented distributions and expected counts."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec

RANGE = 20
TOL = {tf.int64: 1e-6}  # float32 expected counts against float64 references


def _classes(rng, shape, dtype):
    return rng.integers(0, RANGE, size=shape).astype(np.int64)


_classes.dtype = tf.int64


def _small_classes(rng, shape, dtype):
    return rng.integers(0, 4, size=shape).astype(np.int64)


_small_classes.dtype = tf.int64


def log_uniform_p(k, range_max):
    k = np.asarray(k, np.float64)
    return (np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1)


def _in_range(s, hi):
    return tf.logical_and(tf.greater_equal(s, 0), tf.less(s, hi))


def _log_uniform_fn(t):
    s, te, se = tf.nn.log_uniform_candidate_sampler(t, 2, 7, False, RANGE, seed=1)
    p = (tf.log(tf.cast(s, tf.float64) + 2) - tf.log(tf.cast(s, tf.float64) + 1)) / np.log(
        RANGE + 1)
    return [te, tf.cast(se, tf.float64) / (7 * p), _in_range(s, RANGE)]


def _uniform_fn(t):
    s, te, se = tf.nn.uniform_candidate_sampler(t, 2, 5, False, RANGE, seed=2)
    return [te, se, _in_range(s, RANGE)]


def _hits_ref(true, sampled):
    rows, ids = [], []
    for i in range(true.shape[0]):
        for j in range(true.shape[1]):
            for p, s in enumerate(sampled):
                if s == true[i, j]:
                    rows.append(i)
                    ids.append(p)
    return [np.array(rows, np.int32), np.array(ids, np.int64),
            np.full(len(rows), -np.finfo(np.float32).max, np.float32)]


def _hits_mask(t, s):
    """The hits as a dense [batch, num_sampled] mask (the raw outputs' length is data-dependent)."""
    rows, ids, weights = tf.nn.compute_accidental_hits(t, s, 2)
    b, n = t.get_shape()[0].value, s.get_shape()[0].value
    if b is None or n is None:
        b, n = tf.cast(tf.shape(t)[0], tf.int64), tf.cast(tf.shape(s)[0], tf.int64)
    flat = tf.cast(rows, tf.int64) * n + ids
    segments = tf.unsorted_segment_sum(weights, tf.cast(flat, tf.int32), tf.cast(b * n, tf.int32))
    mask = tf.reshape(segments, tf.stack([tf.cast(b, tf.int32), tf.cast(n, tf.int32)]))
    return [mask, tf.size(rows)]


def _hits_mask_ref(true, sampled):
    rows, ids, weights = _hits_ref(true, sampled)
    mask = np.zeros((true.shape[0], sampled.shape[0]), np.float32)
    np.add.at(mask, (rows, ids), weights)
    return [mask, np.int32(rows.size)]


SPECS = [
    OpSpec("LogUniformCandidateSampler", _log_uniform_fn,
           lambda t: [7 * log_uniform_p(t, RANGE), np.ones(7), np.ones(7, bool)],
           [((3, 2),)], dtypes=[tf.int64], inputs=_classes, grad=(), tol=TOL),
    OpSpec("UniformCandidateSampler", _uniform_fn,
           lambda t: [np.full((3, 2), 5 / RANGE), np.full(5, 5 / RANGE), np.ones(5, bool)],
           [((3, 2),)], dtypes=[tf.int64], inputs=_classes, grad=(), tol=TOL),
    OpSpec("LearnedUnigramCandidateSampler",
           lambda t: tf.nn.learned_unigram_candidate_sampler(t, 1, 4, False, RANGE, seed=3)[1],
           lambda t: np.full((4, 1), 4 / RANGE), [((4, 1),)], dtypes=[tf.int64],
           inputs=_classes, grad=()),
    OpSpec("FixedUnigramCandidateSampler",
           lambda t: tf.nn.fixed_unigram_candidate_sampler(
               t, 1, 4, False, 4, unigrams=[1, 2, 3, 4], seed=4)[1],
           lambda t: 4 * (t + 1) / 10.0, [((5, 1),)], dtypes=[tf.int64], inputs=_small_classes,
           tol=TOL,
           grad=()),
    OpSpec("AllCandidateSampler", lambda t: list(tf.nn.all_candidate_sampler(t, 2, 3, True)),
           lambda t: [np.arange(3), np.ones((2, 2)), np.ones(3)], [((2, 2),)],
           dtypes=[tf.int64], inputs=_classes, grad=(), tol=TOL),
    OpSpec("ComputeAccidentalHits", _hits_mask, _hits_mask_ref,
           [((3, 2), (5,)), ((1, 2), (0,))], dtypes=[tf.int64], inputs=_small_classes, grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_log_uniform_frequencies_match_documented_probabilities():
    s, _, se = tf.nn.log_uniform_candidate_sampler([[0]], 1, 200000, False, 10, seed=7)
    samples, expected = _run([s, se])
    freq = np.bincount(samples, minlength=10) / samples.size
    np.testing.assert_allclose(freq, log_uniform_p(np.arange(10), 10), atol=4e-3)
    np.testing.assert_allclose(expected, 200000 * log_uniform_p(samples, 10), rtol=1e-5)


def test_unique_sampling_draws_distinct_classes_with_consistent_expected_counts():
    s, te, se = tf.nn.log_uniform_candidate_sampler([[0, 1]], 2, 30, True, 40, seed=5)
    samples, true_exp, samp_exp = _run([s, te, se])
    assert len(set(samples.tolist())) == 30 and samples.min() >= 0 and samples.max() < 40
    p = log_uniform_p(samples, 40)
    keep = samp_exp < 0.999  # float32 rounds expected counts near 1 to 1
    tries = np.log1p(-samp_exp[keep].astype(np.float64)) / np.log1p(-p[keep])  # 1-(1-p)^tries
    assert tries.min() >= 30 - 1e-3
    np.testing.assert_allclose(tries, tries[0], rtol=1e-3)
    np.testing.assert_allclose(true_exp, 1 - (1 - log_uniform_p([[0, 1]], 40)) ** tries[0],
                               rtol=1e-4)


def test_unique_sampling_of_the_whole_range_is_a_permutation():
    s = tf.nn.uniform_candidate_sampler([[1]], 1, 6, True, 6, seed=3)[0]
    assert sorted(_run(s).tolist()) == list(range(6))


def test_seeded_samplers_repeat_across_sessions_and_advance_within_one():
    tf.set_random_seed(11)
    s = tf.nn.log_uniform_candidate_sampler([[0]], 1, 10, True, 1000)[0]
    with tf.Session() as sess:
        first, second = sess.run(s), sess.run(s)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(_run(s), first)


def test_fixed_unigram_reserved_ids_distortion_and_vocab_file(tmp_path):
    s = tf.nn.fixed_unigram_candidate_sampler([[2]], 1, 50000, False, 4, num_reserved_ids=1,
                                              distortion=0.5, unigrams=[1, 4, 9], seed=1)[0]
    freq = np.bincount(_run(s), minlength=4) / 50000
    np.testing.assert_allclose(freq, [0, 1 / 6, 2 / 6, 3 / 6], atol=1e-2)
    vocab = tmp_path / "vocab.csv"
    vocab.write_text("a,1\nb,3\n")
    s = tf.nn.fixed_unigram_candidate_sampler([[0]], 1, 40000, False, 2,
                                              vocab_file=str(vocab), seed=2)[0]
    np.testing.assert_allclose(np.bincount(_run(s), minlength=2) / 40000, [0.25, 0.75],
                               atol=1.5e-2)


def test_learned_unigram_follows_the_true_classes_it_has_seen():
    t = tf.placeholder(tf.int64, [None, 1])
    s = tf.nn.learned_unigram_candidate_sampler(t, 1, 1000, False, 5, seed=1)[0]
    with tf.Session() as sess:
        for _ in range(5):
            sess.run(s, {t: np.full((200, 1), 3)})
        counts = np.bincount(sess.run(s, {t: [[0]]}), minlength=5)
    assert counts[3] > 900


def test_errors_name_what_was_required():
    s = tf.nn.uniform_candidate_sampler([[1]], 1, 8, True, 5)[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_sampled <= range_max"):
        _run(s)
    with pytest.raises(ValueError, match="num_true"):
        tf.nn.log_uniform_candidate_sampler([[1, 2]], 1, 3, True, 5)


def test_int32_true_classes_are_accepted():
    _, te, _ = tf.nn.uniform_candidate_sampler(np.array([[1], [2]], np.int32), 1, 2, False, 4)
    assert _run(te).shape == (2, 1)


def _reference_draw_unique(draw, rng, n):
    """The plain NumPy statement: first appearances of the stream, in order, and the draws."""
    stream = np.empty(0, np.int64)
    while True:
        stream = np.concatenate([stream, draw(rng, max(2 * n, 16))])
        _, first = np.unique(stream, return_index=True)
        if first.size >= n:
            first = np.sort(first)[:n]
            return stream[first], int(first[-1]) + 1


@pytest.mark.parametrize("n,range_max", [(64, 50000), (5, 6), (6, 6), (1, 1), (40, 100)])
def test_fast_unique_draw_and_log_uniform_draw_match_the_numpy_reference(n, range_max):
    from tensorflux.ops import candidate_sampling_ops as cs

    def reference_draw(rng, size):
        u = rng.random(size)
        ids = np.floor(np.exp(u * np.log(range_max + 1))).astype(np.int64) - 1
        return np.clip(ids, 0, range_max - 1)

    def fast_draw(rng, size):
        return cs._log_uniform_draw(rng, size, range_max)
    for seed in range(5):
        want_ids, want_tries = _reference_draw_unique(reference_draw, np.random.default_rng(seed),
                                                      n)
        got_ids, got_tries = cs._draw_unique(fast_draw, np.random.default_rng(seed), n)
        np.testing.assert_array_equal(got_ids, want_ids)
        assert got_ids.dtype == np.int64 and got_tries == want_tries


@pytest.mark.parametrize("unique", [False, True])
def test_log_uniform_table_gives_the_formulas_values(unique, monkeypatch):
    # Small ranges look probabilities up in a per-session table; with the table off the kernel
    # computes them from the formula. Same seed: the same outputs.
    from tensorflux.ops import candidate_sampling_ops as cs
    true = np.array([[0, 3], [49999, 7], [12, 12]], np.int64)
    outputs = tf.nn.log_uniform_candidate_sampler(true, 2, 64, unique, 50000, seed=9)
    with_table = _run(list(outputs))
    monkeypatch.setattr(cs, "_TABLE_MAX", 0)
    without = _run(list(outputs))
    for got, want in zip(with_table, without):
        np.testing.assert_allclose(got, want, rtol=1e-7)
    if not unique:
        np.testing.assert_allclose(with_table[1], 64 * log_uniform_p(true, 50000), rtol=1e-6)
