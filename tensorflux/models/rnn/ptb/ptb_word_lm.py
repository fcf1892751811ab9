"""Word-level language model on the Penn Tree Bank (the "Recurrent Neural Networks" tutorial).

A multi-layer LSTM (MultiRNNCell of BasicLSTMCell, dropout between layers) reads num_steps
words at a time and predicts each next word; training is truncated backpropagation through
time with gradients clipped by their global norm and a learning rate that decays (by assigning
a new value to a variable) after max_epoch epochs. Prints train/valid perplexity per epoch and
the test perplexity at the end.

    python examples/ptb_word_lm.py --data_path=simple-examples/data --model=small

--model is small, medium, large, test or tiny (tiny: the small configuration scaled down to run
in seconds). --rnn_mode=static unrolls with tf.nn.rnn; --rnn_mode=dynamic uses tf.nn.dynamic_rnn.
When --data_path has no ptb.{train,valid,test}.txt (this machine cannot download PTB), the
example writes a generated PTB-format corpus with learnable word patterns there and uses it.
"""
import os
import time

import numpy as np


import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.models.rnn.ptb import reader  # noqa: E402

flags = tf.flags
logging = tf.logging

flags.DEFINE_string("model", "small", "A type of model: small, medium, large, test or tiny.")
flags.DEFINE_string("data_path", "ptb_data", "Directory holding ptb.{train,valid,test}.txt.")
flags.DEFINE_string("rnn_mode", "static", "static (tf.nn.rnn) or dynamic (tf.nn.dynamic_rnn).")
flags.DEFINE_integer("max_max_epoch", 0, "If > 0, overrides the configuration's epoch count.")
flags.DEFINE_integer("seed", 0, "Graph-level random seed.")
FLAGS = flags.FLAGS


class PTBModel(object):
    """The PTB model: embedding, stacked LSTM, softmax, clipped SGD."""

    def __init__(self, is_training, config):
        self.batch_size = batch_size = config.batch_size
        self.num_steps = num_steps = config.num_steps
        size = config.hidden_size
        vocab_size = config.vocab_size

        self._input_data = tf.placeholder(tf.int32, [batch_size, num_steps])
        self._targets = tf.placeholder(tf.int32, [batch_size, num_steps])

        # forget_bias=0.0 as in the tutorial; a fresh cell object per layer.
        def lstm_cell():
            cell = tf.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)
            if is_training and config.keep_prob < 1:
                cell = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=config.keep_prob)
            return cell
        cell = tf.nn.rnn_cell.MultiRNNCell([lstm_cell() for _ in range(config.num_layers)],
                                           state_is_tuple=True)
        self._initial_state = cell.zero_state(batch_size, tf.float32)

        with tf.device("/cpu:0"):
            embedding = tf.get_variable("embedding", [vocab_size, size])
            inputs = tf.nn.embedding_lookup(embedding, self._input_data)
        if is_training and config.keep_prob < 1:
            inputs = tf.nn.dropout(inputs, config.keep_prob)

        if FLAGS.rnn_mode == "dynamic":
            outputs, state = tf.nn.dynamic_rnn(cell, inputs,
                                               initial_state=self._initial_state)
            output = tf.reshape(outputs, [-1, size])
        else:
            # Unrolled: one [batch, size] input per time step.
            inputs = [inputs[:, time_step, :] for time_step in range(num_steps)]
            outputs, state = tf.nn.rnn(cell, inputs, initial_state=self._initial_state)
            output = tf.reshape(tf.concat(1, outputs), [-1, size])

        softmax_w = tf.get_variable("softmax_w", [size, vocab_size])
        softmax_b = tf.get_variable("softmax_b", [vocab_size])
        logits = tf.matmul(output, softmax_w) + softmax_b
        loss = tf.nn.seq2seq.sequence_loss_by_example(
            [logits], [tf.reshape(self._targets, [-1])],
            [tf.ones([batch_size * num_steps])])
        self._cost = cost = tf.reduce_sum(loss) / batch_size
        self._final_state = state

        if not is_training:
            return

        self._lr = tf.Variable(0.0, trainable=False)
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(cost, tvars), config.max_grad_norm)
        optimizer = tf.train.GradientDescentOptimizer(self._lr)
        self._train_op = optimizer.apply_gradients(zip(grads, tvars))
        self._new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self._lr_update = tf.assign(self._lr, self._new_lr)

    def assign_lr(self, session, lr_value):
        session.run(self._lr_update, feed_dict={self._new_lr: lr_value})

    @property
    def input_data(self):
        return self._input_data

    @property
    def targets(self):
        return self._targets

    @property
    def initial_state(self):
        return self._initial_state

    @property
    def cost(self):
        return self._cost

    @property
    def final_state(self):
        return self._final_state

    @property
    def lr(self):
        return self._lr

    @property
    def train_op(self):
        return self._train_op


class SmallConfig(object):
    """Small config."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 20
    hidden_size = 200
    max_epoch = 4
    max_max_epoch = 13
    keep_prob = 1.0
    lr_decay = 0.5
    batch_size = 20
    vocab_size = 10000


class MediumConfig(object):
    """Medium config."""
    init_scale = 0.05
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 35
    hidden_size = 650
    max_epoch = 6
    max_max_epoch = 39
    keep_prob = 0.5
    lr_decay = 0.8
    batch_size = 20
    vocab_size = 10000


class LargeConfig(object):
    """Large config."""
    init_scale = 0.04
    learning_rate = 1.0
    max_grad_norm = 10
    num_layers = 2
    num_steps = 35
    hidden_size = 1500
    max_epoch = 14
    max_max_epoch = 55
    keep_prob = 0.35
    lr_decay = 1 / 1.15
    batch_size = 20
    vocab_size = 10000


class TestConfig(object):
    """Tiny config, for testing."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 1
    num_layers = 1
    num_steps = 2
    hidden_size = 2
    max_epoch = 1
    max_max_epoch = 1
    keep_prob = 1.0
    lr_decay = 0.5
    batch_size = 20
    vocab_size = 10000


class TinyConfig(object):
    """The small model scaled down (2 layers, dropout, decay) to learn a small corpus in seconds."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 10
    hidden_size = 48
    max_epoch = 3
    max_max_epoch = 6
    keep_prob = 0.9
    lr_decay = 0.5
    batch_size = 10
    vocab_size = 10000


CONFIGS = {"small": SmallConfig, "medium": MediumConfig, "large": LargeConfig,
           "test": TestConfig, "tiny": TinyConfig}


def _state_feed(model, state):
    """Feeds a previous state (nested tuples of arrays) into the model's initial-state tensors."""
    feed = {}
    for tensor, value in zip(_flatten(model.initial_state), _flatten(state)):
        feed[tensor] = value
    return feed


def _flatten(structure):
    if isinstance(structure, (tuple, list)):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def run_epoch(session, m, data, eval_op, verbose=False):
    """Runs the model on the given data; returns its perplexity."""
    epoch_size = ((len(data) // m.batch_size) - 1) // m.num_steps
    start_time = time.time()
    costs = 0.0
    iters = 0
    state = session.run(m.initial_state)
    for step, (x, y) in enumerate(reader.ptb_iterator(data, m.batch_size, m.num_steps)):
        feed_dict = {m.input_data: x, m.targets: y}
        feed_dict.update(_state_feed(m, state))
        cost, state, _ = session.run([m.cost, m.final_state, eval_op], feed_dict)
        costs += cost
        iters += m.num_steps
        if verbose and epoch_size >= 10 and step % (epoch_size // 10) == 10:
            print("%.3f perplexity: %.3f speed: %.0f wps" %
                  (step * 1.0 / epoch_size, np.exp(costs / iters),
                   iters * m.batch_size / (time.time() - start_time)))
    return np.exp(costs / max(iters, 1))


def get_config():
    if FLAGS.model not in CONFIGS:
        raise ValueError("--model must be one of %s; got %r" % (sorted(CONFIGS), FLAGS.model))
    if FLAGS.rnn_mode not in ("static", "dynamic"):
        raise ValueError("--rnn_mode must be static or dynamic; got %r" % FLAGS.rnn_mode)
    config = CONFIGS[FLAGS.model]()
    if FLAGS.max_max_epoch > 0:
        config.max_max_epoch = FLAGS.max_max_epoch
    return config


# A generated stand-in for PTB: sentences from a small grammar, so the next word is predictable.
_SUBJECTS = ["the cat", "a dog", "the bird", "my friend", "the teacher", "a farmer"]
_VERBS = {"the cat": "sleeps", "a dog": "barks", "the bird": "sings", "my friend": "reads",
          "the teacher": "writes", "a farmer": "works"}
_PLACES = ["in the house", "on the hill", "near the river", "at the market", "by the road"]
_TIMES = ["every day", "at night", "in the morning", "on monday"]


def write_synthetic_ptb(data_path, seed=0, sentences=(2500, 200, 100)):
    """Writes ptb.{train,valid,test}.txt: one sentence per line, tokens space-separated."""
    rng = np.random.default_rng(seed)
    os.makedirs(data_path, exist_ok=True)
    for split, count in zip(("train", "valid", "test"), sentences):
        lines = []
        for _ in range(count):
            subject = _SUBJECTS[rng.integers(len(_SUBJECTS))]
            words = [subject, _VERBS[subject], _PLACES[rng.integers(len(_PLACES))]]
            if rng.random() < 0.5:
                words.append(_TIMES[rng.integers(len(_TIMES))])
            lines.append(" " + " ".join(words) + " \n")
        with open(os.path.join(data_path, "ptb.%s.txt" % split), "w") as f:
            f.writelines(lines)


def _ensure_data(data_path):
    names = ["ptb.%s.txt" % s for s in ("train", "valid", "test")]
    if not all(os.path.exists(os.path.join(data_path, n)) for n in names):
        print("No PTB files in %s (no downloads here): writing a generated PTB-format corpus"
              % data_path)
        write_synthetic_ptb(data_path, seed=FLAGS.seed)


def main(_):
    if not FLAGS.data_path:
        raise ValueError("Must set --data_path to PTB data directory")
    _ensure_data(FLAGS.data_path)
    train_data, valid_data, test_data, vocabulary = reader.ptb_raw_data(FLAGS.data_path)

    config = get_config()
    config.vocab_size = vocabulary
    eval_config = get_config()
    eval_config.vocab_size = vocabulary
    eval_config.batch_size = 1
    eval_config.num_steps = 1

    with tf.Graph().as_default(), tf.Session() as session:
        tf.set_random_seed(FLAGS.seed)
        initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)
        with tf.variable_scope("model", reuse=None, initializer=initializer):
            m = PTBModel(is_training=True, config=config)
        with tf.variable_scope("model", reuse=True, initializer=initializer):
            mvalid = PTBModel(is_training=False, config=config)
            mtest = PTBModel(is_training=False, config=eval_config)

        tf.initialize_all_variables().run()
        no_op = tf.no_op()

        for i in range(config.max_max_epoch):
            lr_decay = config.lr_decay ** max(i + 1 - config.max_epoch, 0.0)
            m.assign_lr(session, config.learning_rate * lr_decay)

            print("Epoch: %d Learning rate: %.3f" % (i + 1, session.run(m.lr)))
            train_perplexity = run_epoch(session, m, train_data, m.train_op, verbose=True)
            print("Epoch: %d Train Perplexity: %.3f" % (i + 1, train_perplexity))
            valid_perplexity = run_epoch(session, mvalid, valid_data, no_op)
            print("Epoch: %d Valid Perplexity: %.3f" % (i + 1, valid_perplexity))

        test_perplexity = run_epoch(session, mtest, test_data, no_op)
        print("Test Perplexity: %.3f" % test_perplexity)


if __name__ == "__main__":
    tf.app.run()
