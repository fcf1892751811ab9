"""Deep MNIST for experts: a small convolutional network, trained with Adam at 1e-4.

The network of the tutorial: two layers of 5x5 convolution + ReLU + 2x2 max pooling (32 and
64 feature maps), a fully connected layer of 1024 ReLU units with dropout, and a softmax
readout over the 10 digits.

    python examples/mnist_deep.py [--data_dir /tmp/tensorflux/mnist/input_data]
        [--max_steps 20000] [--batch_size 50] [--learning_rate 1e-4] [--keep_prob 0.5]
        [--log_every 100] [--conv1_features 32] [--conv2_features 64] [--fc_units 1024]
        [--seed N]

It prints the training accuracy of the current batch every --log_every steps and the test
accuracy at the end (`test accuracy 0.9xxx`). Without the MNIST files in --data_dir the loader
builds a stand-in from scikit-learn's 8x8 digits (1258 training images, 400 test images);
there about 600 steps of batch 50 reach 0.95 (see examples/README.md).
"""
import argparse
import os
import sys

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.examples.tutorials.mnist import input_data  # noqa: E402

FLAGS = None


def weight_variable(shape):
    """Weights initialised with a little noise, to break symmetry."""
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1))


def bias_variable(shape):
    """Slightly positive biases, so that ReLUs start out active."""
    return tf.Variable(tf.constant(0.1, shape=shape))


def conv2d(x, W):
    """Stride-1 convolution, zero-padded so the output keeps the input's size."""
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    """Max pooling over 2x2 blocks: halves height and width."""
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def deepnn(x, conv1_features=32, conv2_features=64, fc_units=1024):
    """Builds the convolutional network for classifying digits.

    Args:
      x: float tensor [N, 784] of flattened 28x28 images.

    Returns:
      (y_conv, keep_prob): the logits [N, 10], and the dropout keep-probability placeholder
      (feed 0.5 while training and 1.0 while evaluating).
    """
    x_image = tf.reshape(x, [-1, 28, 28, 1])

    # First convolutional layer: 1 grey channel -> conv1_features maps, 28x28 -> 14x14.
    W_conv1 = weight_variable([5, 5, 1, conv1_features])
    b_conv1 = bias_variable([conv1_features])
    h_conv1 = tf.nn.relu(conv2d(x_image, W_conv1) + b_conv1)
    h_pool1 = max_pool_2x2(h_conv1)

    # Second convolutional layer: -> conv2_features maps, 14x14 -> 7x7.
    W_conv2 = weight_variable([5, 5, conv1_features, conv2_features])
    b_conv2 = bias_variable([conv2_features])
    h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)
    h_pool2 = max_pool_2x2(h_conv2)

    # Densely connected layer over the whole 7x7 image.
    W_fc1 = weight_variable([7 * 7 * conv2_features, fc_units])
    b_fc1 = bias_variable([fc_units])
    h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * conv2_features])
    h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)

    # Dropout, switched off at evaluation time by feeding keep_prob = 1.0.
    keep_prob = tf.placeholder(tf.float32)
    h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)

    # Readout layer.
    W_fc2 = weight_variable([fc_units, 10])
    b_fc2 = bias_variable([10])
    y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2
    return y_conv, keep_prob


def evaluate(sess, accuracy, x, y_, keep_prob, data_set, batch_size=500):
    """Accuracy over all of `data_set`, in batches (dropout off)."""
    correct, total = 0.0, data_set.num_examples
    for start in range(0, total, batch_size):
        images = data_set.images[start:start + batch_size]
        labels = data_set.labels[start:start + batch_size]
        batch_accuracy = sess.run(accuracy, feed_dict={x: images, y_: labels, keep_prob: 1.0})
        correct += batch_accuracy * len(images)
    return correct / total


def train_and_evaluate():
    """Trains the network as FLAGS say; returns the final test accuracy (also printed)."""
    if FLAGS.seed is not None:
        tf.set_random_seed(FLAGS.seed)
    mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True, seed=FLAGS.seed)

    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    y_conv, keep_prob = deepnn(x, FLAGS.conv1_features, FLAGS.conv2_features, FLAGS.fc_units)

    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv))
    train_step = tf.train.AdamOptimizer(FLAGS.learning_rate).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(FLAGS.max_steps):
            batch = mnist.train.next_batch(FLAGS.batch_size)
            if i % FLAGS.log_every == 0:
                train_accuracy, loss = sess.run(
                    [accuracy, cross_entropy],
                    feed_dict={x: batch[0], y_: batch[1], keep_prob: 1.0})
                print("step %d, training accuracy %g, loss %g" % (i, train_accuracy, loss))
                sys.stdout.flush()
            sess.run(train_step, feed_dict={x: batch[0], y_: batch[1],
                                            keep_prob: FLAGS.keep_prob})
        test_accuracy = evaluate(sess, accuracy, x, y_, keep_prob, mnist.test)
        print("test accuracy %g" % test_accuracy)
    return test_accuracy


def main(_):
    train_and_evaluate()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="/tmp/tensorflux/mnist/input_data",
                        help="directory holding (or receiving) the MNIST IDX files")
    parser.add_argument("--max_steps", type=int, default=20000, help="training steps")
    parser.add_argument("--batch_size", type=int, default=50, help="images per step")
    parser.add_argument("--learning_rate", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--keep_prob", type=float, default=0.5,
                        help="dropout keep-probability while training")
    parser.add_argument("--log_every", type=int, default=100,
                        help="print the training accuracy every N steps")
    parser.add_argument("--conv1_features", type=int, default=32)
    parser.add_argument("--conv2_features", type=int, default=64)
    parser.add_argument("--fc_units", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=None,
                        help="graph-level random seed and data shuffling seed")
    return parser.parse_known_args(argv)


if __name__ == "__main__":
    FLAGS, unparsed = parse_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
