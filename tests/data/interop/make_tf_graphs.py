"""Writes the TensorFlow-made golden files of tests/interop (needs TensorFlow 2.21).

Run once with a Python that has TensorFlow (`/work/peers/bin/python make_tf_graphs.py`); the
outputs are committed so tensorflux's tests check, without TensorFlow, that it imports and runs
what TensorFlow writes:

  tf_cnn_frozen.pb   a CNN built with tf.compat.v1 (conv2d, bias_add, relu, max_pool, reshape,
                     matmul, softmax), frozen by TF's convert_variables_to_constants
  tf_cnn.npz         x (the input fed to "x:0") and probs (TF's output "probs:0")
  tf_mlp_vars.pb     an MLP with VariableV2 + Assign + Identity nodes (not frozen) and an "init"
                     op; its variables are initialized from Const nodes
  tf_mlp_vars.npz    x and TF's outputs hidden ("hidden:0") and probs ("probs:0") after "init"
  tf_meta/           model-1.meta (a MetaGraphDef with a saver_def, the "outputs" and global
                     step collections and a "train" op) and the checkpoint model-1 its
                     tf.compat.v1.train.Saver wrote after one training step
  tf_meta.npz        x and TF's "probs:0" after restoring model-1
  tf_while_loop.pb   a TF1-style while loop (control flow v1: Enter/Merge/Switch/Exit/
                     NextIteration/LoopCond) computing "total:0" from "x:0"
  tf_while_loop.npz  x and TF's total
"""
import os

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
tf1 = tf.compat.v1


def _write(out_dir, name, graph_def):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(graph_def.SerializeToString())


def _cnn_weights(rng):
    return {
        "conv1/w": rng.randn(3, 3, 3, 4).astype(np.float32) * 0.5,
        "conv1/b": rng.randn(4).astype(np.float32) * 0.1,
        "conv2/w": rng.randn(2, 2, 4, 6).astype(np.float32) * 0.5,
        "conv2/b": rng.randn(6).astype(np.float32) * 0.1,
        "fc/w": rng.randn(2 * 2 * 6, 5).astype(np.float32) * 0.3,
        "fc/b": rng.randn(5).astype(np.float32) * 0.1,
    }


def make_cnn(out_dir=HERE):
    """x [N,10,10,3] -> conv 3x3 SAME s1 -> relu -> max_pool 2x2 s2 -> conv 2x2 VALID s2 -> relu
    -> max_pool 3x3 s1 SAME -> reshape [-1, 24] -> matmul -> softmax."""
    rng = np.random.RandomState(7)
    weights = _cnn_weights(rng)
    x_value = rng.randn(3, 10, 10, 3).astype(np.float32)
    graph = tf1.Graph()  # graph mode whether or not eager execution is on
    with graph.as_default():
        v = {n: tf1.Variable(w, name=n, use_resource=False) for n, w in weights.items()}
        x = tf1.placeholder(tf.float32, [None, 10, 10, 3], name="x")
        h = tf1.nn.conv2d(x, v["conv1/w"], strides=[1, 1, 1, 1], padding="SAME")
        h = tf1.nn.relu(tf1.nn.bias_add(h, v["conv1/b"]))
        h = tf1.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        h = tf1.nn.conv2d(h, v["conv2/w"], strides=[1, 2, 2, 1], padding="VALID")
        h = tf1.nn.relu(tf1.nn.bias_add(h, v["conv2/b"]))
        h = tf1.nn.max_pool(h, ksize=[1, 3, 3, 1], strides=[1, 1, 1, 1], padding="SAME")
        flat = tf1.reshape(h, [-1, 24])
        logits = tf1.matmul(flat, v["fc/w"]) + v["fc/b"]
        probs = tf1.nn.softmax(logits, name="probs")
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            out = sess.run(probs, {x: x_value})
            frozen = tf1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(add_shapes=True), ["probs"])
    _write(out_dir, "tf_cnn_frozen.pb", frozen)
    np.savez(os.path.join(out_dir, "tf_cnn.npz"), x=x_value, probs=out)


def make_mlp_with_variables(out_dir=HERE):
    rng = np.random.RandomState(11)
    graph = tf1.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 4], name="x")
        w1 = tf1.Variable(rng.randn(4, 6).astype(np.float32), name="w1", use_resource=False)
        b1 = tf1.Variable(rng.randn(6).astype(np.float32), name="b1", use_resource=False)
        w2 = tf1.Variable(rng.randn(6, 3).astype(np.float32), name="w2", use_resource=False)
        b2 = tf1.Variable(rng.randn(3).astype(np.float32), name="b2", use_resource=False)
        hidden = tf1.nn.relu(tf1.matmul(x, w1) + b1, name="hidden")
        probs = tf1.nn.softmax(tf1.nn.bias_add(tf1.matmul(hidden, w2), b2), name="probs")
        tf1.global_variables_initializer()  # the "init" NoOp
        x_value = rng.randn(5, 4).astype(np.float32)
        with tf1.Session(graph=graph) as sess:
            sess.run("init")
            h_out, p_out = sess.run([hidden, probs], {x: x_value})
    _write(out_dir, "tf_mlp_vars.pb", graph.as_graph_def())
    np.savez(os.path.join(out_dir, "tf_mlp_vars.npz"), x=x_value, hidden=h_out, probs=p_out)


def make_meta_graph(out_dir=HERE):
    rng = np.random.RandomState(13)
    x_value = rng.randn(3, 4).astype(np.float32)
    meta_dir = os.path.join(out_dir, "tf_meta")
    graph = tf1.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 4], name="x")
        w = tf1.Variable(rng.randn(4, 3).astype(np.float32), name="w", use_resource=False)
        b = tf1.Variable(np.zeros(3, np.float32), name="b", use_resource=False)
        step = tf1.Variable(0, name="global_step", trainable=False, use_resource=False,
                            collections=[tf1.GraphKeys.GLOBAL_VARIABLES,
                                         tf1.GraphKeys.GLOBAL_STEP])
        probs = tf1.nn.softmax(tf1.matmul(x, w) + b, name="probs")
        loss = tf1.reduce_mean(-tf1.log(probs[:, 0]), name="loss")
        tf1.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step, name="train")
        tf1.add_to_collection("outputs", probs)
        saver = tf1.train.Saver(save_relative_paths=True)
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run("train", {x: x_value})
            os.makedirs(meta_dir, exist_ok=True)
            saver.save(sess, os.path.join(meta_dir, "model"), global_step=1)
            out = sess.run(probs, {x: x_value})
    np.savez(os.path.join(out_dir, "tf_meta.npz"), x=x_value, probs=out)


def make_while_loop(out_dir=HERE):
    tf1.disable_control_flow_v2()
    graph = tf.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [], name="x")
        _, total = tf1.while_loop(lambda i, acc: i < 5, lambda i, acc: (i + 1, acc * x + 1.0),
                                  [tf.constant(0), tf.constant(1.0)])
        tf.identity(total, name="total")
        with tf1.Session() as sess:
            value = sess.run("total:0", {"x:0": 1.5})
    _write(out_dir, "tf_while_loop.pb", graph.as_graph_def())
    np.savez(os.path.join(out_dir, "tf_while_loop.npz"), x=np.float32(1.5), total=value)


def main():
    make_while_loop()
    make_cnn()
    make_mlp_with_variables()
    make_meta_graph()


if __name__ == "__main__":
    main()
