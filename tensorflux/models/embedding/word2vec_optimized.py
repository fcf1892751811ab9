"""Multi-threaded word2vec unbatched skip-gram model, at TF 0.9's
tensorflow/models/embedding/word2vec_optimized.py.

Trains the model of Mikolov et al., "Efficient Estimation of Word Representations in Vector
Space" (ICLR 2013) with the NegTrain op: each step takes a batch of (example, label) pairs
from the Skipgram op and applies negative-sampling SGD to the input and output embeddings in
place, with no gradient graph; the learning rate decays linearly over the words to train.

    python -m tensorflux.models.embedding.word2vec_optimized --train_data=text8 \
        --eval_data=questions-words.txt --save_path=/tmp/
"""
import tensorflux as tf
from tensorflux.models.embedding import gen_word2vec as word2vec
from tensorflux.models.embedding import word2vec_common

flags = tf.app.flags

word2vec_common.define_flags(
    flags, learning_rate=0.025, num_neg_samples=25, batch_size=500,
    batch_help="Numbers of training examples each step processes (no minibatching).")

FLAGS = flags.FLAGS


class Options(word2vec_common.BaseOptions):
    """Options used by the word2vec model, read from the flags."""

    def __init__(self):
        super().__init__(FLAGS)
        self.statistics_interval = 5  # TF's tutorial reports every 5 seconds (no flag)


class Word2Vec(word2vec_common.Word2VecBase):
    """Word2Vec model (Skipgram) trained by the NegTrain op."""

    def build_graph(self):
        """Skipgram input, the two embeddings, and the NegTrain step."""
        opts = self._options
        (words, counts, words_per_epoch, current_epoch, total_words_processed, examples,
         labels) = word2vec.skipgram(filename=opts.train_data, batch_size=opts.batch_size,
                                     window_size=opts.window_size, min_count=opts.min_count,
                                     subsample=opts.subsample)
        self._read_vocabulary(words, counts, words_per_epoch)
        # Input embeddings: [vocab_size, emb_dim]; output embeddings start at zero.
        w_in = tf.Variable(tf.random_uniform([opts.vocab_size, opts.emb_dim],
                                             -0.5 / opts.emb_dim, 0.5 / opts.emb_dim),
                           name="w_in")
        w_out = tf.Variable(tf.zeros([opts.vocab_size, opts.emb_dim]), name="w_out")
        global_step = tf.Variable(0, name="global_step")
        words_to_train = float(opts.words_per_epoch * opts.epochs_to_train)
        lr = opts.learning_rate * tf.maximum(
            0.0001, 1.0 - tf.cast(total_words_processed, tf.float32) / words_to_train)
        inc = global_step.assign_add(1)
        with tf.control_dependencies([inc]):
            train = word2vec.neg_train(w_in, w_out, examples, labels, lr,
                                       vocab_count=opts.vocab_counts.tolist(),
                                       num_negative_samples=opts.num_samples)
        self._w_in = self._emb = w_in
        self._examples, self._labels = examples, labels
        self._lr, self._train, self.global_step = lr, train, global_step
        self._epoch, self._words = current_epoch, total_words_processed

    def build_eval_graph(self):
        super().build_eval_graph()
        self._session.run(tf.global_variables_initializer())
        self.saver = tf.train.Saver()


_start_shell = word2vec_common.start_shell  # TF's name: an IPython shell over the model


def main(_):
    """Train a word2vec model."""
    word2vec_common.run_main(Options, Word2Vec, FLAGS)


if __name__ == "__main__":
    tf.app.run()
