"""Binary for training translation models and decoding from them (the "Sequence-to-Sequence
Models" tutorial), on tensorflux.

Training reads the WMT'15 English-French data through data_utils (tokenize, build vocabularies,
map to ids), puts each sentence pair into the smallest bucket that fits, and trains a
Seq2SeqModel forever (or --max_train_steps), printing perplexity and saving a checkpoint every
--steps_per_checkpoint steps and lowering the learning rate when the loss stops falling.

    python examples/translate/translate.py --data_dir [data] --train_dir [train]
    python examples/translate/translate.py --decode --data_dir [data] --train_dir [train]
    python examples/translate/translate.py --self_test

--self_test needs no data: it trains a small model with two buckets on generated sequences
whose target is the source reversed (--self_test_task=copy: the source itself), then decodes
fresh sequences greedily and prints the token accuracy next to chance.
"""
import math
import os
import random
import sys
import time

import numpy as np


import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.models.rnn.translate import seq2seq_model  # noqa: E402

tf.app.flags.DEFINE_float("learning_rate", 0.5, "Learning rate.")
tf.app.flags.DEFINE_float("learning_rate_decay_factor", 0.99,
                          "Learning rate decays by this much.")
tf.app.flags.DEFINE_float("max_gradient_norm", 5.0, "Clip gradients to this norm.")
tf.app.flags.DEFINE_integer("batch_size", 64, "Batch size to use during training.")
tf.app.flags.DEFINE_integer("size", 1024, "Size of each model layer.")
tf.app.flags.DEFINE_integer("num_layers", 3, "Number of layers in the model.")
tf.app.flags.DEFINE_integer("en_vocab_size", 40000, "English vocabulary size.")
tf.app.flags.DEFINE_integer("fr_vocab_size", 40000, "French vocabulary size.")
tf.app.flags.DEFINE_integer("num_samples", 512, "Classes sampled by the sampled softmax.")
tf.app.flags.DEFINE_boolean("use_lstm", False, "BasicLSTMCell instead of GRUCell.")
tf.app.flags.DEFINE_string("data_dir", "/tmp", "Data directory")
tf.app.flags.DEFINE_string("train_dir", "/tmp", "Training directory.")
tf.app.flags.DEFINE_integer("max_train_data_size", 0,
                            "Limit on the size of training data (0: no limit).")
tf.app.flags.DEFINE_integer("steps_per_checkpoint", 200,
                            "How many training steps to do per checkpoint.")
tf.app.flags.DEFINE_integer("max_train_steps", 0, "Stop training after this many (0: never).")
tf.app.flags.DEFINE_boolean("decode", False, "Set to True for interactive decoding.")
tf.app.flags.DEFINE_boolean("self_test", False, "Run a self-test if this is set to True.")
tf.app.flags.DEFINE_string("self_test_task", "reverse", "reverse or copy.")
tf.app.flags.DEFINE_integer("self_test_steps", 600, "Training steps of the self-test.")
tf.app.flags.DEFINE_integer("self_test_size", 48, "Layer size of the self-test model.")
tf.app.flags.DEFINE_integer("seed", 0, "Random seed (graph level, Python and numpy).")
FLAGS = tf.app.flags.FLAGS

# We use a number of buckets and pad to the closest one for efficiency.
_buckets = [(5, 10), (10, 15), (20, 25), (40, 50)]


def read_data(source_path, target_path, max_size=None):
    """Reads id files (one space-separated sentence per line) into one list per bucket.

    data_set[n] holds (source ids, target ids + [EOS]) pairs with len(source) < _buckets[n][0]
    and len(target) < _buckets[n][1] that fit no smaller bucket.
    """
    data_set = [[] for _ in _buckets]
    with tf.gfile.GFile(source_path, mode="r") as source_file:
        with tf.gfile.GFile(target_path, mode="r") as target_file:
            counter = 0
            for source, target in zip(source_file, target_file):
                if max_size and counter >= max_size:
                    break
                counter += 1
                if counter % 100000 == 0:
                    print("  reading data line %d" % counter)
                    sys.stdout.flush()
                source_ids = [int(x) for x in source.split()]
                target_ids = [int(x) for x in target.split()] + [seq2seq_model.EOS_ID]
                for bucket_id, (source_size, target_size) in enumerate(_buckets):
                    if len(source_ids) < source_size and len(target_ids) < target_size:
                        data_set[bucket_id].append([source_ids, target_ids])
                        break
    return data_set


def create_model(session, forward_only):
    """Creates the translation model and restores its parameters from --train_dir if saved."""
    model = seq2seq_model.Seq2SeqModel(
        FLAGS.en_vocab_size, FLAGS.fr_vocab_size, _buckets, FLAGS.size, FLAGS.num_layers,
        FLAGS.max_gradient_norm, FLAGS.batch_size, FLAGS.learning_rate,
        FLAGS.learning_rate_decay_factor, use_lstm=FLAGS.use_lstm,
        num_samples=FLAGS.num_samples, forward_only=forward_only)
    ckpt = tf.train.get_checkpoint_state(FLAGS.train_dir)
    if ckpt and ckpt.model_checkpoint_path:
        print("Reading model parameters from %s" % ckpt.model_checkpoint_path)
        model.saver.restore(session, ckpt.model_checkpoint_path)
    else:
        print("Created model with fresh parameters.")
        session.run(tf.initialize_all_variables())
    return model


def _bucket_scale(train_set):
    """Cumulative fractions of the training pairs per bucket, to pick buckets by size."""
    sizes = [len(bucket) for bucket in train_set]
    total = float(sum(sizes))
    if total == 0:
        raise ValueError("No training pair fits the buckets")
    return [sum(sizes[:i + 1]) / total for i in range(len(sizes))]


def _pick_bucket(scale):
    r = random.random()
    return min(i for i in range(len(scale)) if scale[i] > r)


def train():
    """Trains an English->French translation model on WMT data."""
    from tensorflux.models.rnn.translate import data_utils
    print("Preparing WMT data in %s" % FLAGS.data_dir)
    en_train, fr_train, en_dev, fr_dev, _, _ = data_utils.prepare_wmt_data(
        FLAGS.data_dir, FLAGS.en_vocab_size, FLAGS.fr_vocab_size)

    with tf.Session() as sess:
        tf.set_random_seed(FLAGS.seed)
        print("Creating %d layers of %d units." % (FLAGS.num_layers, FLAGS.size))
        model = create_model(sess, False)

        print("Reading development and training data (limit: %d)." % FLAGS.max_train_data_size)
        dev_set = read_data(en_dev, fr_dev)
        train_set = read_data(en_train, fr_train, FLAGS.max_train_data_size)
        train_buckets_scale = _bucket_scale(train_set)

        step_time, loss = 0.0, 0.0
        current_step = 0
        previous_losses = []
        while not FLAGS.max_train_steps or current_step < FLAGS.max_train_steps:
            bucket_id = _pick_bucket(train_buckets_scale)
            start_time = time.time()
            encoder_inputs, decoder_inputs, target_weights = model.get_batch(train_set, bucket_id)
            _, step_loss, _ = model.step(sess, encoder_inputs, decoder_inputs, target_weights,
                                         bucket_id, False)
            step_time += (time.time() - start_time) / FLAGS.steps_per_checkpoint
            loss += step_loss / FLAGS.steps_per_checkpoint
            current_step += 1

            if current_step % FLAGS.steps_per_checkpoint == 0:
                perplexity = math.exp(loss) if loss < 300 else float("inf")
                print("global step %d learning rate %.4f step-time %.2f perplexity %.2f"
                      % (model.global_step.eval(), model.learning_rate.eval(), step_time,
                         perplexity))
                # Decrease the learning rate if no improvement over the last 3 times.
                if len(previous_losses) > 2 and loss > max(previous_losses[-3:]):
                    sess.run(model.learning_rate_decay_op)
                previous_losses.append(loss)
                checkpoint_path = os.path.join(FLAGS.train_dir, "translate.ckpt")
                model.saver.save(sess, checkpoint_path, global_step=model.global_step)
                step_time, loss = 0.0, 0.0
                _evaluate_dev(sess, model, dev_set)
                sys.stdout.flush()


def _evaluate_dev(sess, model, dev_set):
    for bucket_id in range(len(_buckets)):
        if not dev_set[bucket_id]:
            print("  eval: empty bucket %d" % bucket_id)
            continue
        encoder_inputs, decoder_inputs, target_weights = model.get_batch(dev_set, bucket_id)
        _, eval_loss, _ = model.step(sess, encoder_inputs, decoder_inputs, target_weights,
                                     bucket_id, True)
        eval_ppx = math.exp(eval_loss) if eval_loss < 300 else float("inf")
        print("  eval: bucket %d perplexity %.2f" % (bucket_id, eval_ppx))


def _as_str(word):
    return word.decode("utf-8") if isinstance(word, bytes) else word


def decode():
    """Translates English sentences read from stdin, one per line, greedily."""
    from tensorflux.models.rnn.translate import data_utils
    with tf.Session() as sess:
        model = create_model(sess, True)
        model.batch_size = 1  # We decode one sentence at a time.
        en_vocab, _ = data_utils.initialize_vocabulary(
            os.path.join(FLAGS.data_dir, "vocab%d.en" % FLAGS.en_vocab_size))
        _, rev_fr_vocab = data_utils.initialize_vocabulary(
            os.path.join(FLAGS.data_dir, "vocab%d.fr" % FLAGS.fr_vocab_size))
        sys.stdout.write("> ")
        sys.stdout.flush()
        sentence = sys.stdin.readline()
        while sentence:
            token_ids = data_utils.sentence_to_token_ids(sentence, en_vocab)
            fits = [b for b in range(len(_buckets)) if _buckets[b][0] > len(token_ids)]
            if not fits:
                print("Sentence truncated: %s" % sentence.strip())
                token_ids = token_ids[:_buckets[-1][0] - 1]
                fits = [len(_buckets) - 1]
            bucket_id = min(fits)
            encoder_inputs, decoder_inputs, target_weights = model.get_batch(
                {bucket_id: [(token_ids, [])]}, bucket_id)
            _, _, output_logits = model.step(sess, encoder_inputs, decoder_inputs,
                                             target_weights, bucket_id, True)
            outputs = [int(np.argmax(logit, axis=1)[0]) for logit in output_logits]
            if seq2seq_model.EOS_ID in outputs:
                outputs = outputs[:outputs.index(seq2seq_model.EOS_ID)]
            print(" ".join(_as_str(rev_fr_vocab[output]) for output in outputs))
            print("> ", end="")
            sys.stdout.flush()
            sentence = sys.stdin.readline()


# ---- the self-test: a generated reverse/copy task -----------------------------------------
_SELF_TEST_BUCKETS = [(3, 5), (6, 8)]
_SELF_TEST_SYMBOLS = 10  # ids 4..13 after the four special symbols


def _self_test_pairs(count, task, rng):
    """(source, target + [EOS]) pairs of 1..6 symbols; the target reverses or copies."""
    first = seq2seq_model.UNK_ID + 1
    pairs = [[] for _ in _SELF_TEST_BUCKETS]
    for _ in range(count):
        length = rng.randint(1, _SELF_TEST_BUCKETS[-1][0])
        source = [rng.randint(first, first + _SELF_TEST_SYMBOLS - 1) for _ in range(length)]
        target = (source[::-1] if task == "reverse" else list(source)) + [seq2seq_model.EOS_ID]
        bucket_id = 0 if length <= _SELF_TEST_BUCKETS[0][0] else 1
        pairs[bucket_id].append((source, target))
    return pairs


def _token_accuracy(sess, model, data, bucket_id, batches=4):
    """Fraction of target tokens (EOS included) that greedy decoding gets right."""
    right = total = 0
    for _ in range(batches):
        encoder_inputs, decoder_inputs, target_weights = model.get_batch(data, bucket_id)
        _, _, output_logits = model.step(sess, encoder_inputs, decoder_inputs, target_weights,
                                         bucket_id, True)
        predicted = np.array([np.argmax(logits, axis=1) for logits in output_logits])
        targets = np.array(decoder_inputs[1:] + [np.zeros_like(decoder_inputs[0])])
        weights = np.array(target_weights) > 0
        right += int(np.sum((predicted == targets) & weights))
        total += int(np.sum(weights))
    return right / float(total)


def self_test():
    """Trains a small bucketed model on a generated task and checks greedy decoding."""
    task = FLAGS.self_test_task
    if task not in ("reverse", "copy"):
        raise ValueError("--self_test_task must be reverse or copy; got %r" % task)
    rng = random.Random(FLAGS.seed)
    random.seed(FLAGS.seed)
    vocab = seq2seq_model.UNK_ID + 1 + _SELF_TEST_SYMBOLS
    train_set = _self_test_pairs(2000, task, rng)
    test_set = _self_test_pairs(400, task, rng)
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(FLAGS.seed)
        print("Self-test: %s task, buckets %s, %d symbols" % (task, _SELF_TEST_BUCKETS,
                                                              _SELF_TEST_SYMBOLS))
        # Sampled softmax (8 of 14 classes) and an output projection, as in a real model.
        args = (vocab, vocab, _SELF_TEST_BUCKETS, FLAGS.self_test_size, 1, 5.0, 32, 0.5, 0.9)
        with tf.variable_scope("self_test"):
            model = seq2seq_model.Seq2SeqModel(*args, num_samples=8)
        with tf.variable_scope("self_test", reuse=True):
            decoder = seq2seq_model.Seq2SeqModel(*args, num_samples=8, forward_only=True)
        sess.run(tf.initialize_all_variables())
        scale = _bucket_scale(train_set)
        report = max(FLAGS.self_test_steps // 6, 1)
        loss, previous_losses = 0.0, []
        for step in range(1, FLAGS.self_test_steps + 1):
            bucket_id = _pick_bucket(scale)
            batch = model.get_batch(train_set, bucket_id)
            _, step_loss, _ = model.step(sess, *batch, bucket_id=bucket_id, forward_only=False)
            loss += step_loss / report
            if step % report == 0:
                print("self_test: step %d learning rate %.4f perplexity %.3f"
                      % (step, model.learning_rate.eval(), math.exp(min(loss, 300))))
                if len(previous_losses) > 2 and loss > max(previous_losses[-3:]):
                    sess.run(model.learning_rate_decay_op)
                previous_losses.append(loss)
                loss = 0.0
        accuracy = np.mean([_token_accuracy(sess, decoder, test_set, b)
                            for b in range(len(_SELF_TEST_BUCKETS))])
        print("self_test: greedy token accuracy %.3f (chance %.3f)"
              % (accuracy, 1.0 / (_SELF_TEST_SYMBOLS + 1)))
    return accuracy


def main(_):
    if FLAGS.self_test:
        self_test()
    elif FLAGS.decode:
        decode()
    else:
        train()


if __name__ == "__main__":
    tf.app.run()
