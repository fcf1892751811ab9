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

flags.DEFINE_string("save_path", None, "Directory to write the model.")
flags.DEFINE_string("train_data", None, "Training data. "
                    "E.g., unzipped file http://mattmahoney.net/dc/text8.zip.")
flags.DEFINE_string("eval_data", None, "Analogy questions. "
                    "https://word2vec.googlecode.com/svn/trunk/questions-words.txt.")
flags.DEFINE_integer("embedding_size", 200, "The embedding dimension size.")
flags.DEFINE_integer("epochs_to_train", 15, "Number of epochs to train. Each epoch processes "
                     "the training data once completely.")
flags.DEFINE_float("learning_rate", 0.025, "Initial learning rate.")
flags.DEFINE_integer("num_neg_samples", 25, "Negative samples per training example.")
flags.DEFINE_integer("batch_size", 500, "Numbers of training examples each step processes "
                     "(no minibatching).")
flags.DEFINE_integer("concurrent_steps", 12, "The number of concurrent training steps.")
flags.DEFINE_integer("window_size", 5, "The number of words to predict to the left and right "
                     "of the target word.")
flags.DEFINE_integer("min_count", 5, "The minimum number of word occurrences for it to be "
                     "included in the vocabulary.")
flags.DEFINE_float("subsample", 1e-3, "Subsample threshold for word occurrence. Words that "
                   "appear with higher frequency will be randomly down-sampled. Set to 0 to "
                   "disable.")
flags.DEFINE_boolean("interactive", False, "If true, enters an IPython interactive session to "
                     "play with the trained model. E.g., try model.analogy(b'france', "
                     "b'paris', b'russia') and model.nearby([b'proton', b'elephant', "
                     "b'maxwell'])")

FLAGS = flags.FLAGS


class Options:
    """Options used by the word2vec model, read from the flags."""

    def __init__(self):
        self.emb_dim = FLAGS.embedding_size
        self.train_data = FLAGS.train_data
        self.num_samples = FLAGS.num_neg_samples  # negatives per example
        self.learning_rate = FLAGS.learning_rate
        # After epochs_to_train epochs the learning rate has decayed to (nearly) zero.
        self.epochs_to_train = FLAGS.epochs_to_train
        self.concurrent_steps = FLAGS.concurrent_steps
        self.batch_size = FLAGS.batch_size
        self.window_size = FLAGS.window_size
        self.min_count = FLAGS.min_count
        self.subsample = FLAGS.subsample
        self.statistics_interval = 5  # TF's tutorial reports every 5 seconds (no flag)
        self.save_path = FLAGS.save_path
        self.eval_data = FLAGS.eval_data


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
