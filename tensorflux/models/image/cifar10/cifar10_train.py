"""Trains the CIFAR-10 model on one CPU, reading batches through the queue input pipeline.

    python examples/cifar10/cifar10_train.py --data_dir DIR [--train_dir DIR]
        [--max_steps 1000000] [--batch_size 128] [--num_reader_threads 16]
        [--log_frequency 10] [--summary_every 100] [--checkpoint_every 1000]
        [--conv_filters 64] [--local3_units 384] [--local4_units 192]

Batches come from a shuffling queue that --num_reader_threads queue-runner threads fill, each
reading CIFAR-10 records (FixedLengthRecordReader over a filename queue) and distorting them.
A Coordinator owns the threads: after the last step (or on an error, or Ctrl-C) the script
asks them to stop, the queues are closed, and it joins every thread before exiting.
"""
import math
import os
import sys
import time
from datetime import datetime


import tensorflux as tf  # noqa: E402 (after the path set-up)

from tensorflux.models.image.cifar10 import cifar10  # noqa: E402

FLAGS = tf.app.flags.FLAGS

tf.app.flags.DEFINE_string("train_dir", "/tmp/cifar10_train",
                           "Directory where to write event logs and checkpoints.")
tf.app.flags.DEFINE_integer("max_steps", 1000000, "Number of batches to run.")
tf.app.flags.DEFINE_boolean("log_device_placement", False, "Whether to log device placement.")
tf.app.flags.DEFINE_integer("log_frequency", 10, "How often to log results to the console.")
tf.app.flags.DEFINE_integer("summary_every", 100, "How often to write summaries.")
tf.app.flags.DEFINE_integer("checkpoint_every", 1000, "How often to save a checkpoint.")
tf.app.flags.DEFINE_integer("seed", None, "Graph-level random seed.")


def _log_step(step, loss_value, duration):
    examples_per_sec = FLAGS.batch_size / duration if duration > 0 else float("inf")
    print("%s: step %d, loss = %.4f (%.1f examples/sec; %.3f sec/batch)"
          % (datetime.now(), step, loss_value, examples_per_sec, duration))
    sys.stdout.flush()


def _stop_threads(coord, threads):
    """Asks the queue-runner threads to stop, joins them and reports how many stopped."""
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=10)
    alive = [t.name for t in threads if t.is_alive()]
    print("Coordinator stopped %d queue-runner threads (%d still alive%s)"
          % (len(threads) - len(alive), len(alive), ": " + ", ".join(alive) if alive else ""))


def _training_loop(sess, train_op, loss, summary_op, summary_writer, saver, coord):
    checkpoint_path = os.path.join(FLAGS.train_dir, "model.ckpt")
    step = 0
    while step < FLAGS.max_steps and not coord.should_stop():
        start_time = time.time()
        _, loss_value = sess.run([train_op, loss])
        duration = time.time() - start_time
        if math.isnan(loss_value):
            raise ValueError("Model diverged with loss = NaN at step %d" % step)
        if step % FLAGS.log_frequency == 0:
            _log_step(step, loss_value, duration)
        if step % FLAGS.summary_every == 0:
            summary_writer.add_summary(sess.run(summary_op), step)
        if (step + 1) % FLAGS.checkpoint_every == 0 or (step + 1) == FLAGS.max_steps:
            saver.save(sess, checkpoint_path, global_step=step + 1)
        step += 1


def train():
    """Builds the graph and trains for FLAGS.max_steps steps."""
    with tf.Graph().as_default():
        if FLAGS.seed is not None:
            tf.set_random_seed(FLAGS.seed)
        global_step = tf.Variable(0, trainable=False, name="global_step")
        images, labels = cifar10.distorted_inputs()
        logits = cifar10.inference(images)
        loss = cifar10.loss(logits, labels)
        train_op = cifar10.train(loss, global_step)
        saver = tf.train.Saver(tf.global_variables())
        summary_op = tf.summary.merge_all()
        init = tf.global_variables_initializer()

        sess = tf.Session(config=tf.ConfigProto(
            log_device_placement=FLAGS.log_device_placement))
        sess.run(init)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        print("Started %d queue-runner threads" % len(threads))
        summary_writer = tf.summary.FileWriter(FLAGS.train_dir, sess.graph)
        try:
            _training_loop(sess, train_op, loss, summary_op, summary_writer, saver, coord)
        except Exception as e:  # noqa: BLE001 - handed to the coordinator, re-raised by join
            coord.request_stop(e)
        finally:
            summary_writer.close()
            _stop_threads(coord, threads)
            sess.close()


def main(argv=None):  # pylint: disable=unused-argument
    cifar10.maybe_download_and_extract()
    if tf.gfile.Exists(FLAGS.train_dir):
        tf.gfile.DeleteRecursively(FLAGS.train_dir)
    tf.gfile.MakeDirs(FLAGS.train_dir)
    train()


if __name__ == "__main__":
    tf.app.run()
