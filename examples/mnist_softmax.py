"""The beginners' MNIST softmax regression from the 2016 TensorFlow talk, run on tensorflux.

The model code between the two rule lines in main() is the talk's slides ("Example TensorFlow
fragment", "Symbolic Differentiation", "Define graph and then execute it repeatedly"), verbatim
except for the imports (tensorflux for tensorflow) and three literals taken from the flags,
whose defaults are the slides' values ('MNIST_data', 0.01, 1000). The evaluation after it is the tutorial's standard accuracy check.

    python examples/mnist_softmax.py [--data_dir MNIST_data] [--steps 1000] [--learning_rate 0.01]
                                     [--export_dir DIR]

--export_dir writes the trained model as a SavedModel (saved_model.pb + variables/) with the
signatures TensorFlow Serving's MNIST tutorial uses: "predict_images" (and "serving_default"),
inputs "images" [None, 784], outputs "scores" [None, 10]. `saved_model_cli show --all --dir DIR`
lists them; see examples/README.md. DIR may be any fsspec URL (gs://, s3://, ...).

Without the four MNIST files in --data_dir, the loader builds a stand-in from scikit-learn's
8x8 digits (see tensorflux/examples/tutorials/mnist/input_data.py).
"""
import argparse
import os
import sys

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.examples.tutorials.mnist import input_data  # noqa: E402

SLIDE_LEARNING_RATE = 0.01


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="MNIST_data",
                        help="directory holding (or receiving) the MNIST IDX files")
    parser.add_argument("--steps", type=int, default=1000, help="training steps (slide: 1000)")
    parser.add_argument("--learning_rate", type=float, default=SLIDE_LEARNING_RATE,
                        help="gradient descent learning rate (slide: 0.01)")
    parser.add_argument("--export_dir", default=None,
                        help="write the trained model here as a SavedModel (must not exist)")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains the model and returns its test accuracy (also printed)."""
    flags = parse_args(argv)
    # ---- the slides, with the data directory, learning rate and step count from the flags ----
    mnist = input_data.read_data_sets(flags.data_dir, one_hot=True)
    x = tf.placeholder("float", shape=[None, 784])
    W = tf.Variable(tf.zeros([784,10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)

    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y))
    opt = tf.train.GradientDescentOptimizer(flags.learning_rate)
    train_op = opt.minimize(cross_entropy)

    # The "Symbolic Differentiation" slide names the training op `train_op`; the next slide
    # runs it as `train_step`. Both mean the same op, so bind the second name to it.
    train_step = train_op

    init = tf.initialize_all_variables()
    sess = tf.Session()
    sess.run(init)
    for i in range(flags.steps):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
    # ----------------------------------------------------------------------------------------

    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    result = sess.run(accuracy, feed_dict={x: mnist.test.images, y_: mnist.test.labels})
    print("test accuracy: %.4f" % result)
    if flags.export_dir:
        export(sess, x, y, flags.export_dir)
    sess.close()
    return float(result)


def export(sess, x, y, export_dir):
    """The TF 1.0 SavedModel export of TensorFlow Serving's mnist_saved_model.py."""
    builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
    signature = tf.saved_model.signature_def_utils.build_signature_def(
        inputs={"images": tf.saved_model.utils.build_tensor_info(x)},
        outputs={"scores": tf.saved_model.utils.build_tensor_info(y)},
        method_name=tf.saved_model.signature_constants.PREDICT_METHOD_NAME)
    builder.add_meta_graph_and_variables(
        sess, [tf.saved_model.tag_constants.SERVING],
        signature_def_map={
            "predict_images": signature,
            tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature})
    builder.save()
    print("exported the model to %s" % export_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
