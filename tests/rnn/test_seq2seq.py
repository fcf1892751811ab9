"""Sequence losses, seq2seq models, attention and buckets."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.rnn import rnn_cell, seq2seq

B = 4


def _log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _loss_data(seed=0, steps=3, classes=5):
    rng = np.random.default_rng(seed)
    logits = [rng.standard_normal((B, classes)) for _ in range(steps)]
    targets = [rng.integers(0, classes, B) for _ in range(steps)]
    weights = [rng.uniform(0.0, 1.0, B) for _ in range(steps)]
    return logits, targets, weights


def _numpy_by_example(logits, targets, weights, average=True):
    total = sum(-_log_softmax(lg)[np.arange(B), tg] * w
                for lg, tg, w in zip(logits, targets, weights))
    return total / (sum(weights) + 1e-12) if average else total


def test_sequence_loss_by_example_and_sequence_loss_match_numpy():
    logits, targets, weights = _loss_data()
    lg = [tf.constant(x) for x in logits]
    tg = [tf.constant(t, dtype=tf.int32) for t in targets]
    wt = [tf.constant(w) for w in weights]
    by_example = seq2seq.sequence_loss_by_example(lg, tg, wt)
    summed = seq2seq.sequence_loss_by_example(lg, tg, wt, average_across_timesteps=False)
    mean = seq2seq.sequence_loss(lg, tg, wt)
    total = seq2seq.sequence_loss(lg, tg, wt, average_across_batch=False)
    with tf.Session() as sess:
        got = sess.run([by_example, summed, mean, total])
    ref = _numpy_by_example(logits, targets, weights)
    np.testing.assert_allclose(got[0], ref, rtol=1e-10)
    np.testing.assert_allclose(got[1], _numpy_by_example(logits, targets, weights, False),
                               rtol=1e-10)
    np.testing.assert_allclose(got[2], ref.sum() / B, rtol=1e-10)
    np.testing.assert_allclose(got[3], ref.sum(), rtol=1e-10)


def test_sequence_loss_custom_loss_function_both_generations():
    logits, targets, weights = _loss_data(1)
    lg = [tf.constant(x) for x in logits]
    tg = [tf.constant(t, dtype=tf.int32) for t in targets]
    wt = [tf.constant(w) for w in weights]
    seen = []

    def old_style(logit, target):  # TF 0.9 / 1.0: (logits, labels)
        seen.append((logit.dtype, target.dtype))
        return tf.nn.sparse_softmax_cross_entropy_with_logits(logit, target) * 2.0

    def new_style(labels, logits):  # TF 1.1+: keywords labels=, logits=
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits) * 2.0

    a = seq2seq.sequence_loss_by_example(lg, tg, wt, softmax_loss_function=old_style)
    b = seq2seq.sequence_loss_by_example(lg, tg, wt, softmax_loss_function=new_style)
    assert seen[0] == (tf.float64, tf.int32)
    with tf.Session() as sess:
        got_a, got_b = sess.run([a, b])
    ref = 2.0 * _numpy_by_example(logits, targets, weights)
    np.testing.assert_allclose(got_a, ref, rtol=1e-10)
    np.testing.assert_allclose(got_b, ref, rtol=1e-10)
    with pytest.raises(ValueError, match="Lengths of logits, weights, and targets"):
        seq2seq.sequence_loss(lg, tg[:2], wt)


def test_basic_rnn_seq2seq_and_rnn_decoder_loop_function():
    enc = [tf.constant(np.ones((B, 2))) for _ in range(3)]
    dec = [tf.constant(np.ones((B, 3))) for _ in range(2)]
    cell = rnn_cell.GRUCell(3)
    outputs, _state = seq2seq.basic_rnn_seq2seq(enc, dec, cell, dtype=tf.float64)
    assert len(outputs) == 2 and outputs[0].get_shape().as_list() == [B, 3]
    names = sorted(v.op.name for v in tf.global_variables())
    assert "basic_rnn_seq2seq/rnn/gru_cell/gates/weights" in names
    assert "basic_rnn_seq2seq/rnn_decoder/gru_cell/gates/weights" in names
    assert len(names) == 8

    tf.reset_default_graph()
    calls = []

    def loop(prev, i):
        calls.append(i)
        return prev * 0.0 + 1.0

    inputs = [tf.zeros([B, 3]), tf.fill([B, 3], 100.0), tf.fill([B, 3], 100.0)]
    with_loop, _ = seq2seq.rnn_decoder(inputs, tf.zeros([B, 3]), rnn_cell.BasicRNNCell(3),
                                       loop_function=loop)
    assert calls == [1, 2]
    ones = [tf.zeros([B, 3]), tf.ones([B, 3]), tf.ones([B, 3])]
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        without, _ = seq2seq.rnn_decoder(ones, tf.zeros([B, 3]), rnn_cell.BasicRNNCell(3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([with_loop, without])
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_tied_rnn_seq2seq_shares_encoder_and_decoder_variables():
    enc = [tf.zeros([B, 3]) for _ in range(2)]
    dec = [tf.zeros([B, 3]) for _ in range(2)]
    outputs, _ = seq2seq.tied_rnn_seq2seq(enc, dec, rnn_cell.BasicRNNCell(3))
    assert len(outputs) == 2
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "combined_tied_rnn_seq2seq/tied_rnn_seq2seq/basic_rnn_cell/biases",
        "combined_tied_rnn_seq2seq/tied_rnn_seq2seq/basic_rnn_cell/weights"]


def test_attention_decoder_heads_and_variables():
    attn = tf.constant(np.random.default_rng(0).standard_normal((B, 5, 6)))
    dec = [tf.constant(np.ones((B, 2))) for _ in range(3)]
    cell = rnn_cell.GRUCell(6)
    outputs, state = seq2seq.attention_decoder(dec, cell.zero_state(B, tf.float64), attn, cell,
                                               output_size=7, num_heads=2,
                                               initial_state_attention=True, dtype=tf.float64)
    assert [o.get_shape().as_list() for o in outputs] == [[B, 7]] * 3
    shapes = {v.op.name: v.get_shape().as_list() for v in tf.global_variables()}
    assert shapes["attention_decoder/AttnW_0"] == [1, 1, 6, 6]
    assert shapes["attention_decoder/AttnV_1"] == [6]
    assert shapes["attention_decoder/Attention_0/weights"] == [6, 6]
    assert shapes["attention_decoder/weights"] == [2 + 2 * 6, 2]
    assert shapes["attention_decoder/AttnOutputProjection/weights"] == [6 + 2 * 6, 7]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(outputs)
    assert all(np.all(np.isfinite(g)) for g in got)
    with pytest.raises(ValueError, match="at least 1 input"):
        seq2seq.attention_decoder([], state, attn, cell)


def test_attention_reads_are_softmax_weighted_states():
    # With identical attention states along time, every read equals that state.
    row = np.random.default_rng(1).standard_normal((B, 1, 4))
    attn = tf.constant(np.repeat(row, 3, axis=1))
    cell = rnn_cell.BasicRNNCell(4)
    with tf.variable_scope("check"):
        from tensorflux.rnn.seq2seq import _Attention
        attention = _Attention(attn, 1, tf.float64)
        reads = attention(tf.constant(np.random.default_rng(2).standard_normal((B, 4))))
    del cell
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(reads[0])
    np.testing.assert_allclose(got, row[:, 0], rtol=1e-10)


def test_attention_decoder_gradient():
    attn = tf.placeholder(tf.float64, [2, 3, 4])
    dec = [tf.constant(np.ones((2, 2))), tf.constant(np.full((2, 2), 0.5))]
    cell = rnn_cell.GRUCell(4)
    outputs, _ = seq2seq.attention_decoder(dec, cell.zero_state(2, tf.float64), attn, cell,
                                           dtype=tf.float64)
    loss = tf.add_n([tf.reduce_sum(o * o) for o in outputs])
    value = np.random.default_rng(3).standard_normal((2, 3, 4))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        err = tf.test.compute_gradient_error(attn, [2, 3, 4], loss, [], x_init_value=value)
    assert err < 1e-4


def _ids(steps, name):
    return [tf.placeholder(tf.int32, [None], name=f"{name}{i}") for i in range(steps)]


def test_embedding_rnn_seq2seq_feed_previous_tensor_equals_bools():
    enc, dec = _ids(3, "enc"), _ids(3, "dec")
    cell = rnn_cell.GRUCell(5)
    flag = tf.placeholder(tf.bool, [])
    with tf.variable_scope("m"):
        fed, _ = seq2seq.embedding_rnn_seq2seq(enc, dec, cell, 6, 7, 4, feed_previous=flag)
    with tf.variable_scope("m", reuse=True):
        greedy, _ = seq2seq.embedding_rnn_seq2seq(enc, dec, cell, 6, 7, 4, feed_previous=True)
        teacher, _ = seq2seq.embedding_rnn_seq2seq(enc, dec, cell, 6, 7, 4)
    names = {v.op.name for v in tf.global_variables()}
    assert "m/embedding_rnn_seq2seq/rnn/embedding_wrapper/embedding" in names
    assert "m/embedding_rnn_seq2seq/embedding_rnn_decoder/embedding" in names
    assert ("m/embedding_rnn_seq2seq/embedding_rnn_decoder/rnn_decoder/"
            "output_projection_wrapper/weights") in names
    rng = np.random.default_rng(0)
    feed = {p: rng.integers(0, 6, B) for p in enc + dec}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([fed, greedy], {**feed, flag: True})
        c, d = sess.run([fed, teacher], {**feed, flag: False})
    assert a[0].shape == (B, 7)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(c, d, rtol=1e-6)
    assert not np.allclose(b[2], d[2])


def test_model_with_buckets_one_output_per_bucket_shared_variables():
    buckets = [(2, 2), (4, 3)]
    enc, dec = _ids(4, "enc"), _ids(4, "dec")
    targets = dec[1:] + [tf.placeholder(tf.int32, [None], name="last")]
    weights = [tf.placeholder(tf.float32, [None], name=f"w{i}") for i in range(4)]
    cell = rnn_cell.GRUCell(4)

    def model(e, d):
        return seq2seq.embedding_attention_seq2seq(e, d, cell, 5, 6, 3)
    outputs, losses = seq2seq.model_with_buckets(enc, dec, targets, weights, buckets, model)
    assert [len(o) for o in outputs] == [2, 3] and len(losses) == 2
    assert losses[0].get_shape().ndims == 0
    single = len(tf.global_variables())
    tf.reset_default_graph()
    seq2seq.embedding_attention_seq2seq(_ids(4, "e"), _ids(3, "d"), rnn_cell.GRUCell(4), 5, 6, 3)
    assert single == len(tf.global_variables())
    with pytest.raises(ValueError, match="encoder inputs"):
        seq2seq.model_with_buckets(enc[:3], dec, targets, weights, buckets, model)
    tf.reset_default_graph()
    enc, dec = _ids(4, "enc"), _ids(4, "dec")
    weights = [tf.ones([B]) for _ in range(4)]
    _, per_example = seq2seq.model_with_buckets(enc, dec, dec, weights, buckets, model,
                                                per_example_loss=True)
    assert per_example[1].get_shape().ndims == 1


def test_embedding_attention_seq2seq_learns_to_copy():
    vocab, steps, batch = 6, 3, 32
    enc, dec = _ids(steps, "enc"), _ids(steps + 1, "dec")
    targets = dec[1:]
    weights = [tf.ones([batch]) for _ in range(steps)]
    tf.set_random_seed(1)
    outputs, _ = seq2seq.embedding_attention_seq2seq(
        enc, dec[:steps], rnn_cell.GRUCell(16), vocab, vocab, 8)
    loss = seq2seq.sequence_loss(outputs, targets, weights)
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    rng = np.random.default_rng(0)

    def batch_feed():
        seqs = rng.integers(1, vocab, (batch, steps))
        feed = {enc[t]: seqs[:, t] for t in range(steps)}
        feed[dec[0]] = np.zeros(batch, np.int64)
        feed.update({dec[t + 1]: seqs[:, t] for t in range(steps)})
        return feed
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = np.mean([sess.run(loss, batch_feed()) for _ in range(3)])
        for _ in range(150):
            sess.run(train, batch_feed())
        last = np.mean([sess.run(loss, batch_feed()) for _ in range(3)])
    assert first > 1.4 and last < 0.3 * first, (first, last)
