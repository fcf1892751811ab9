"""Writes tf_defun.pb and tf_defun.npz: a GraphDef whose library holds functions that
TensorFlow 2.21 made with tensorflow.python.framework.function.Defun (needs TensorFlow).

Run once with `/work/peers/bin/python make_tf_defun_graph.py`; the outputs are committed so
tests/framework/test_function.py checks, without TensorFlow, that tensorflux imports and runs
what TensorFlow writes:

  tf_defun.pb   x:0 and y:0 (float32 [2,3] placeholders) feed "pm" (a call of PlusMinus,
                two outputs: x + y, x - y) and "sq" (a call of Outer, which calls the nested
                Inner: (a * a) + 1); "total:0" sums pm:0 * sq:0 - pm:1; Scaled carries a
                grad_func (ScaledGrad), so the library has a gradient entry too
  tf_defun.npz  x, y and TensorFlow's pm0, pm1, sq, total, scaled
  tf_defun_grad.pb   tf.gradients of a call of Mix (tanh(a) * b, a - b, no grad_func) with
                     grad_ys fed ("du:0", "dv:0"): TensorFlow emits a SymbolicGradient node;
                     "gx:0", "gy:0" are the gradients of x and y ([3] each)
  tf_defun_grad.npz  x, y, du, dv and TensorFlow's gx, gy
"""
import os

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import function

HERE = os.path.dirname(os.path.abspath(__file__))
tf1 = tf.compat.v1


def _functions():
    @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
    def plus_minus(a, b):
        return a + b, a - b

    @function.Defun(tf.float32, func_name="Inner")
    def inner(a):
        return a * a

    @function.Defun(tf.float32, func_name="Outer")
    def outer(a):
        return inner(a) + 1.0

    @function.Defun(tf.float32, tf.float32, func_name="ScaledGrad")
    def scaled_grad(a, dy):
        return dy * 3.0

    @function.Defun(tf.float32, func_name="Scaled", grad_func=scaled_grad)
    def scaled(a):
        return a * 3.0

    return plus_minus, outer, scaled


def main():
    rng = np.random.RandomState(7)
    x = rng.randn(2, 3).astype(np.float32)
    y = rng.randn(2, 3).astype(np.float32)
    with tf.Graph().as_default() as graph:
        plus_minus, outer, scaled = _functions()
        px = tf1.placeholder(tf.float32, [2, 3], name="x")
        py = tf1.placeholder(tf.float32, [2, 3], name="y")
        pm = plus_minus(px, py, name="pm")
        sq = outer(px, name="sq")
        total = tf.reduce_sum(pm[0] * sq - pm[1], name="total")
        sc = scaled(py, name="scaled")
        with tf1.Session(graph=graph) as sess:
            values = sess.run({"pm0": pm[0], "pm1": pm[1], "sq": sq, "total": total,
                               "scaled": sc}, {px: x, py: y})
        graph_def = graph.as_graph_def()
    with open(os.path.join(HERE, "tf_defun.pb"), "wb") as f:
        f.write(graph_def.SerializeToString())
    np.savez(os.path.join(HERE, "tf_defun.npz"), x=x, y=y, **values)


def main_grad():
    rng = np.random.RandomState(8)
    feed_values = {k: rng.randn(3).astype(np.float32) for k in ("x", "y", "du", "dv")}
    with tf.Graph().as_default() as graph:
        @function.Defun(tf.float32, tf.float32, func_name="Mix")
        def mix(a, b):
            return tf.tanh(a) * b, a - b

        feeds = {k: tf1.placeholder(tf.float32, [3], name=k) for k in feed_values}
        u, v = mix(feeds["x"], feeds["y"])
        gx, gy = tf.gradients([u, v], [feeds["x"], feeds["y"]],
                              grad_ys=[feeds["du"], feeds["dv"]])
        gx, gy = tf.identity(gx, name="gx"), tf.identity(gy, name="gy")
        assert any(n.op == "SymbolicGradient" for n in graph.as_graph_def().node)
        with tf1.Session(graph=graph) as sess:
            values = sess.run({"gx": gx, "gy": gy},
                              {feeds[k]: v for k, v in feed_values.items()})
        graph_def = graph.as_graph_def()
    with open(os.path.join(HERE, "tf_defun_grad.pb"), "wb") as f:
        f.write(graph_def.SerializeToString())
    np.savez(os.path.join(HERE, "tf_defun_grad.npz"), **feed_values, **values)


if __name__ == "__main__":
    main()
    main_grad()
