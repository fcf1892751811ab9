"""Multi-threaded word2vec mini-batched skip-gram model, at TF 0.9's
tensorflow/models/embedding/word2vec.py.

Trains the model of Mikolov et al., "Efficient Estimation of Word Representations in Vector
Space" (ICLR 2013) with traditional minibatching: the Skipgram op reads the text and hands out
(example, label) batches; embedding_lookup gathers rows; the loss is sigmoid cross-entropy of
the true label against negatives drawn by fixed_unigram_candidate_sampler (unigram counts to
the 0.75), minimized by gradient descent with a learning rate decaying linearly over the words
to train.

    python -m tensorflux.models.embedding.word2vec --train_data=text8 \
        --eval_data=questions-words.txt --save_path=/tmp/
"""
import os
import time

import tensorflux as tf
from tensorflux.models.embedding import gen_word2vec as word2vec
from tensorflux.models.embedding import word2vec_common

flags = tf.app.flags

word2vec_common.define_flags(
    flags, learning_rate=0.2, num_neg_samples=100, batch_size=16,
    batch_help="Number of training examples processed per step (size of a minibatch).")
flags.DEFINE_integer("statistics_interval", 5, "Print statistics every n seconds.")
flags.DEFINE_integer("summary_interval", 5, "Save training summary to file every n seconds "
                     "(rounded up to statistics interval).")
flags.DEFINE_integer("checkpoint_interval", 600, "Checkpoint the model (i.e. save the "
                     "parameters) every n seconds (rounded up to statistics interval).")

FLAGS = flags.FLAGS


class Options(word2vec_common.BaseOptions):
    """Options used by the word2vec model, read from the flags."""

    def __init__(self):
        super().__init__(FLAGS)
        self.statistics_interval = FLAGS.statistics_interval
        self.summary_interval = FLAGS.summary_interval  # rounded up to statistics_interval
        self.checkpoint_interval = FLAGS.checkpoint_interval  # likewise


class Word2Vec(word2vec_common.Word2VecBase):
    """Word2Vec model (Skipgram), minibatched, trained through tf.gradients."""

    def forward(self, examples, labels):
        """(true_logits [batch_size], sampled_logits [batch_size, num_samples])."""
        opts = self._options
        init_width = 0.5 / opts.emb_dim
        emb = tf.Variable(tf.random_uniform([opts.vocab_size, opts.emb_dim], -init_width,
                                            init_width), name="emb")
        self._emb = emb
        # Softmax weights, transposed: [vocab_size, emb_dim]; biases [vocab_size].
        sm_w_t = tf.Variable(tf.zeros([opts.vocab_size, opts.emb_dim]), name="sm_w_t")
        sm_b = tf.Variable(tf.zeros([opts.vocab_size]), name="sm_b")
        self.global_step = tf.Variable(0, name="global_step")
        labels_matrix = tf.reshape(tf.cast(labels, dtype=tf.int64), [opts.batch_size, 1])
        # One set of negatives for the whole batch.
        sampled_ids, _, _ = tf.nn.fixed_unigram_candidate_sampler(
            true_classes=labels_matrix, num_true=1, num_sampled=opts.num_samples, unique=True,
            range_max=opts.vocab_size, distortion=0.75, unigrams=opts.vocab_counts.tolist())
        example_emb = tf.nn.embedding_lookup(emb, examples)  # [batch_size, emb_dim]
        true_w = tf.nn.embedding_lookup(sm_w_t, labels)  # [batch_size, emb_dim]
        true_b = tf.nn.embedding_lookup(sm_b, labels)  # [batch_size]
        sampled_w = tf.nn.embedding_lookup(sm_w_t, sampled_ids)  # [num_sampled, emb_dim]
        sampled_b = tf.nn.embedding_lookup(sm_b, sampled_ids)  # [num_sampled]
        true_logits = tf.reduce_sum(tf.multiply(example_emb, true_w), 1) + true_b
        # [batch_size, num_sampled]: every example against every sampled word.
        sampled_logits = tf.matmul(example_emb, sampled_w, transpose_b=True) + sampled_b
        return true_logits, sampled_logits

    def nce_loss(self, true_logits, sampled_logits):
        """Cross-entropy of the true words (label 1) and the sampled ones (label 0), summed
        and averaged over the batch."""
        true_xent = tf.nn.sigmoid_cross_entropy_with_logits(
            logits=true_logits, labels=tf.ones_like(true_logits))
        sampled_xent = tf.nn.sigmoid_cross_entropy_with_logits(
            logits=sampled_logits, labels=tf.zeros_like(sampled_logits))
        return (tf.reduce_sum(true_xent) + tf.reduce_sum(sampled_xent)) / self._options.batch_size

    def optimize(self, loss):
        """Gradient descent, the rate decaying linearly over the words to train."""
        opts = self._options
        words_to_train = float(opts.words_per_epoch * opts.epochs_to_train)
        self._lr = opts.learning_rate * tf.maximum(
            0.0001, 1.0 - tf.cast(self._words, tf.float32) / words_to_train)
        optimizer = tf.train.GradientDescentOptimizer(self._lr)
        self._train = optimizer.minimize(loss, global_step=self.global_step,
                                         gate_gradients=optimizer.GATE_NONE)

    def build_graph(self):
        """The training graph: Skipgram input, forward pass, loss, optimizer, Saver."""
        opts = self._options
        (words, counts, words_per_epoch, self._epoch, self._words, examples,
         labels) = word2vec.skipgram(filename=opts.train_data, batch_size=opts.batch_size,
                                     window_size=opts.window_size, min_count=opts.min_count,
                                     subsample=opts.subsample)
        self._read_vocabulary(words, counts, words_per_epoch)
        self._examples, self._labels = examples, labels
        true_logits, sampled_logits = self.forward(examples, labels)
        self._loss = self.nce_loss(true_logits, sampled_logits)
        tf.summary.scalar("NCE_loss", self._loss)
        self.optimize(self._loss)
        self._session.run(tf.global_variables_initializer())
        self.saver = tf.train.Saver()

    def train(self):
        """Trains one epoch; summaries and checkpoints as the intervals say."""
        opts = self._options
        self._summary_op = tf.summary.merge_all()
        self._summary_writer = tf.summary.FileWriter(opts.save_path, self._session.graph)
        self._last_summary_time = self._last_checkpoint_time = 0
        try:
            super().train()
        finally:
            self._summary_writer.close()

    def _statistics(self):
        return dict(super()._statistics(), loss=self._loss)

    def _after_report(self, stats):
        opts, now = self._options, time.time()
        if now - self._last_summary_time > opts.summary_interval:
            self._summary_writer.add_summary(self._session.run(self._summary_op),
                                             stats["step"])
            self._last_summary_time = now
        if now - self._last_checkpoint_time > opts.checkpoint_interval:
            self.saver.save(self._session, os.path.join(opts.save_path, "model.ckpt"),
                            global_step=stats["step"])
            self._last_checkpoint_time = now


_start_shell = word2vec_common.start_shell  # TF's name: an IPython shell over the model


def main(_):
    """Train a word2vec model."""
    word2vec_common.run_main(Options, Word2Vec, FLAGS)


if __name__ == "__main__":
    tf.app.run()
