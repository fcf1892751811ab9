# A TF 0.9 tutorial-style script (softmax regression), unchanged but for generated data.
from __future__ import absolute_import, division, print_function

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import dtypes
from tensorflow.python.ops import gen_math_ops

flags = tf.app.flags
FLAGS = flags.FLAGS
flags.DEFINE_integer("max_steps", 200, "Number of steps to run trainer.")
flags.DEFINE_float("learning_rate", 0.5, "Initial learning rate.")


def main(_):
    rng = np.random.RandomState(0)
    centers = rng.randn(4, 10) * 3
    labels = rng.randint(0, 4, size=400)
    images = (centers[labels] + rng.randn(400, 10)).astype(np.float32)
    one_hot = np.eye(4, dtype=np.float32)[labels]

    x = tf.placeholder(dtypes.float32, [None, 10])
    W = tf.Variable(tf.zeros([10, 4]))
    b = tf.Variable(tf.zeros([4]))
    y = tf.nn.softmax(gen_math_ops._mat_mul(x, W) + b)
    y_ = tf.placeholder(tf.float32, [None, 4])
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    train_step = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    sess = tf.Session()
    sess.run(tf.initialize_all_variables())
    first = sess.run(accuracy, feed_dict={x: images, y_: one_hot})
    for i in range(FLAGS.max_steps):
        batch = rng.randint(0, 400, size=50)
        sess.run(train_step, feed_dict={x: images[batch], y_: one_hot[batch]})
    print("accuracy %.4f -> %.4f" % (first, sess.run(accuracy, {x: images, y_: one_hot})))


if __name__ == "__main__":
    tf.app.run()
