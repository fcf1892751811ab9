"""The tensorflux models the interop tests hand to TensorFlow: deterministic weights, so a
GraphDef built today can be compared with the golden one TensorFlow checked (tests/data/interop).

Imported by tests/interop/*.py and by tests/data/interop/make_tfx_graphs.py.
"""
import os

import numpy as np

import tensorflux as tf

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "data", "interop")
TOLERANCE = 1e-5  # acceptance: max abs diff between TensorFlow's and tensorflux's outputs


def mlp_weights():
    rng = np.random.RandomState(3)
    return {"layer1/w": rng.randn(4, 8).astype(np.float32) * 0.7,
            "layer1/b": rng.randn(8).astype(np.float32) * 0.1,
            "layer2/w": rng.randn(8, 8).astype(np.float32) * 0.5,
            "layer2/b": rng.randn(8).astype(np.float32) * 0.1,
            "out/w": rng.randn(8, 3).astype(np.float32) * 0.5,
            "out/b": rng.randn(3).astype(np.float32) * 0.1}


def mlp_input():
    return np.random.RandomState(4).randn(6, 4).astype(np.float32)


def build_mlp():
    """placeholder "x" [None, 4] -> (matmul + bias -> relu) x 2 -> matmul + bias -> softmax
    "probs", in the default graph. Returns {name: Variable} and the probs Tensor."""
    w = {n: tf.Variable(v, name=n) for n, v in mlp_weights().items()}
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    h = tf.nn.relu(tf.matmul(x, w["layer1/w"]) + w["layer1/b"], name="layer1/relu")
    h = tf.nn.relu(tf.nn.bias_add(tf.matmul(h, w["layer2/w"]), w["layer2/b"]),
                   name="layer2/relu")
    probs = tf.nn.softmax(tf.matmul(h, w["out/w"]) + w["out/b"], name="probs")
    return w, probs


def cnn_weights():
    rng = np.random.RandomState(5)
    return {"conv1/w": rng.randn(3, 3, 2, 4).astype(np.float32) * 0.5,
            "conv1/b": rng.randn(4).astype(np.float32) * 0.1,
            "conv2/w": rng.randn(2, 2, 4, 5).astype(np.float32) * 0.5,
            "conv2/b": rng.randn(5).astype(np.float32) * 0.1,
            "fc/w": rng.randn(2 * 2 * 5, 3).astype(np.float32) * 0.3,
            "fc/b": rng.randn(3).astype(np.float32) * 0.1}


def cnn_input():
    return np.random.RandomState(6).randn(3, 9, 9, 2).astype(np.float32)


def build_cnn():
    """placeholder "x" [None, 9, 9, 2] -> conv2d 3x3 SAME -> bias -> relu -> max_pool 2x2 s2
    SAME -> conv2d 2x2 s2 VALID -> relu -> max_pool 3x3 s1 SAME -> reshape [-1, 20] -> matmul
    + bias -> softmax "probs", in the default graph."""
    w = {n: tf.Variable(v, name=n) for n, v in cnn_weights().items()}
    x = tf.placeholder(tf.float32, [None, 9, 9, 2], name="x")
    h = tf.nn.conv2d(x, w["conv1/w"], strides=[1, 1, 1, 1], padding="SAME")
    h = tf.nn.relu(tf.nn.bias_add(h, w["conv1/b"]))
    h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.nn.conv2d(h, w["conv2/w"], strides=[1, 2, 2, 1], padding="VALID")
    h = tf.nn.relu(h + w["conv2/b"])
    h = tf.nn.max_pool(h, ksize=[1, 3, 3, 1], strides=[1, 1, 1, 1], padding="SAME")
    flat = tf.reshape(h, [-1, 20])
    probs = tf.nn.softmax(tf.matmul(flat, w["fc/w"]) + w["fc/b"], name="probs")
    return w, probs


def frozen_graph_def(build, feed_value):
    """Builds a model in a fresh graph, initializes it and freezes it with
    graph_util.convert_variables_to_constants. Returns (GraphDef, tensorflux's probs)."""
    with tf.Graph().as_default() as graph:
        _, probs = build()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ours = sess.run(probs, {"x:0": feed_value})
            frozen = tf.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(add_shapes=True), ["probs"])
    return frozen, ours


def has_conv_ops():
    """True once tensorflux has tf.nn.conv2d and tf.nn.max_pool (the CNN tests need them)."""
    return hasattr(tf.nn, "conv2d") and hasattr(tf.nn, "max_pool")
