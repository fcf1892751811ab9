"""Evaluates the CIFAR-10 model from cifar10_train.py's checkpoints, with moving-average weights.

    python examples/cifar10/cifar10_eval.py --data_dir DIR [--checkpoint_dir DIR]
        [--eval_dir DIR] [--eval_data test|train_eval] [--num_examples 10000]
        [--eval_interval_secs 300] [--run_once]
        (and the model-size flags given to cifar10_train.py)

Each evaluation restores the latest checkpoint into the model's variables from their
exponential moving averages (ExponentialMovingAverage.variables_to_restore), classifies
--num_examples images read through the queue pipeline and prints `precision @ 1`.
"""
import math
import time
from datetime import datetime


import numpy as np  # noqa: E402

import tensorflux as tf  # noqa: E402 (after the path set-up)

from tensorflux.models.image.cifar10 import cifar10  # noqa: E402

FLAGS = tf.app.flags.FLAGS

tf.app.flags.DEFINE_string("eval_dir", "/tmp/cifar10_eval", "Directory where to write event logs.")
tf.app.flags.DEFINE_string("eval_data", "test", "Either 'test' or 'train_eval'.")
tf.app.flags.DEFINE_string("checkpoint_dir", "/tmp/cifar10_train",
                           "Directory where to read model checkpoints.")
tf.app.flags.DEFINE_integer("eval_interval_secs", 60 * 5, "How often to run the eval.")
tf.app.flags.DEFINE_integer("num_examples", 10000, "Number of examples to run.")
tf.app.flags.DEFINE_boolean("run_once", False, "Whether to run eval only once.")


def _restore(sess, saver):
    """Restores the latest checkpoint; returns its global step, or None if there is none."""
    ckpt = tf.train.get_checkpoint_state(FLAGS.checkpoint_dir)
    if not (ckpt and ckpt.model_checkpoint_path):
        print("No checkpoint file found in %s" % FLAGS.checkpoint_dir)
        return None
    saver.restore(sess, ckpt.model_checkpoint_path)
    # The path looks like /my-favorite-path/cifar10_train/model.ckpt-0: the step is last.
    return ckpt.model_checkpoint_path.split("/")[-1].split("-")[-1]


def _count_correct(sess, top_k_op, coord):
    num_iter = math.ceil(FLAGS.num_examples / float(FLAGS.batch_size))
    true_count, step = 0, 0
    while step < num_iter and not coord.should_stop():
        predictions = sess.run([top_k_op])
        true_count += int(np.sum(predictions))
        step += 1
    return true_count, step * FLAGS.batch_size


def eval_once(saver, summary_writer, top_k_op, summary_op):
    """Runs one evaluation of the latest checkpoint.

    Returns:
      precision @ 1 (a float), or None if no checkpoint was found.
    """
    with tf.Session() as sess:
        global_step = _restore(sess, saver)
        if global_step is None:
            return None
        coord = tf.train.Coordinator()
        threads = []
        precision = None
        try:
            for qr in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
                threads.extend(qr.create_threads(sess, coord=coord, daemon=True, start=True))
            true_count, total = _count_correct(sess, top_k_op, coord)
            precision = true_count / float(total)
            print("%s: precision @ 1 = %.3f (%d of %d, checkpoint step %s)"
                  % (datetime.now(), precision, true_count, total, global_step))
            summary_writer.add_summary(sess.run(summary_op), int(global_step))
            summary = tf.Summary()
            summary.value.add(tag="Precision @ 1", simple_value=precision)
            summary_writer.add_summary(summary, int(global_step))
        except Exception as e:  # noqa: BLE001 - handed to the coordinator, re-raised by join
            coord.request_stop(e)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
        return precision


def evaluate():
    """Evaluates CIFAR-10 once, or every --eval_interval_secs unless --run_once."""
    with tf.Graph().as_default() as g:
        eval_data = FLAGS.eval_data == "test"
        images, labels = cifar10.inputs(eval_data=eval_data)
        logits = cifar10.inference(images)
        top_k_op = tf.nn.in_top_k(logits, labels, 1)

        # Restore the moving averages of the trained variables into the model.
        variable_averages = tf.train.ExponentialMovingAverage(cifar10.MOVING_AVERAGE_DECAY)
        saver = tf.train.Saver(variable_averages.variables_to_restore())
        summary_op = tf.summary.merge_all()
        summary_writer = tf.summary.FileWriter(FLAGS.eval_dir, g)
        while True:
            eval_once(saver, summary_writer, top_k_op, summary_op)
            if FLAGS.run_once:
                break
            time.sleep(FLAGS.eval_interval_secs)
        summary_writer.close()


def main(argv=None):  # pylint: disable=unused-argument
    cifar10.maybe_download_and_extract()
    if tf.gfile.Exists(FLAGS.eval_dir):
        tf.gfile.DeleteRecursively(FLAGS.eval_dir)
    tf.gfile.MakeDirs(FLAGS.eval_dir)
    evaluate()


if __name__ == "__main__":
    tf.app.run()
