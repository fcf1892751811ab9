"""RNN cells against NumPy implementations of their documented equations."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.rnn import nest, rnn_cell

B, N_IN, H = 3, 4, 5


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _inputs(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


def _values(sess, names):
    by_name = {v.op.name: v for v in tf.global_variables()}
    return {n: sess.run(by_name[n]) for n in names}


def _tuple_state(rng):
    c_val, h_val = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    c, h = tf.placeholder(tf.float64, [B, H]), tf.placeholder(tf.float64, [B, H])
    return rnn_cell.LSTMStateTuple(c, h), {c: c_val, h: h_val}


def _lstm_ref(x, c, h, w, b, forget_bias=1.0):
    gates = np.concatenate([x, h], 1) @ w + b
    i, j, f, o = np.split(gates, 4, axis=1)
    new_c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    return new_c, np.tanh(new_c) * _sigmoid(o)


def test_basic_rnn_cell_equation():
    rng = np.random.default_rng(1)
    x_val, h_val = rng.standard_normal((B, N_IN)), rng.standard_normal((B, H))
    cell = rnn_cell.BasicRNNCell(H)
    out, _ = cell(tf.constant(x_val), tf.constant(h_val))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(out)
        v = _values(sess, ["basic_rnn_cell/weights", "basic_rnn_cell/biases"])
    ref = np.tanh(np.concatenate([x_val, h_val], 1) @ v["basic_rnn_cell/weights"]
                  + v["basic_rnn_cell/biases"])
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_basic_lstm_cell_fed_tuple_state():
    rng = np.random.default_rng(8)
    cell = rnn_cell.BasicLSTMCell(H)
    assert cell.state_size == (H, H) and cell.output_size == H
    x_val = rng.standard_normal((B, N_IN))
    state, feed = _tuple_state(rng)
    out, new_state = cell(tf.constant(x_val), state)
    assert isinstance(new_state, rnn_cell.LSTMStateTuple)
    names = ["basic_lstm_cell/weights", "basic_lstm_cell/biases"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([out, new_state], feed)
        v = _values(sess, names)
    assert v[names[0]].shape == (N_IN + H, 4 * H)
    new_c, new_h = _lstm_ref(x_val, feed[state.c], feed[state.h], v[names[0]], v[names[1]])
    np.testing.assert_allclose(got_state.c, new_c, rtol=1e-10)
    np.testing.assert_allclose(got_out, new_h, rtol=1e-10)


def test_basic_lstm_cell_equations_with_forget_bias():
    rng = np.random.default_rng(2)
    x_val, c_val, h_val = _inputs(rng, (B, N_IN), (B, H), (B, H))
    for forget_bias, state_is_tuple in ((1.0, True), (0.0, False)):
        tf.reset_default_graph()
        cell = rnn_cell.BasicLSTMCell(H, forget_bias=forget_bias, state_is_tuple=state_is_tuple)
        state = (rnn_cell.LSTMStateTuple(tf.constant(c_val), tf.constant(h_val))
                 if state_is_tuple else tf.constant(np.concatenate([c_val, h_val], 1)))
        out, new_state = cell(tf.constant(x_val), state)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got_out, got_state = sess.run([out, new_state])
            v = _values(sess, ["basic_lstm_cell/weights", "basic_lstm_cell/biases"])
        new_c, new_h = _lstm_ref(x_val, c_val, h_val, v["basic_lstm_cell/weights"],
                                 v["basic_lstm_cell/biases"], forget_bias)
        np.testing.assert_allclose(got_out, new_h, rtol=1e-10)
        if state_is_tuple:
            np.testing.assert_allclose(got_state[0], new_c, rtol=1e-10)
            np.testing.assert_allclose(got_state[1], new_h, rtol=1e-10)
        else:
            assert got_state.shape == (B, 2 * H)
            np.testing.assert_allclose(got_state, np.concatenate([new_c, new_h], 1), rtol=1e-10)


def test_gru_cell_matches_tf_formulation():
    rng = np.random.default_rng(3)
    x_val, h_val = _inputs(rng, (B, N_IN), (B, H))
    cell = rnn_cell.GRUCell(H)
    out, _state = cell(tf.constant(x_val), tf.constant(h_val))
    names = ["gru_cell/gates/weights", "gru_cell/gates/biases", "gru_cell/candidate/weights",
             "gru_cell/candidate/biases"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(out)
        v = _values(sess, names)
    np.testing.assert_array_equal(v["gru_cell/gates/biases"], np.ones(2 * H))  # bias_start 1
    gates = _sigmoid(np.concatenate([x_val, h_val], 1) @ v[names[0]] + v[names[1]])
    r, u = np.split(gates, 2, axis=1)
    c = np.tanh(np.concatenate([x_val, r * h_val], 1) @ v[names[2]] + v[names[3]])
    np.testing.assert_allclose(got, u * h_val + (1 - u) * c, rtol=1e-10)


def test_lstm_cell_peepholes_clip_and_projection():
    rng = np.random.default_rng(4)
    P, clip = 2, 0.5
    x_val, c_val, m_val = _inputs(rng, (B, N_IN), (B, H), (B, P))
    cell = rnn_cell.LSTMCell(H, use_peepholes=True, cell_clip=clip, num_proj=P,
                             initializer=tf.random_uniform_initializer(-1.0, 1.0, seed=5))
    assert cell.state_size == (H, P) and cell.output_size == P
    out, state = cell(tf.constant(x_val), rnn_cell.LSTMStateTuple(tf.constant(c_val),
                                                                  tf.constant(m_val)))
    names = ["lstm_cell/weights", "lstm_cell/biases", "lstm_cell/w_f_diag", "lstm_cell/w_i_diag",
             "lstm_cell/w_o_diag", "lstm_cell/projection/weights"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([out, state])
        v = _values(sess, names)
    gates = np.concatenate([x_val, m_val], 1) @ v[names[0]] + v[names[1]]
    i, j, f, o = np.split(gates, 4, axis=1)
    c = (_sigmoid(f + 1.0 + v[names[2]] * c_val) * c_val
         + _sigmoid(i + v[names[3]] * c_val) * np.tanh(j))
    c = np.clip(c, -clip, clip)
    m = (_sigmoid(o + v[names[4]] * c) * np.tanh(c)) @ v[names[5]]
    np.testing.assert_allclose(got_state[0], c, rtol=1e-10)
    np.testing.assert_allclose(got_out, m, rtol=1e-10)
    assert np.max(np.abs(got_state[0])) <= clip + 1e-12


def test_lstm_cell_concatenated_state_without_peepholes():
    rng = np.random.default_rng(6)
    x_val, c_val, h_val = _inputs(rng, (B, N_IN), (B, H), (B, H))
    cell = rnn_cell.LSTMCell(H, state_is_tuple=False)
    assert cell.state_size == 2 * H
    out, state = cell(tf.constant(x_val), tf.constant(np.concatenate([c_val, h_val], 1)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([out, state])
        v = _values(sess, ["lstm_cell/weights", "lstm_cell/biases"])
    new_c, new_h = _lstm_ref(x_val, c_val, h_val, v["lstm_cell/weights"], v["lstm_cell/biases"])
    np.testing.assert_allclose(got_out, new_h, rtol=1e-10)
    np.testing.assert_allclose(got_state, np.concatenate([new_c, new_h], 1), rtol=1e-10)


def test_multi_rnn_cell_stacks_layers_with_separate_variables():
    rng = np.random.default_rng(7)
    x_val = rng.standard_normal((B, N_IN))
    layer = rnn_cell.BasicRNNCell(H)
    cell = rnn_cell.MultiRNNCell([layer] * 2)
    assert cell.state_size == (H, H)
    zero = cell.zero_state(B, tf.float64)
    out, state = cell(tf.constant(x_val), zero)
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ["multi_rnn_cell/cell_0/basic_rnn_cell/biases",
                     "multi_rnn_cell/cell_0/basic_rnn_cell/weights",
                     "multi_rnn_cell/cell_1/basic_rnn_cell/biases",
                     "multi_rnn_cell/cell_1/basic_rnn_cell/weights"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([out, state])
        v = _values(sess, names)
    h0 = np.tanh(np.concatenate([x_val, np.zeros((B, H))], 1)
                 @ v[names[1]] + v[names[0]])
    h1 = np.tanh(np.concatenate([h0, np.zeros((B, H))], 1) @ v[names[3]] + v[names[2]])
    np.testing.assert_allclose(got_state[0], h0, rtol=1e-10)
    np.testing.assert_allclose(got_out, h1, rtol=1e-10)


def test_multi_rnn_cell_concatenated_state():
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(H, state_is_tuple=False),
                                  rnn_cell.GRUCell(3)], state_is_tuple=False)
    assert cell.state_size == 2 * H + 3
    out, state = cell(tf.zeros([B, N_IN]), cell.zero_state(B, tf.float32))
    assert out.get_shape().as_list() == [B, 3]
    assert state.get_shape().as_list() == [B, 2 * H + 3]
    with pytest.raises(ValueError, match="state_is_tuple"):
        rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(H)], state_is_tuple=False)
    with pytest.raises(ValueError, match="at least one cell"):
        rnn_cell.MultiRNNCell([])


def test_zero_state_static_and_dynamic_batch():
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(H), rnn_cell.GRUCell(2)])
    zero = cell.zero_state(4, tf.float32)
    assert isinstance(zero[0], rnn_cell.LSTMStateTuple)
    assert zero[0].c.get_shape().as_list() == [4, H]
    assert zero[1].get_shape().as_list() == [4, 2]
    x = tf.placeholder(tf.float32, [None, 3])
    dyn = cell.zero_state(tf.shape(x)[0], tf.float32)
    assert dyn[0].h.get_shape().as_list() == [None, H]
    with tf.Session() as sess:
        got = sess.run(dyn, {x: np.zeros((6, 3), np.float32)})
    assert got[0][0].shape == (6, H) and got[1].shape == (6, 2) and not np.any(got[1])


def test_wrappers_embedding_input_output_projection():
    ids_val = np.array([0, 3, 1])
    cell = rnn_cell.OutputProjectionWrapper(
        rnn_cell.EmbeddingWrapper(rnn_cell.GRUCell(H), embedding_classes=6, embedding_size=4),
        output_size=7)
    assert cell.output_size == 7 and cell.state_size == H
    ids = tf.constant(ids_val, dtype=tf.int32)
    out, state = cell(ids, cell.zero_state(3, tf.float64))
    names = sorted(v.op.name for v in tf.global_variables())
    assert "embedding_wrapper/embedding" in names
    assert "output_projection_wrapper/weights" in names
    assert "embedding_wrapper/gru_cell/gates/weights" in names
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([out, state])
        v = _values(sess, ["output_projection_wrapper/weights",
                           "output_projection_wrapper/biases"])
    assert got_out.shape == (3, 7)
    np.testing.assert_allclose(got_out, got_state @ v["output_projection_wrapper/weights"]
                               + v["output_projection_wrapper/biases"], rtol=1e-10)

    tf.reset_default_graph()
    cell = rnn_cell.InputProjectionWrapper(rnn_cell.BasicRNNCell(H), num_proj=2)
    out, _ = cell(tf.zeros([B, N_IN]), tf.zeros([B, H]))
    names = sorted(v.op.name for v in tf.global_variables())
    assert names[:2] == ["input_projection_wrapper/basic_rnn_cell/biases",
                         "input_projection_wrapper/basic_rnn_cell/weights"]
    shapes = {v.op.name: v.get_shape().as_list() for v in tf.global_variables()}
    assert shapes["input_projection_wrapper/weights"] == [N_IN, 2]
    assert shapes["input_projection_wrapper/basic_rnn_cell/weights"] == [2 + H, H]


def test_dropout_wrapper_keeps_or_drops():
    x = tf.ones([50, 40])
    cell = rnn_cell.DropoutWrapper(rnn_cell.BasicRNNCell(40, activation=tf.identity),
                                   output_keep_prob=0.5, seed=1)
    keep = tf.placeholder(tf.float32, [])
    same = rnn_cell.DropoutWrapper(rnn_cell.BasicRNNCell(40, activation=tf.identity),
                                   input_keep_prob=keep)
    out, _ = cell(x, tf.zeros([50, 40]), scope="a")
    out_same, _ = same(x, tf.zeros([50, 40]), scope="b")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(out)
        zero_frac = np.mean(got == 0)
        assert 0.35 < zero_frac < 0.65
        full = sess.run(out_same, {keep: 1.0})
        dropped = sess.run(out_same, {keep: 0.5})
        assert not np.allclose(full, dropped)
    with pytest.raises(ValueError, match="between 0 and 1"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(2), input_keep_prob=1.5)
    with pytest.raises(TypeError, match="RNNCell"):
        rnn_cell.DropoutWrapper("not a cell")


def test_cell_errors_name_the_shapes():
    cell = rnn_cell.BasicLSTMCell(H)
    with pytest.raises(ValueError, match="2D arguments"):
        cell(tf.zeros([B, 2, 2]), cell.zero_state(B, tf.float32))
    with pytest.raises(ValueError, match=r"\(c, h\) state"):
        cell(tf.zeros([B, 2]), tf.zeros([B, 2 * H]))
    with pytest.raises(ValueError, match="width 10"):
        rnn_cell.BasicLSTMCell(H, state_is_tuple=False)(tf.zeros([B, 2]), tf.zeros([B, 7]))


@pytest.mark.parametrize("make_cell", [
    lambda: rnn_cell.BasicLSTMCell(3),
    lambda: rnn_cell.GRUCell(3),
    lambda: rnn_cell.LSTMCell(3, use_peepholes=True, num_proj=2),
], ids=["basic_lstm", "gru", "lstm_peephole_proj"])
def test_cell_gradients(make_cell):
    x = tf.placeholder(tf.float64, [2, 3])
    cell = make_cell()
    out, state = cell(x, cell.zero_state(2, tf.float64))
    loss = tf.reduce_sum(out * out) + sum(tf.reduce_sum(s) for s in
                                          nest.flatten(state))
    weights = next(v for v in tf.global_variables() if v.op.name.endswith("/weights"))
    init = tf.global_variables_initializer()
    x_val = np.random.default_rng(0).standard_normal((2, 3))
    with tf.Session() as sess:
        sess.run(init)
        err_x = tf.test.compute_gradient_error(x, [2, 3], loss, [], x_init_value=x_val)
        err_w = tf.test.compute_gradient_error(
            weights, weights.get_shape().as_list(), out, [2, cell.output_size],
            extra_feed_dict={x: x_val})
    assert err_x < 1e-4 and err_w < 1e-4
