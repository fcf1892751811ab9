"""The CIFAR-10 model of the Convolutional Neural Networks tutorial.

Graph-building functions used by cifar10_train.py and cifar10_eval.py:

  inputs, labels = distorted_inputs()      # training batches, augmented, from a queue
  predictions = inference(inputs)          # conv-pool-norm, conv-norm-pool, 2 local, softmax
  loss = loss(predictions, labels)         # cross-entropy plus weight decay
  train_op = train(loss, global_step)      # SGD with decaying rate, moving averages

The network: two 5x5 convolution layers with ReLU, each with 3x3 max pooling (stride 2) and
local response normalization, two fully connected ReLU layers with L2 weight decay, and a
linear softmax layer. Training keeps exponential moving averages of the losses (for the
summaries) and of every trainable variable (cifar10_eval.py evaluates with the averages).

The data are the binary CIFAR-10 files (cifar-10-batches-bin) under --data_dir; they cannot
be downloaded here, so put them there (or the cifar-10-binary.tar.gz archive, which is
extracted on first use).
"""
import os
import re
import tarfile

import numpy as np

import tensorflux as tf
from tensorflux.models.image.cifar10 import cifar10_input

FLAGS = tf.app.flags.FLAGS

# Basic model parameters.
tf.app.flags.DEFINE_integer("batch_size", 128, "Number of images to process in a batch.")
tf.app.flags.DEFINE_string("data_dir", "/tmp/cifar10_data",
                           "Path to the CIFAR-10 data directory.")
tf.app.flags.DEFINE_boolean("use_fp16", False, "Train the model using fp16.")
# Sizes, for a small configuration (the defaults are the tutorial's).
tf.app.flags.DEFINE_integer("conv_filters", 64, "Feature maps of each convolution layer.")
tf.app.flags.DEFINE_integer("local3_units", 384, "Units of the first fully connected layer.")
tf.app.flags.DEFINE_integer("local4_units", 192, "Units of the second fully connected layer.")
tf.app.flags.DEFINE_integer("num_reader_threads", 16,
                            "Threads reading and preprocessing records into the batch queue.")
tf.app.flags.DEFINE_float("initial_learning_rate", 0.1, "Initial learning rate.")
tf.app.flags.DEFINE_boolean("synthetic_data", False,
                            "If the CIFAR-10 files are missing, write a small learnable "
                            "stand-in in their format (500 training, 200 test images).")

# Global constants describing the CIFAR-10 data set.
IMAGE_SIZE = cifar10_input.IMAGE_SIZE
NUM_CLASSES = cifar10_input.NUM_CLASSES
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL

# Constants describing the training process.
MOVING_AVERAGE_DECAY = 0.9999  # The decay to use for the moving average.
NUM_EPOCHS_PER_DECAY = 350.0  # Epochs after which learning rate decays.
LEARNING_RATE_DECAY_FACTOR = 0.1  # Learning rate decay factor.

# Multi-GPU towers prefix their op names with this; summaries drop it.
TOWER_NAME = "tower"

DATA_SUBDIR = "cifar-10-batches-bin"
ARCHIVE = "cifar-10-binary.tar.gz"


def _activation_summary(x):
    """Summaries of an activation: a histogram and the fraction of zeros (ReLU sparsity)."""
    tensor_name = re.sub("%s_[0-9]*/" % TOWER_NAME, "", x.op.name)
    tf.summary.histogram(tensor_name + "/activations", x)
    tf.summary.scalar(tensor_name + "/sparsity", tf.nn.zero_fraction(x))


def _dtype():
    return tf.float16 if FLAGS.use_fp16 else tf.float32


def _variable_on_cpu(name, shape, initializer):
    """A variable created (or reused) with tf.get_variable, placed in CPU memory."""
    with tf.device("/cpu:0"):
        return tf.get_variable(name, shape, initializer=initializer, dtype=_dtype())


def _variable_with_weight_decay(name, shape, stddev, wd):
    """A truncated-normal initialised variable whose L2 norm (times `wd`) joins the loss.

    Args:
      wd: weight decay coefficient; None adds no decay term.
    """
    var = _variable_on_cpu(name, shape,
                           tf.truncated_normal_initializer(stddev=stddev, dtype=_dtype()))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name="weight_loss")
        tf.add_to_collection("losses", weight_decay)
    return var


def _data_dir():
    return os.path.join(FLAGS.data_dir, DATA_SUBDIR)


def _cast_inputs(images, labels):
    if FLAGS.use_fp16:
        images = tf.cast(images, tf.float16)
    return images, labels


def distorted_inputs():
    """Augmented training batches from the CIFAR-10 training files, through a shuffle queue.

    Returns:
      images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3]; labels: int32 [batch_size].
    """
    return _cast_inputs(*cifar10_input.distorted_inputs(
        data_dir=_data_dir(), batch_size=FLAGS.batch_size,
        num_threads=FLAGS.num_reader_threads))


def inputs(eval_data):
    """Evaluation batches: the central crop, no augmentation.

    Args:
      eval_data: True for the test file, False for the training files.
    """
    return _cast_inputs(*cifar10_input.inputs(
        eval_data=eval_data, data_dir=_data_dir(), batch_size=FLAGS.batch_size,
        num_threads=FLAGS.num_reader_threads))


def _conv_layer(scope_name, inputs, in_channels, out_channels, bias_init):
    with tf.variable_scope(scope_name) as scope:
        kernel = _variable_with_weight_decay("weights", [5, 5, in_channels, out_channels],
                                             stddev=5e-2, wd=0.0)
        conv = tf.nn.conv2d(inputs, kernel, [1, 1, 1, 1], padding="SAME")
        biases = _variable_on_cpu("biases", [out_channels], tf.constant_initializer(bias_init))
        pre_activation = tf.nn.bias_add(conv, biases)
        activation = tf.nn.relu(pre_activation, name=scope.name)
        _activation_summary(activation)
        return activation


def _local_layer(scope_name, inputs, in_units, out_units, stddev, wd, relu=True):
    with tf.variable_scope(scope_name) as scope:
        weights = _variable_with_weight_decay("weights", [in_units, out_units],
                                              stddev=stddev, wd=wd)
        biases = _variable_on_cpu("biases", [out_units],
                                  tf.constant_initializer(0.1 if relu else 0.0))
        if relu:
            result = tf.nn.relu(tf.matmul(inputs, weights) + biases, name=scope.name)
        else:
            result = tf.add(tf.matmul(inputs, weights), biases, name=scope.name)
        _activation_summary(result)
        return result


def _max_pool(inputs, name):
    return tf.nn.max_pool(inputs, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                          name=name)


def _lrn(inputs, name):
    return tf.nn.lrn(inputs, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name=name)


def inference(images):
    """Builds the CIFAR-10 model up to the logits.

    Args:
      images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] from distorted_inputs() or inputs().

    Returns:
      logits: [batch_size, NUM_CLASSES] (unnormalised; the softmax is in loss()).
    """
    filters = FLAGS.conv_filters
    conv1 = _conv_layer("conv1", images, 3, filters, bias_init=0.0)
    norm1 = _lrn(_max_pool(conv1, "pool1"), "norm1")
    conv2 = _conv_layer("conv2", norm1, filters, filters, bias_init=0.1)
    pool2 = _max_pool(_lrn(conv2, "norm2"), "pool2")

    # Flatten each image for the fully connected layers.
    batch_size = images.get_shape()[0].value
    reshape = tf.reshape(pool2, [batch_size, -1])
    dim = reshape.get_shape()[1].value
    local3 = _local_layer("local3", reshape, dim, FLAGS.local3_units, stddev=0.04, wd=0.004)
    local4 = _local_layer("local4", local3, FLAGS.local3_units, FLAGS.local4_units,
                          stddev=0.04, wd=0.004)
    # The linear layer: tf.nn.sparse_softmax_cross_entropy_with_logits applies the softmax.
    return _local_layer("softmax_linear", local4, FLAGS.local4_units, NUM_CLASSES,
                        stddev=1.0 / FLAGS.local4_units, wd=None, relu=False)


def loss(logits, labels):
    """The total loss: mean cross-entropy plus every weight-decay term in "losses".

    Args:
      logits: from inference().
      labels: int32 [batch_size] from distorted_inputs() or inputs().

    Returns:
      the float scalar total loss.
    """
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name="cross_entropy_per_example")
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name="cross_entropy")
    tf.add_to_collection("losses", cross_entropy_mean)
    return tf.add_n(tf.get_collection("losses"), name="total_loss")


def _add_loss_summaries(total_loss):
    """Moving averages of every loss term and of the total, with scalar summaries.

    Returns:
      the op that updates the loss averages.
    """
    loss_averages = tf.train.ExponentialMovingAverage(0.9, name="avg")
    losses = tf.get_collection("losses")
    loss_averages_op = loss_averages.apply(losses + [total_loss])
    for l in losses + [total_loss]:
        # The raw loss as "(raw)", the smoothed one under the loss's own name.
        tf.summary.scalar(l.op.name + " (raw)", l)
        tf.summary.scalar(l.op.name, loss_averages.average(l))
    return loss_averages_op


def train(total_loss, global_step):
    """One training step: SGD with an exponentially decaying rate, then moving averages.

    Args:
      total_loss: from loss().
      global_step: integer Variable counting the training steps.

    Returns:
      train_op: the op to run for one step.
    """
    num_batches_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN / FLAGS.batch_size
    decay_steps = int(num_batches_per_epoch * NUM_EPOCHS_PER_DECAY)
    lr = tf.train.exponential_decay(FLAGS.initial_learning_rate, global_step, decay_steps,
                                    LEARNING_RATE_DECAY_FACTOR, staircase=True)
    tf.summary.scalar("learning_rate", lr)

    loss_averages_op = _add_loss_summaries(total_loss)
    with tf.control_dependencies([loss_averages_op]):
        opt = tf.train.GradientDescentOptimizer(lr)
        grads = opt.compute_gradients(total_loss)
    apply_gradient_op = opt.apply_gradients(grads, global_step=global_step)

    for var in tf.trainable_variables():
        tf.summary.histogram(var.op.name, var)
    for grad, var in grads:
        if grad is not None:
            tf.summary.histogram(var.op.name + "/gradients", grad)

    variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY, global_step)
    variables_averages_op = variable_averages.apply(tf.trainable_variables())
    with tf.control_dependencies([apply_gradient_op, variables_averages_op]):
        train_op = tf.no_op(name="train")
    return train_op


def _class_colours():
    """[10, 3] RGB colours of equal brightness whose hues are 36 degrees apart.

    Per-image standardization removes an image's brightness and scale but keeps its hue, so
    the colours stay distinct after the tutorial's preprocessing.
    """
    hues = 2 * np.pi * np.arange(NUM_CLASSES) / NUM_CLASSES  # [10]
    offsets = np.array([0.0, -2 * np.pi / 3, 2 * np.pi / 3])  # [3]: R, G, B
    return 128.0 + 90.0 * np.cos(hues[:, None] + offsets[None, :])  # [10, 3]


def synthetic_images(num_images, rng):
    """Learnable stand-in images: (uint8 [N, 32, 32, 3], labels [N]).

    Class k has hue k (see _class_colours), striped horizontally with k % 5 + 1 cycles per
    image at a random phase, plus Gaussian noise; crops, flips and the brightness and
    contrast distortions keep classes apart.
    """
    labels = rng.randint(0, NUM_CLASSES, num_images)
    rows = np.arange(32)[None, :] + rng.randint(0, 32, (num_images, 1))  # [N, 32]
    stripes = np.sin(2 * np.pi * (labels % 5 + 1)[:, None] * rows / 32.0)  # [N, 32]
    images = _class_colours()[labels][:, None, None, :] * (0.8 + 0.2 * stripes[:, :, None, None])
    images = images + rng.normal(0.0, 20.0, (num_images, 32, 32, 3))  # [N, 32, 32, 3]
    return np.clip(images, 0, 255).astype(np.uint8), labels


def write_synthetic_data(data_dir, images_per_file=100, seed=0):
    """Writes data_batch_1..5.bin and test_batch.bin (twice as large) of synthetic_images."""
    rng = np.random.RandomState(seed)
    os.makedirs(data_dir, exist_ok=True)
    names = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]
    for name in names:
        count = 2 * images_per_file if name == "test_batch.bin" else images_per_file
        cifar10_input.write_cifar10_binary(os.path.join(data_dir, name),
                                           *synthetic_images(count, rng))


def maybe_download_and_extract():
    """Makes sure the CIFAR-10 binary files are in --data_dir.

    Nothing can be downloaded here: if the files are missing but cifar-10-binary.tar.gz is
    in --data_dir, it is extracted; else with --synthetic_data a learnable stand-in is
    written (see synthetic_images); otherwise this raises.

    Raises:
      ValueError: naming the directory and the files it needs.
    """
    dest = _data_dir()
    if os.path.isdir(dest):
        return
    archive = os.path.join(FLAGS.data_dir, ARCHIVE)
    if os.path.isfile(archive):
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(FLAGS.data_dir, filter="data")
        return
    if FLAGS.synthetic_data:
        print("CIFAR-10 not found in %s: writing a synthetic stand-in there" % FLAGS.data_dir)
        write_synthetic_data(dest)
        return
    raise ValueError("CIFAR-10 data not found: put the binary version (%s/data_batch_1.bin "
                     "... data_batch_5.bin, test_batch.bin) or %s in --data_dir=%s "
                     "(tensorflux cannot download it), or pass --synthetic_data"
                     % (DATA_SUBDIR, ARCHIVE, FLAGS.data_dir))
