"""TensorFlow Mechanics 101: trains and evaluates mnist.py's network with placeholders and feeds.

    python examples/fully_connected_feed.py [--max_steps 2000] [--batch_size 100]
        [--learning_rate 0.01] [--hidden1 128] [--hidden2 32] [--input_data_dir DIR]
        [--log_dir DIR] [--checkpoint_every 1000] [--summary_every 100] [--trace_step 100]
        [--detailed_summaries] [--fake_data]

Every --summary_every steps it prints the loss and writes the merged summaries to event files
in --log_dir (view them with `tensorboard --logdir DIR`); step --trace_step runs with full
tracing and its RunMetadata goes to the event file too. --detailed_summaries adds histograms
of every weight and bias and an image summary of the input digits. Every --checkpoint_every
steps, and after the last step, it saves a checkpoint and evaluates on the training,
validation and test sets.

Without the MNIST files in --input_data_dir the loader builds a stand-in from scikit-learn's
8x8 digits (see tensorflux/examples/tutorials/mnist/input_data.py).
"""
import os
import sys
import time

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.examples.tutorials.mnist import input_data  # noqa: E402

from tensorflux.examples.tutorials.mnist import mnist  # noqa: E402

flags = tf.app.flags
FLAGS = flags.FLAGS
flags.DEFINE_float("learning_rate", 0.01, "Initial learning rate.")
flags.DEFINE_integer("max_steps", 2000, "Number of steps to run trainer.")
flags.DEFINE_integer("hidden1", 128, "Number of units in hidden layer 1.")
flags.DEFINE_integer("hidden2", 32, "Number of units in hidden layer 2.")
flags.DEFINE_integer("batch_size", 100, "Batch size. Must divide evenly into the dataset sizes.")
flags.DEFINE_string("input_data_dir", "/tmp/tensorflux/mnist/input_data",
                    "Directory to put the input data.")
flags.DEFINE_string("log_dir", "/tmp/tensorflux/mnist/logs/fully_connected_feed",
                    "Directory to put the log data (event files and checkpoints).")
flags.DEFINE_integer("checkpoint_every", 1000, "Save a checkpoint and evaluate every N steps.")
flags.DEFINE_integer("summary_every", 100, "Print the loss and write summaries every N steps.")
flags.DEFINE_integer("trace_step", 100, "Step to run with full tracing (-1: none).")
flags.DEFINE_boolean("detailed_summaries", False,
                     "Also summarise weight histograms and input images.")
flags.DEFINE_boolean("fake_data", False, "If true, uses fake data for unit testing.")


def placeholder_inputs(batch_size):
    """Placeholders for one batch of images [batch_size, 784] and labels [batch_size]."""
    images_placeholder = tf.placeholder(tf.float32, shape=(batch_size, mnist.IMAGE_PIXELS))
    labels_placeholder = tf.placeholder(tf.int32, shape=(batch_size,))
    return images_placeholder, labels_placeholder


def fill_feed_dict(data_set, images_pl, labels_pl):
    """The feed dict for the next batch of `data_set`: {placeholder: numpy batch}."""
    images_feed, labels_feed = data_set.next_batch(FLAGS.batch_size, FLAGS.fake_data)
    return {images_pl: images_feed, labels_pl: labels_feed}


def do_eval(sess, eval_correct, images_placeholder, labels_placeholder, data_set):
    """Runs one epoch of `data_set` through `eval_correct` and prints the precision.

    Returns:
      the fraction of the evaluated examples classified correctly.
    """
    true_count = 0
    steps_per_epoch = max(data_set.num_examples // FLAGS.batch_size, 1)
    num_examples = steps_per_epoch * FLAGS.batch_size
    for _ in range(steps_per_epoch):
        feed_dict = fill_feed_dict(data_set, images_placeholder, labels_placeholder)
        true_count += sess.run(eval_correct, feed_dict=feed_dict)
    precision = float(true_count) / num_examples
    print("  Num examples: %d  Num correct: %d  Precision @ 1: %0.04f"
          % (num_examples, true_count, precision))
    return precision


def add_detailed_summaries(images_placeholder):
    """Histograms of every trainable variable and an image summary of the input digits."""
    for var in tf.trainable_variables():
        tf.summary.histogram(var.op.name, var)
    digits = tf.reshape(images_placeholder, [-1, mnist.IMAGE_SIZE, mnist.IMAGE_SIZE, 1])
    tf.summary.image("input", digits, max_outputs=3)


def _traced_step(sess, fetches, feed_dict, summary_writer, step):
    """Runs one step with FULL_TRACE and writes its RunMetadata to the event file."""
    run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    run_metadata = tf.RunMetadata()
    results = sess.run(fetches, feed_dict=feed_dict, options=run_options,
                       run_metadata=run_metadata)
    summary_writer.add_run_metadata(run_metadata, "step%d" % step, global_step=step)
    return results


def _evaluate_all(sess, eval_correct, images_placeholder, labels_placeholder, data_sets):
    precisions = {}
    for name in ("train", "validation", "test"):
        print("%s Data Eval:" % name.capitalize())
        precisions[name] = do_eval(sess, eval_correct, images_placeholder,
                                   labels_placeholder, getattr(data_sets, name))
    return precisions


def run_training():
    """Trains mnist.py's model for FLAGS.max_steps steps.

    Returns:
      dict with "losses" ({step: loss} at every summary step) and the last evaluation's
      precision on "train", "validation" and "test".
    """
    data_sets = input_data.read_data_sets(FLAGS.input_data_dir, FLAGS.fake_data)
    with tf.Graph().as_default():
        images_placeholder, labels_placeholder = placeholder_inputs(FLAGS.batch_size)
        logits = mnist.inference(images_placeholder, FLAGS.hidden1, FLAGS.hidden2)
        loss = mnist.loss(logits, labels_placeholder)
        train_op = mnist.training(loss, FLAGS.learning_rate)
        eval_correct = mnist.evaluation(logits, labels_placeholder)
        if FLAGS.detailed_summaries:
            add_detailed_summaries(images_placeholder)
        summary = tf.summary.merge_all()
        init = tf.global_variables_initializer()
        saver = tf.train.Saver()
        sess = tf.Session()
        summary_writer = tf.summary.FileWriter(FLAGS.log_dir, sess.graph)
        sess.run(init)

        losses, precisions = {}, {}
        for step in range(FLAGS.max_steps):
            start_time = time.time()
            feed_dict = fill_feed_dict(data_sets.train, images_placeholder, labels_placeholder)
            if step == FLAGS.trace_step:
                _, loss_value = _traced_step(sess, [train_op, loss], feed_dict,
                                             summary_writer, step)
            else:
                _, loss_value = sess.run([train_op, loss], feed_dict=feed_dict)
            duration = time.time() - start_time

            if step % FLAGS.summary_every == 0:
                losses[step] = float(loss_value)
                print("Step %d: loss = %.4f (%.3f sec)" % (step, loss_value, duration))
                summary_str = sess.run(summary, feed_dict=feed_dict)
                summary_writer.add_summary(summary_str, step)
                summary_writer.flush()

            if (step + 1) % FLAGS.checkpoint_every == 0 or (step + 1) == FLAGS.max_steps:
                checkpoint_file = os.path.join(FLAGS.log_dir, "model.ckpt")
                saver.save(sess, checkpoint_file, global_step=step)
                precisions = _evaluate_all(sess, eval_correct, images_placeholder,
                                           labels_placeholder, data_sets)
        summary_writer.close()
        sess.close()
    return dict(precisions, losses=losses)


def main(_):
    if tf.gfile.Exists(FLAGS.log_dir):
        tf.gfile.DeleteRecursively(FLAGS.log_dir)
    tf.gfile.MakeDirs(FLAGS.log_dir)
    run_training()


if __name__ == "__main__":
    tf.app.run()
