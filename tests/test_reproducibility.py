"""The same graph-level seed gives bit-identical training runs (core issue, acceptance 5)."""
import numpy as np

import tensorflux as tf


def _train(seed, steps=30):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.random_normal([64, 8])
        w_true = tf.constant(np.linspace(-1, 1, 8).reshape(8, 1), dtype=tf.float32)
        y = tf.matmul(x, w_true) + 0.1 * tf.random_uniform([64, 1])
        w = tf.Variable(tf.truncated_normal([8, 16], stddev=0.5))
        v = tf.Variable(tf.random_uniform([16, 1], -0.5, 0.5))
        hidden = tf.nn.dropout(tf.nn.relu(tf.matmul(x, w)), keep_prob=0.8)
        loss = tf.reduce_mean(tf.square(tf.matmul(hidden, v) - y))
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train, loss])[1] for _ in range(steps)]
            return np.array(losses), sess.run(w)


def test_same_graph_seed_is_bit_identical():
    losses_a, w_a = _train(1234)
    losses_b, w_b = _train(1234)
    np.testing.assert_array_equal(losses_a, losses_b)
    np.testing.assert_array_equal(w_a, w_b)
    assert losses_a[-1] < losses_a[0]


def test_different_seed_differs():
    losses_a, _ = _train(1)
    losses_b, _ = _train(2)
    assert not np.array_equal(losses_a, losses_b)
