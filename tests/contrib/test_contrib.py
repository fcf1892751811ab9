"""tf.contrib.rnn, tf.contrib.legacy_seq2seq and tf.contrib.layers; tf.nn's 0.9 RNN names."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux import contrib
from tensorflux.rnn import rnn_cell


def test_rnn_namespaces_and_generation_defaults():
    assert contrib.rnn.static_rnn is tf.nn.rnn
    assert contrib.rnn.static_bidirectional_rnn is tf.nn.bidirectional_rnn
    assert contrib.legacy_seq2seq.sequence_loss is tf.nn.seq2seq.sequence_loss
    assert contrib.legacy_seq2seq.embedding_attention_seq2seq is \
        tf.nn.seq2seq.embedding_attention_seq2seq
    # TF 1.0 (contrib) keeps LSTM states as tuples; TF 0.9 (tf.nn.rnn_cell) concatenates them.
    assert contrib.rnn.BasicLSTMCell(3).state_size == (3, 3)
    assert contrib.rnn.MultiRNNCell([contrib.rnn.GRUCell(2)] * 2).state_size == (2, 2)
    assert tf.nn.rnn_cell.BasicLSTMCell(3).state_size == 6
    assert tf.nn.rnn_cell.LSTMCell(3, num_proj=2).state_size == 5
    assert tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(3)] * 2).state_size == 12
    assert tf.nn.rnn_cell.BasicLSTMCell(3, state_is_tuple=True).state_size == (3, 3)
    assert isinstance(tf.nn.rnn_cell.BasicLSTMCell(3), rnn_cell.BasicLSTMCell)
    assert contrib.rnn.LSTMStateTuple is tf.nn.rnn_cell.LSTMStateTuple


def test_0_9_ptb_style_concatenated_state_feeds_back_as_an_array():
    # TF 0.9's PTB tutorial: state = initial_state.eval(), then fed back in a feed_dict.
    batch, size, steps = 2, 4, 3
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0)] * 2)
    initial_state = cell.zero_state(batch, tf.float32)
    inputs = tf.placeholder(tf.float32, [batch, steps, size])
    state, outputs = initial_state, []
    with tf.variable_scope("RNN"):
        for t in range(steps):
            if t > 0:
                tf.get_variable_scope().reuse_variables()
            output, state = cell(inputs[:, t, :], state)
            outputs.append(output)
    x = np.random.default_rng(0).standard_normal((batch, steps, size)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start = sess.run(initial_state)
        assert start.shape == (batch, 4 * size)
        mid = sess.run(state, {inputs: x, initial_state: start})
        again = sess.run(state, {inputs: x, initial_state: mid})
    assert mid.shape == (batch, 4 * size) and not np.allclose(mid, again)


def test_l1_l2_sum_regularizers_match_numpy():
    w_val = np.array([[1.0, -2.0], [3.0, -0.5]])
    w = tf.constant(w_val)
    l1 = contrib.layers.l1_regularizer(0.1)(w)
    l2 = contrib.layers.l2_regularizer(0.2)(w)
    both = contrib.layers.sum_regularizer([contrib.layers.l1_regularizer(0.1),
                                           contrib.layers.l2_regularizer(0.2)])(w)
    with tf.Session() as sess:
        got = sess.run([l1, l2, both])
    np.testing.assert_allclose(got[0], 0.1 * np.abs(w_val).sum())
    np.testing.assert_allclose(got[1], 0.2 * (w_val ** 2).sum() / 2)
    np.testing.assert_allclose(got[2], got[0] + got[1])
    assert contrib.layers.l2_regularizer(0.0)(w) is None
    with pytest.raises(ValueError, match="integer"):
        contrib.layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        contrib.layers.l1_regularizer(-0.5)


def test_regularizer_through_get_variable_and_apply_regularization():
    with tf.variable_scope("layer", regularizer=contrib.layers.l2_regularizer(0.5)):
        v = tf.get_variable("w", [3], initializer=tf.constant_initializer(2.0))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1
    total = contrib.layers.apply_regularization(contrib.layers.l1_regularizer(1.0), [v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(losses[0]), 0.5 * 12 / 2)
        np.testing.assert_allclose(sess.run(total), 6.0)
    with pytest.raises(ValueError, match="No weights"):
        contrib.layers.apply_regularization(contrib.layers.l1_regularizer(1.0), [])


def test_xavier_initializer_bounds():
    init = contrib.layers.xavier_initializer(seed=1)
    v = tf.get_variable("x", [20, 30], initializer=init)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(v)
    limit = np.sqrt(6.0 / 50)
    assert np.abs(got).max() <= limit and np.abs(got).max() > 0.8 * limit
    he = contrib.layers.variance_scaling_initializer()
    assert he.mode == "fan_in" and he.distribution == "normal"
    with pytest.raises(TypeError, match="Unknown mode"):
        contrib.layers.variance_scaling_initializer(mode="BAD")


def test_fully_connected_and_embed_sequence():
    x_val = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    x = tf.constant(x_val)
    y = contrib.layers.fully_connected(x, 5, activation_fn=None,
                                       weights_regularizer=contrib.layers.l2_regularizer(0.1))
    z = contrib.layers.fully_connected(tf.reshape(x, [6, 4]), 2)
    assert y.get_shape().as_list() == [2, 3, 5] and z.get_shape().as_list() == [6, 2]
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ["fully_connected/biases", "fully_connected/weights",
                     "fully_connected_1/biases", "fully_connected_1/weights"]
    assert len(tf.get_collection(tf.GraphKeys.WEIGHTS)) == 2
    assert len(tf.get_collection(tf.GraphKeys.MODEL_VARIABLES)) == 4
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    ids = tf.constant([[0, 2], [1, 1]])
    emb = contrib.layers.embed_sequence(ids, vocab_size=3, embed_dim=4)
    assert emb.get_shape().as_list() == [2, 2, 4]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_y, got_z = sess.run([y, z])
        w, b = sess.run(["fully_connected/weights:0", "fully_connected/biases:0"])
        table, got_emb = sess.run(["EmbedSequence/embeddings:0", emb])
    np.testing.assert_allclose(got_y, x_val @ w + b, rtol=1e-5)
    assert got_z.min() >= 0.0                                       # relu by default
    np.testing.assert_allclose(got_emb, table[[[0, 2], [1, 1]]])
    with pytest.raises(ValueError, match="vocab size"):
        contrib.layers.embed_sequence(ids)
