"""TensorFlow (2.21) runs the functions of a tensorflux GraphDef: Defun calls, a nested call, a
grad_func, a generated symbolic gradient and a SymbolicGradient node. Needs TensorFlow:
    PYTHONPATH=$PWD /work/peers/bin/python -m pytest -m tensorflow tests/framework
"""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.ops import function_ops
from tensorflux.python.framework import function

pytestmark = [pytest.mark.tensorflow, pytest.mark.timeout(120)]


def _our_graph():
    @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
    def plus_minus(a, b):
        return a + b, a - b

    @function.Defun(tf.float32, func_name="Inner")
    def inner(a):
        return tf.tanh(a) * a

    @function.Defun(tf.float32, func_name="Outer")
    def outer(a):
        return inner(a) + 1.0

    @function.Defun(tf.float32, tf.float32, func_name="ScaledGrad")
    def scaled_grad(a, dy):
        return dy * 3.0 + a * 0.0

    @function.Defun(tf.float32, func_name="Scaled", grad_func=scaled_grad)
    def scaled(a):
        return a * 3.0

    x = tf.placeholder(tf.float32, [2, 3], name="x")
    y = tf.placeholder(tf.float32, [2, 3], name="y")
    s, d = plus_minus(x, y, name="pm")
    total = tf.reduce_sum(s * outer(d) + scaled(y), name="total")
    gx, gy = tf.gradients(total, [x, y])
    tf.identity(gx, name="gx")
    tf.identity(gy, name="gy")
    # TF's own form of a function's gradient: a SymbolicGradient node naming Outer
    function_ops.symbolic_gradient([x, y], [tf.float32], outer, name="sg")
    return tf.get_default_graph().as_graph_def()


def test_tensorflow_runs_our_defun_graph_def_and_agrees():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    graph_def = _our_graph()
    names = sorted(f.signature.name for f in graph_def.library.function)
    assert "Outer_SymbolicGradient" in names and "ScaledGrad" in names
    rng = np.random.RandomState(0)
    feed = {"x:0": rng.randn(2, 3).astype(np.float32), "y:0": rng.randn(2, 3).astype(np.float32)}
    fetches = ["pm:0", "pm:1", "total:0", "gx:0", "gy:0", "sg:0"]
    with tf.Session() as sess:
        ours = sess.run(fetches, feed)
    with tf1.Graph().as_default() as graph:
        tf1.import_graph_def(tf1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with tf1.Session(graph=graph) as sess:
            theirs = sess.run(fetches, feed)
    for name, got, want in zip(fetches, ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
