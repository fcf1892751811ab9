"""The model of TensorFlow Mechanics 101: a two-hidden-layer network over MNIST pixels.

The tutorial splits building the graph into four functions, each used by
fully_connected_feed.py:

  inference()  - the forward pass up to the logits;
  loss()       - the cross-entropy between logits and labels;
  training()   - the ops that minimise the loss by gradient descent;
  evaluation() - how many images of a batch are classified correctly.
"""
import math

import tensorflux as tf

# The MNIST dataset has 10 classes, the digits 0 through 9.
NUM_CLASSES = 10

# MNIST images are 28x28 pixels in one channel, fed as flat rows of 784 floats.
IMAGE_SIZE = 28
IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE


def _relu_layer(inputs, fan_in, fan_out, scope_name, activation=tf.nn.relu):
    """One fully connected layer under its own name scope: weights, biases, activation."""
    with tf.name_scope(scope_name):
        weights = tf.Variable(
            tf.truncated_normal([fan_in, fan_out], stddev=1.0 / math.sqrt(float(fan_in))),
            name="weights")
        biases = tf.Variable(tf.zeros([fan_out]), name="biases")
        pre_activation = tf.matmul(inputs, weights) + biases
        return pre_activation if activation is None else activation(pre_activation)


def inference(images, hidden1_units, hidden2_units):
    """Builds the model as far as it is needed for predictions.

    Args:
      images: float placeholder [batch_size, IMAGE_PIXELS].
      hidden1_units: size of the first hidden layer.
      hidden2_units: size of the second hidden layer.

    Returns:
      softmax_linear: the logits tensor [batch_size, NUM_CLASSES].
    """
    hidden1 = _relu_layer(images, IMAGE_PIXELS, hidden1_units, "hidden1")
    hidden2 = _relu_layer(hidden1, hidden1_units, hidden2_units, "hidden2")
    return _relu_layer(hidden2, hidden2_units, NUM_CLASSES, "softmax_linear", activation=None)


def loss(logits, labels):
    """Mean cross-entropy of `logits` against the integer `labels`.

    Args:
      logits: float tensor [batch_size, NUM_CLASSES] from inference().
      labels: int32 tensor [batch_size] of class ids.

    Returns:
      loss: float scalar tensor.
    """
    labels = tf.to_int64(labels)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=logits, labels=labels, name="xentropy")
    return tf.reduce_mean(cross_entropy, name="xentropy_mean")


def training(loss, learning_rate):
    """Adds a loss summary and the gradient-descent step that minimises `loss`.

    The op returned is what fully_connected_feed.py runs once per step; it also increments
    a `global_step` counter used to number checkpoints and summaries.

    Args:
      loss: scalar loss tensor from loss().
      learning_rate: the gradient descent learning rate.

    Returns:
      train_op: the op to run for one training step.
    """
    tf.summary.scalar("loss", loss)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate)
    global_step = tf.Variable(0, name="global_step", trainable=False)
    return optimizer.minimize(loss, global_step=global_step)


def evaluation(logits, labels):
    """How many of the batch's images are classified correctly.

    Args:
      logits: float tensor [batch_size, NUM_CLASSES].
      labels: int32 tensor [batch_size] of class ids.

    Returns:
      int32 scalar: the number of examples whose top logit is the true label.
    """
    correct = tf.nn.in_top_k(logits, labels, 1)
    return tf.reduce_sum(tf.cast(correct, tf.int32))
