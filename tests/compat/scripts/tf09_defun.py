# TF 0.9-era use of graph functions (tensorflow/python/framework/function_test.py of 0.9 and
# the 2016 "Defun for a custom gradient" recipe), run unchanged through the tensorflow alias.
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import function


@function.Defun(tf.float32, tf.float32)
def APlus2B(a, b):
    return a + b * 2


@function.Defun(tf.float32)
def Clip(x):
    return tf.minimum(tf.maximum(x, -1.0), 1.0)


def _clip_grad(op, grad):
    return [grad]  # straight-through: the 2016 recipe's reason to use python_grad_func


@function.Defun(tf.float32, python_grad_func=_clip_grad)
def StraightThroughClip(x):
    return Clip(x)


with tf.Graph().as_default():
    call = APlus2B([1.0], [2.0])
    x = tf.placeholder(tf.float32, [4])
    clipped = StraightThroughClip(x * 3.0)
    loss = tf.reduce_sum(clipped * clipped)
    grad = tf.gradients(loss, x)[0]
    smooth = tf.gradients(tf.reduce_sum(Clip(x)), x)[0]
    with tf.Session() as sess:
        value, = sess.run(call)
        assert value == 5.0, value
        xv = np.array([-1.0, -0.1, 0.2, 2.0], np.float32)
        c, g, s = sess.run([clipped, grad, smooth], {x: xv})
        assert np.allclose(c, np.clip(xv * 3.0, -1, 1)), c
        assert np.allclose(g, 2 * np.clip(xv * 3.0, -1, 1) * 3.0), g  # gradient passed through
        assert np.allclose(s, (np.abs(xv) <= 1).astype(np.float32)), s  # symbolic gradient
    names = [f.signature.name for f in tf.get_default_graph().as_graph_def().library.function]
    assert any(n.startswith("APlus2B") for n in names), names
print("OK defun", len(names), "functions")
