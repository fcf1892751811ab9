"""A LeNet-5-like convolutional MNIST classifier: TensorFlow 0.9's
`tensorflow/models/image/mnist/convolutional.py` tutorial, at its import path.

    python -m tensorflux.models.image.mnist.convolutional --data_dir DIR [--num_epochs 10]
    python -m tensorflux.models.image.mnist.convolutional --self_test

Two 5x5 convolution + ReLU + 2x2 max-pool layers, a ReLU fully connected layer with dropout
and a softmax layer; L2 regularization of the fully connected weights; momentum 0.9 with a
learning rate decayed by 0.95 once per epoch. Batches are fed through placeholders.
--data_dir holds the four MNIST IDX files (gzip'd or not; nothing is downloaded). --self_test
trains on fake data (all-zero images of class 1, as the tutorial's) and checks the test
error is 0. --conv1_filters, --conv2_filters, --fc_units and --train_size make it small.
"""
import os
import sys
import time

import numpy as np

import tensorflux as tf
from tensorflux.examples.tutorials.mnist import input_data

IMAGE_SIZE = 28
NUM_CHANNELS = 1
PIXEL_DEPTH = 255
NUM_LABELS = 10
SEED = 66478  # None for a random seed

flags = tf.app.flags
flags.DEFINE_string("data_dir", "MNIST-data", "Folder holding the four MNIST IDX files.")
flags.DEFINE_boolean("self_test", False, "True if running a self test on fake data.")
flags.DEFINE_boolean("use_fp16", False, "Use half floats instead of full floats if True.")
flags.DEFINE_integer("num_epochs", 10, "Passes over the training data.")
flags.DEFINE_integer("batch_size", 64, "Examples per training step.")
flags.DEFINE_integer("eval_batch_size", 64, "Examples per evaluation step.")
flags.DEFINE_integer("eval_frequency", 100, "Steps between evaluations.")
flags.DEFINE_integer("validation_size", 5000, "Training examples held out for validation.")
flags.DEFINE_integer("train_size", 0, "Use only this many training examples (0: all).")
flags.DEFINE_integer("conv1_filters", 32, "Filters of the first convolution.")
flags.DEFINE_integer("conv2_filters", 64, "Filters of the second convolution.")
flags.DEFINE_integer("fc_units", 512, "Units of the fully connected layer.")
flags.DEFINE_float("learning_rate", 0.01, "Initial learning rate.")
FLAGS = flags.FLAGS


def data_type():
    """tf.float16 with --use_fp16, else tf.float32."""
    return tf.float16 if FLAGS.use_fp16 else tf.float32


def extract_data(filename, num_images):
    """Images of an IDX file as [num_images, 28, 28, 1] float32, rescaled to [-0.5, 0.5]."""
    print("Extracting", filename)
    with tf.gfile.GFile(filename, "rb") as f:
        images = input_data.extract_images(f)[:num_images].astype(np.float32)
    return (images - PIXEL_DEPTH / 2.0) / PIXEL_DEPTH


def extract_labels(filename, num_images):
    """Labels of an IDX file as int64 [num_images]."""
    print("Extracting", filename)
    with tf.gfile.GFile(filename, "rb") as f:
        return input_data.extract_labels(f)[:num_images].astype(np.int64)


def fake_data(num_images):
    """All-zero images, all of class 1 (the tutorial's self-test data)."""
    data = np.zeros((num_images, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS), np.float32)
    return data, np.ones(num_images, np.int64)


def error_rate(predictions, labels):
    """Percentage of argmax(predictions) that differ from the dense labels."""
    return 100.0 - 100.0 * np.sum(np.argmax(predictions, 1) == labels) / predictions.shape[0]


def _locate(data_dir, filename):
    """The path of `filename` in data_dir, or of its un-gzip'd twin; None if neither exists."""
    for candidate in (filename, filename[:-len(".gz")]):
        if tf.gfile.Exists(os.path.join(data_dir, candidate)):
            return os.path.join(data_dir, candidate)
    return None


def _load():
    """(train, validation, test) as (images, labels) pairs."""
    if FLAGS.self_test:
        print("Running self-test.")
        train = fake_data(256)
        return train, fake_data(FLAGS.eval_batch_size), fake_data(FLAGS.eval_batch_size)
    paths = {}
    for name in (input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, input_data.TEST_IMAGES,
                 input_data.TEST_LABELS):
        path = _locate(FLAGS.data_dir, name)
        if path is None:
            sys.exit("No %s in --data_dir %s: copy the four MNIST files there (nothing is "
                     "downloaded), or run with --self_test" % (name, FLAGS.data_dir))
        paths[name] = path
    train_x = extract_data(paths[input_data.TRAIN_IMAGES], 60000)
    train_y = extract_labels(paths[input_data.TRAIN_LABELS], 60000)
    test = (extract_data(paths[input_data.TEST_IMAGES], 10000),
            extract_labels(paths[input_data.TEST_LABELS], 10000))
    v = FLAGS.validation_size
    limit = v + FLAGS.train_size if FLAGS.train_size else None
    return (train_x[v:limit], train_y[v:limit]), (train_x[:v], train_y[:v]), test


class Model:
    """The tutorial's variables, shared by the training and evaluation graphs."""

    def __init__(self):
        c1, c2, fc = FLAGS.conv1_filters, FLAGS.conv2_filters, FLAGS.fc_units

        def weights(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1, seed=SEED,
                                                   dtype=data_type()))
        self.conv1_weights = weights([5, 5, NUM_CHANNELS, c1])
        self.conv1_biases = tf.Variable(tf.zeros([c1], dtype=data_type()))
        self.conv2_weights = weights([5, 5, c1, c2])
        self.conv2_biases = tf.Variable(tf.constant(0.1, shape=[c2], dtype=data_type()))
        self.fc1_weights = weights([IMAGE_SIZE // 4 * IMAGE_SIZE // 4 * c2, fc])
        self.fc1_biases = tf.Variable(tf.constant(0.1, shape=[fc], dtype=data_type()))
        self.fc2_weights = weights([fc, NUM_LABELS])
        self.fc2_biases = tf.Variable(tf.constant(0.1, shape=[NUM_LABELS], dtype=data_type()))

    def __call__(self, data, train=False):
        """Logits [batch, 10]; dropout only when `train`."""
        conv = tf.nn.conv2d(data, self.conv1_weights, strides=[1, 1, 1, 1], padding="SAME")
        relu = tf.nn.relu(tf.nn.bias_add(conv, self.conv1_biases))
        pool = tf.nn.max_pool(relu, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        conv = tf.nn.conv2d(pool, self.conv2_weights, strides=[1, 1, 1, 1], padding="SAME")
        relu = tf.nn.relu(tf.nn.bias_add(conv, self.conv2_biases))
        pool = tf.nn.max_pool(relu, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        shape = pool.get_shape().as_list()
        reshape = tf.reshape(pool, [-1, shape[1] * shape[2] * shape[3]])
        hidden = tf.nn.relu(tf.matmul(reshape, self.fc1_weights) + self.fc1_biases)
        if train:
            hidden = tf.nn.dropout(hidden, 0.5, seed=SEED)
        return tf.matmul(hidden, self.fc2_weights) + self.fc2_biases

    def regularizers(self):
        return (tf.nn.l2_loss(self.fc1_weights) + tf.nn.l2_loss(self.fc1_biases) +
                tf.nn.l2_loss(self.fc2_weights) + tf.nn.l2_loss(self.fc2_biases))


def eval_in_batches(sess, data, prediction, node):
    """Softmax predictions for `data`, eval_batch_size examples per step."""
    size, batch = data.shape[0], FLAGS.eval_batch_size
    if size < batch:
        raise ValueError("batch size for evals larger than dataset: %d" % size)
    predictions = np.zeros((size, NUM_LABELS), np.float32)
    for begin in range(0, size, batch):
        end = min(begin + batch, size)
        start = end - batch  # the last batch overlaps the previous one to stay full
        predictions[start:end] = sess.run(prediction, {node: data[start:end]})
    return predictions


def main(argv=None):  # pylint: disable=unused-argument
    (train_data, train_labels), (val_data, val_labels), (test_data, test_labels) = _load()
    train_size, batch = train_labels.shape[0], FLAGS.batch_size
    shape = (batch, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS)
    train_data_node = tf.placeholder(data_type(), shape=shape)
    train_labels_node = tf.placeholder(tf.int64, shape=(batch,))
    eval_data = tf.placeholder(data_type(), shape=(FLAGS.eval_batch_size,) + shape[1:])
    model = Model()
    logits = model(train_data_node, True)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=logits, labels=train_labels_node)) + 5e-4 * model.regularizers()
    step_var = tf.Variable(0, dtype=data_type())
    learning_rate = tf.train.exponential_decay(FLAGS.learning_rate, step_var * batch,
                                               train_size, 0.95, staircase=True)
    optimizer = tf.train.MomentumOptimizer(learning_rate, 0.9).minimize(loss,
                                                                        global_step=step_var)
    train_prediction = tf.nn.softmax(logits)
    eval_prediction = tf.nn.softmax(model(eval_data))

    start_time = time.time()
    with tf.Session() as sess:
        tf.initialize_all_variables().run()
        print("Initialized!")
        for step in range(int(FLAGS.num_epochs * train_size) // batch):
            offset = (step * batch) % (train_size - batch + 1)
            feed = {train_data_node: train_data[offset:offset + batch],
                    train_labels_node: train_labels[offset:offset + batch]}
            _, l, lr, predictions = sess.run([optimizer, loss, learning_rate, train_prediction],
                                             feed_dict=feed)
            if step % FLAGS.eval_frequency == 0:
                elapsed = time.time() - start_time
                start_time = time.time()
                print("Step %d (epoch %.2f), %.1f ms" % (
                    step, float(step) * batch / train_size, 1000 * elapsed / FLAGS.eval_frequency))
                print("Minibatch loss: %.3f, learning rate: %.6f" % (l, lr))
                print("Minibatch error: %.1f%%" % error_rate(predictions, feed[train_labels_node]))
                print("Validation error: %.1f%%" % error_rate(
                    eval_in_batches(sess, val_data, eval_prediction, eval_data), val_labels))
                sys.stdout.flush()
        test_error = error_rate(eval_in_batches(sess, test_data, eval_prediction, eval_data),
                                test_labels)
        print("Test error: %.1f%%" % test_error)
        if FLAGS.self_test:
            print("test_error", test_error)
            assert test_error == 0.0, "expected test_error of 0.0 from fake data, got %.2f" % (
                test_error)


if __name__ == "__main__":
    tf.app.run()
