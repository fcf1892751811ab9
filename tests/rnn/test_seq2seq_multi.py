"""embedding_tied_rnn_seq2seq and one2many_rnn_seq2seq (tf.nn.seq2seq in TF 0.9,
tf.contrib.legacy_seq2seq in TF 1.0)."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(120)
B, T = 3, 4


def _ids(steps, symbols, seed):
    rng = np.random.default_rng(seed)
    return [tf.constant(rng.integers(0, symbols, B), dtype=tf.int32) for _ in range(steps)]


def _run_outputs(outputs):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(outputs)


def test_tied_model_shares_one_embedding_and_cell():
    enc, dec = _ids(T, 7, 0), _ids(T, 7, 1)
    cell = tf.nn.rnn_cell.GRUCell(5)
    outputs, state = tf.nn.seq2seq.embedding_tied_rnn_seq2seq(enc, dec, cell, 7, 6,
                                                              num_decoder_symbols=9)
    assert len(outputs) == T and outputs[0].get_shape().as_list() == [B, 9]
    assert state.get_shape().as_list() == [B, 5]
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert [n for n in names if n.endswith("embedding")] == ["embedding_tied_rnn_seq2seq/"
                                                              "embedding"]
    assert all(n.startswith("embedding_tied_rnn_seq2seq/") for n in names)
    # One GRU (2 gate/candidate matrices and biases) plus one output projection.
    assert len(names) == 1 + 4 + 2
    got = _run_outputs(outputs)
    assert all(np.all(np.isfinite(o)) for o in got)


def test_tied_feed_previous_changes_later_steps_and_accepts_a_tensor():
    enc, dec = _ids(T, 7, 2), _ids(T, 7, 3)
    flag = tf.placeholder(tf.bool, [])
    with tf.variable_scope("m"):
        outputs, _ = tf.contrib.legacy_seq2seq.embedding_tied_rnn_seq2seq(
            enc, dec, tf.nn.rnn_cell.BasicLSTMCell(4), 7, 5, feed_previous=flag)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        given = sess.run(outputs, {flag: False})
        fed = sess.run(outputs, {flag: True})
    np.testing.assert_allclose(given[0], fed[0], rtol=1e-6)  # step 0 reads dec[0] both ways
    assert not np.allclose(given[-1], fed[-1])


def test_tied_model_trains():
    rng = np.random.default_rng(4)
    enc = [tf.constant(rng.integers(0, 5, B), dtype=tf.int32) for _ in range(T)]
    targets = [tf.constant(rng.integers(0, 5, B), dtype=tf.int32) for _ in range(T)]
    outputs, _ = tf.nn.seq2seq.embedding_tied_rnn_seq2seq(enc, enc, tf.nn.rnn_cell.GRUCell(8),
                                                          5, 4)
    weights = [tf.ones([B]) for _ in range(T)]
    loss = tf.nn.seq2seq.sequence_loss(outputs, targets, weights)
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(30):
            sess.run(train)
        assert sess.run(loss) < 0.7 * first


def test_one2many_with_tf_1_0_arguments():
    enc = _ids(T, 6, 5)
    dec = {"a": _ids(2, 4, 6), "b": _ids(3, 8, 7)}
    cells = {"a": tf.nn.rnn_cell.GRUCell(5), "b": tf.nn.rnn_cell.GRUCell(5)}
    outputs, states = tf.contrib.legacy_seq2seq.one2many_rnn_seq2seq(
        enc, dec, tf.nn.rnn_cell.GRUCell(5), cells, 6, {"a": 4, "b": 8}, 3)
    assert sorted(outputs) == ["a", "b"] and len(outputs["b"]) == 3
    assert outputs["a"][0].get_shape().as_list() == [B, 4]
    assert outputs["b"][0].get_shape().as_list() == [B, 8]
    assert states["a"].get_shape().as_list() == [B, 5]
    names = [v.op.name for v in tf.trainable_variables()]
    assert any(n.startswith("one2many_rnn_seq2seq/one2many_decoder_a/") for n in names)
    assert any(n.startswith("one2many_rnn_seq2seq/one2many_decoder_b/") for n in names)
    got = _run_outputs(outputs)
    assert got["a"][1].shape == (B, 4)


def test_one2many_with_tf_0_9_arguments_and_feed_previous():
    enc = _ids(T, 6, 8)
    dec = {"x": _ids(3, 4, 9)}
    outputs, _ = tf.nn.seq2seq.one2many_rnn_seq2seq(
        enc, dec, tf.nn.rnn_cell.GRUCell(5), 6, {"x": 4}, 3, feed_previous=True)
    assert len(outputs["x"]) == 3 and outputs["x"][2].get_shape().as_list() == [B, 4]
    assert _run_outputs(outputs)["x"][2].shape == (B, 4)
    with pytest.raises(ValueError, match="needs an entry for each key"):
        tf.nn.seq2seq.one2many_rnn_seq2seq(enc, {"y": dec["x"]}, tf.nn.rnn_cell.GRUCell(5),
                                           6, {"x": 4}, 3, scope="other")
