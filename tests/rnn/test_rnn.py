"""static_rnn, bidirectional RNNs and dynamic_rnn."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.rnn import rnn, rnn_cell

B, T, N_IN, H = 3, 4, 2, 5


def _numpy_basic_rnn(xs, w, b, lengths=None):
    """tanh RNN over a list of [B, N] arrays; past each length, zero output and kept state."""
    h = np.zeros((xs[0].shape[0], b.shape[0]))
    outs = []
    for t, x in enumerate(xs):
        new_h = np.tanh(np.concatenate([x, h], 1) @ w + b)
        if lengths is not None:
            done = (t >= lengths)[:, None]
            outs.append(np.where(done, 0.0, new_h))
            h = np.where(done, h, new_h)
        else:
            outs.append(new_h)
            h = new_h
    return outs, h


def _weights(sess, prefix):
    by_name = {v.op.name: v for v in tf.global_variables()}
    return sess.run([by_name[prefix + "/weights"], by_name[prefix + "/biases"]])


def _xs(seed=0, steps=T):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((B, N_IN)) for _ in range(steps)]


def test_static_rnn_unrolls_with_shared_variables():
    xs_val = _xs()
    xs = [tf.placeholder(tf.float64, [B, N_IN]) for _ in range(T)]
    outputs, state = rnn.static_rnn(rnn_cell.BasicRNNCell(H), xs, dtype=tf.float64)
    assert len(outputs) == T
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "rnn/basic_rnn_cell/biases", "rnn/basic_rnn_cell/weights"]
    assert [o.get_shape().as_list() for o in outputs] == [[B, H]] * T
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_outs, got_state = sess.run([outputs, state], dict(zip(xs, xs_val)))
        w, b = _weights(sess, "rnn/basic_rnn_cell")
    ref_outs, ref_state = _numpy_basic_rnn(xs_val, w, b)
    for got, ref in zip(got_outs, ref_outs):
        np.testing.assert_allclose(got, ref, rtol=1e-10)
    np.testing.assert_allclose(got_state, ref_state, rtol=1e-10)


def test_static_rnn_sequence_length_copies_state_through():
    xs_val = _xs(1)
    lengths = np.array([4, 1, 2])
    xs = [tf.constant(x) for x in xs_val]
    seq_len = tf.placeholder(tf.int32, [B])
    outputs, state = rnn.static_rnn(rnn_cell.BasicRNNCell(H), xs, dtype=tf.float64,
                                    sequence_length=seq_len, scope="masked")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_outs, got_state = sess.run([outputs, state], {seq_len: lengths})
        w, b = _weights(sess, "masked/basic_rnn_cell")
    ref_outs, ref_state = _numpy_basic_rnn(xs_val, w, b, lengths)
    for got, ref in zip(got_outs, ref_outs):
        np.testing.assert_allclose(got, ref, rtol=1e-10)
    np.testing.assert_allclose(got_state, ref_state, rtol=1e-10)
    assert not np.any(got_outs[1][1]) and np.any(got_outs[1][0])


def test_static_rnn_lstm_tuple_state_and_initial_state():
    xs = [tf.constant(x) for x in _xs(2)]
    cell = rnn_cell.BasicLSTMCell(H)
    init = cell.zero_state(B, tf.float64)
    _outputs, state = rnn.static_rnn(cell, xs, initial_state=init)
    assert isinstance(state, rnn_cell.LSTMStateTuple)
    # Continue from the final state: the same as running twice the steps at once.
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        _more, state2 = rnn.static_rnn(cell, xs, initial_state=state)
        _both, state_both = rnn.static_rnn(cell, xs + xs, initial_state=init)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([state2, state_both])
    np.testing.assert_allclose(a.h, b.h, rtol=1e-12)
    np.testing.assert_allclose(a.c, b.c, rtol=1e-12)


def test_static_rnn_dynamic_batch_and_errors():
    x = tf.placeholder(tf.float32, [None, N_IN])
    _outputs, state = rnn.static_rnn(rnn_cell.GRUCell(H), [x, x], dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(state, {x: np.ones((7, N_IN), np.float32)})
    assert got.shape == (7, H)
    with pytest.raises(ValueError, match="dtype must be specified"):
        rnn.static_rnn(rnn_cell.GRUCell(H), [x], scope="other")
    with pytest.raises(TypeError, match="sequence"):
        rnn.static_rnn(rnn_cell.GRUCell(H), x, dtype=tf.float32)
    with pytest.raises(TypeError, match="RNNCell"):
        rnn.static_rnn(lambda a, b: (a, b), [x], dtype=tf.float32)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        rnn.static_rnn(rnn_cell.GRUCell(H), [x], dtype=tf.float32, sequence_length=[[1]],
                       scope="third")


def test_static_rnn_gradient():
    x = tf.placeholder(tf.float64, [2, N_IN])
    outputs, state = rnn.static_rnn(rnn_cell.BasicLSTMCell(3), [x, x * 2.0, x * x],
                                    dtype=tf.float64, sequence_length=[3, 2])
    loss = tf.add_n([tf.reduce_sum(o * o) for o in outputs]) + tf.reduce_sum(state.c)
    x_val = np.random.default_rng(3).standard_normal((2, N_IN))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        err = tf.test.compute_gradient_error(x, [2, N_IN], loss, [], x_init_value=x_val)
    assert err < 1e-4


def test_bidirectional_rnn_matches_numpy_with_lengths():
    xs_val = _xs(4)
    lengths = np.array([4, 2, 3])
    xs = [tf.constant(x) for x in xs_val]
    outputs, _state_fw, state_bw = rnn.static_bidirectional_rnn(
        rnn_cell.BasicRNNCell(H), rnn_cell.BasicRNNCell(H), xs, dtype=tf.float64,
        sequence_length=lengths)
    assert [o.get_shape().as_list() for o in outputs] == [[B, 2 * H]] * T
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, got_bw = sess.run([outputs, state_bw])
        w_fw, b_fw = _weights(sess, "bidirectional_rnn/fw/basic_rnn_cell")
        w_bw, b_bw = _weights(sess, "bidirectional_rnn/bw/basic_rnn_cell")
    ref_fw, _ = _numpy_basic_rnn(xs_val, w_fw, b_fw, lengths)
    # Reverse each example's first lengths[b] steps, run forward, reverse back.
    stacked = np.stack(xs_val, 1)
    rev = stacked.copy()
    for k, n in enumerate(lengths):
        rev[k, :n] = stacked[k, :n][::-1]
    ref_bw_rev, ref_bw_state = _numpy_basic_rnn(list(rev.transpose(1, 0, 2)), w_bw, b_bw,
                                                lengths)
    ref_bw = np.stack(ref_bw_rev, 1)
    for k, n in enumerate(lengths):
        ref_bw[k, :n] = ref_bw[k, :n][::-1]
    for t in range(T):
        np.testing.assert_allclose(got[t], np.concatenate([ref_fw[t], ref_bw[:, t]], 1),
                                   rtol=1e-10)
    np.testing.assert_allclose(got_bw, ref_bw_state, rtol=1e-10)


def test_bidirectional_rnn_without_lengths_is_0_9_name():
    xs = [tf.constant(x, dtype=tf.float32) for x in _xs(5, steps=3)]
    outputs, _, _ = tf.nn.bidirectional_rnn(rnn_cell.GRUCell(2), rnn_cell.GRUCell(3), xs,
                                            dtype=tf.float32)
    assert [o.get_shape().as_list() for o in outputs] == [[B, 5]] * 3
    assert tf.nn.rnn is rnn.static_rnn


def test_dynamic_rnn_matches_static_rnn():
    xs_val = np.stack(_xs(6), 1)                                  # [B, T, N_IN]
    lengths = np.array([4, 1, 3])
    x = tf.placeholder(tf.float64, [None, None, N_IN])
    cell = rnn_cell.BasicLSTMCell(H)
    dyn_out, dyn_state = rnn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float64)
    steps = [tf.constant(xs_val[:, t]) for t in range(T)]
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        st_out, st_state = rnn.static_rnn(cell, steps, sequence_length=lengths,
                                          dtype=tf.float64)
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "rnn/basic_lstm_cell/biases", "rnn/basic_lstm_cell/weights"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state = sess.run([dyn_out, dyn_state], {x: xs_val})
        ref_out, ref_state = sess.run([st_out, st_state])
    assert got_out.shape == (B, T, H)
    np.testing.assert_allclose(got_out, np.stack(ref_out, 1), rtol=1e-10)
    np.testing.assert_allclose(got_state.c, ref_state.c, rtol=1e-10)
    np.testing.assert_allclose(got_state.h, ref_state.h, rtol=1e-10)


def test_dynamic_rnn_time_major_and_gradient():
    x = tf.placeholder(tf.float64, [T, 2, N_IN])
    out, state = rnn.dynamic_rnn(rnn_cell.GRUCell(3), x, dtype=tf.float64, time_major=True)
    loss = tf.reduce_sum(out * out) + tf.reduce_sum(state)
    x_val = np.random.default_rng(7).standard_normal((T, 2, N_IN))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {x: x_val}).shape == (T, 2, 3)
        err = tf.test.compute_gradient_error(x, [T, 2, N_IN], loss, [], x_init_value=x_val)
    assert err < 1e-4


def test_dynamic_rnn_gradient_of_final_state_only_matches_static():
    x = tf.placeholder(tf.float64, [2, T, N_IN])
    cell = rnn_cell.GRUCell(3)
    _, state = rnn.dynamic_rnn(cell, x, dtype=tf.float64, sequence_length=[T, 2])
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        _, st_state = rnn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float64,
                                     sequence_length=[T, 2])
    weights = next(v for v in tf.global_variables() if v.op.name.endswith("gates/weights"))
    dyn = tf.gradients(tf.reduce_sum(state), [x, weights])
    ref = tf.gradients(tf.reduce_sum(st_state), [x, weights])
    x_val = np.random.default_rng(9).standard_normal((2, T, N_IN))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want = sess.run([dyn, ref], {x: x_val})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    assert np.any(got[0][1, :2]) and not np.any(got[0][1, 2:])   # past length 2: no gradient


def test_bidirectional_dynamic_rnn_shapes():
    x = tf.constant(np.stack(_xs(8), 1))
    (fw, bw), (_s_fw, _s_bw) = rnn.bidirectional_dynamic_rnn(
        rnn_cell.GRUCell(2), rnn_cell.GRUCell(3), x, sequence_length=[4, 2, 1],
        dtype=tf.float64)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_fw, got_bw = sess.run([fw, bw])
    assert got_fw.shape == (B, T, 2) and got_bw.shape == (B, T, 3)
    assert not np.any(got_bw[2, 1:]) and np.all(got_bw[0] != 0)


def test_dynamic_rnn_trains_on_final_state_with_unknown_batch_size():
    # The outputs' gradient TensorArray is never written (the loss uses only the final
    # state), so its zeros take their shape from what the forward loop wrote.
    x = tf.placeholder(tf.float32, [None, 5, 3])
    cell = tf.contrib.rnn.BasicLSTMCell(4)
    _, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    loss = tf.reduce_sum(tf.square(state.h - 0.5))
    train = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
    feed = {x: np.random.default_rng(0).random((2, 5, 3)).astype(np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([train, loss], feed)[1] for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0], losses
