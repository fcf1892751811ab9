"""What TF 0.9's two word2vec tutorials (word2vec.py and word2vec_optimized.py) do alike: read
the analogy questions, build the evaluation graph (analogies and nearest words by cosine
similarity of the normalized input embeddings), save the vocabulary, train one epoch with
`concurrent_steps` threads running the training op, and evaluate.

A subclass's build_graph sets `_epoch`, `_words` (the Skipgram op's current_epoch and
total_words_processed), `_lr`, `_train`, `global_step`, `saver` and `_emb` (the input
embedding variable), and fills the options' vocab_words, vocab_counts, vocab_size and
words_per_epoch.
"""
import os
import sys
import threading
import time

import numpy as np

import tensorflux as tf

_EVAL_BATCH = 2500  # analogy questions per run of the evaluation graph
_MIN_POLL_SECONDS = 0.05  # statistics_interval 0: poll this often rather than spin


def define_flags(flags, learning_rate, num_neg_samples, batch_size, batch_help):
    """The flags both tutorials define, with TF 0.9's names; the defaults that differ between
    them are arguments."""
    flags.DEFINE_string("save_path", None, "Directory to write the model and training "
                        "summaries.")
    flags.DEFINE_string("train_data", None, "Training text file. "
                        "E.g., unzipped file http://mattmahoney.net/dc/text8.zip.")
    flags.DEFINE_string("eval_data", None, "File consisting of analogies of four tokens: "
                        "embedding 2 - embedding 1 + embedding 3 should be close to "
                        "embedding 4.")
    flags.DEFINE_integer("embedding_size", 200, "The embedding dimension size.")
    flags.DEFINE_integer("epochs_to_train", 15, "Number of epochs to train. Each epoch "
                         "processes the training data once completely.")
    flags.DEFINE_float("learning_rate", learning_rate, "Initial learning rate.")
    flags.DEFINE_integer("num_neg_samples", num_neg_samples,
                         "Negative samples per training example.")
    flags.DEFINE_integer("batch_size", batch_size, batch_help)
    flags.DEFINE_integer("concurrent_steps", 12, "The number of concurrent training steps.")
    flags.DEFINE_integer("window_size", 5, "The number of words to predict to the left and "
                         "right of the target word.")
    flags.DEFINE_integer("min_count", 5, "The minimum number of word occurrences for it to be "
                         "included in the vocabulary.")
    flags.DEFINE_float("subsample", 1e-3, "Subsample threshold for word occurrence. Words "
                       "that appear with higher frequency will be randomly down-sampled. Set "
                       "to 0 to disable.")
    flags.DEFINE_boolean("interactive", False, "If true, enters an IPython interactive session "
                         "to play with the trained model. E.g., try model.analogy(b'france', "
                         "b'paris', b'russia') and model.nearby([b'proton', b'elephant', "
                         "b'maxwell'])")


class BaseOptions:
    """The options both tutorials read from their flags."""

    def __init__(self, flags):
        self.emb_dim = flags.embedding_size
        self.train_data = flags.train_data
        self.num_samples = flags.num_neg_samples  # negatives per example
        self.learning_rate = flags.learning_rate
        # After epochs_to_train epochs the learning rate has decayed to (nearly) zero.
        self.epochs_to_train = flags.epochs_to_train
        self.concurrent_steps = flags.concurrent_steps
        self.batch_size = flags.batch_size
        self.window_size = flags.window_size
        self.min_count = flags.min_count
        self.subsample = flags.subsample
        self.save_path = flags.save_path
        self.eval_data = flags.eval_data


class Word2VecBase:
    """The shared part of both tutorials' `Word2Vec` classes."""

    def __init__(self, options, session):
        self._options = options
        self._session = session
        self._word2id = {}
        self._id2word = []
        self.build_graph()
        self.build_eval_graph()
        self.save_vocab()
        self.read_analogies()

    # ---- data --------------------------------------------------------------------------
    def _read_vocabulary(self, words, counts, words_per_epoch):
        """Fetches the Skipgram op's vocabulary into the options and the word <-> id maps."""
        opts = self._options
        (opts.vocab_words, opts.vocab_counts,
         opts.words_per_epoch) = self._session.run([words, counts, words_per_epoch])
        opts.vocab_size = len(opts.vocab_words)
        print("Data file: ", opts.train_data)
        print("Vocab size: ", opts.vocab_size - 1, " + UNK")
        print("Words per epoch: ", opts.words_per_epoch)
        self._id2word = opts.vocab_words
        self._word2id = {w: i for i, w in enumerate(self._id2word)}

    def read_analogies(self):
        """Reads the analogy file: lines of four words (a b c d: a is to b as c is to d);
        lines starting with ':' are section titles. Questions naming a word outside the
        vocabulary are skipped."""
        questions, skipped = [], 0
        with open(self._options.eval_data, "rb") as analogy_f:
            for line in analogy_f:
                if line.startswith(b":"):
                    continue
                ids = [self._word2id.get(w.strip()) for w in line.strip().lower().split(b" ")]
                if None in ids or len(ids) != 4:
                    skipped += 1
                else:
                    questions.append(ids)
        print("Eval analogy file: ", self._options.eval_data)
        print("Questions: ", len(questions))
        print("Skipped: ", skipped)
        self._analogy_questions = np.array(questions, dtype=np.int32).reshape(-1, 4)

    def save_vocab(self):
        """Writes save_path/vocab.txt, one "word count" line per vocabulary entry."""
        opts = self._options
        with open(os.path.join(opts.save_path, "vocab.txt"), "w", encoding="utf-8") as f:
            for word, count in zip(opts.vocab_words, opts.vocab_counts):
                f.write("%s %d\n" % (tf.compat.as_text(word), count))

    # ---- evaluation graph --------------------------------------------------------------
    def build_eval_graph(self):
        """Analogy prediction (the 4 words nearest to c + b - a) and nearest neighbours."""
        self._analogy_a = tf.placeholder(dtype=tf.int32)  # [N]
        self._analogy_b = tf.placeholder(dtype=tf.int32)  # [N]
        self._analogy_c = tf.placeholder(dtype=tf.int32)  # [N]
        nemb = tf.nn.l2_normalize(self._emb, 1)  # [vocab_size, emb_dim]
        a_emb, b_emb, c_emb = (tf.gather(nemb, ids) for ids in
                               (self._analogy_a, self._analogy_b, self._analogy_c))
        target = c_emb + (b_emb - a_emb)  # [N, emb_dim], near d's embedding if learnt
        dist = tf.matmul(target, nemb, transpose_b=True)  # [N, vocab_size] cosines
        _, self._analogy_pred_idx = tf.nn.top_k(dist, min(4, self._options.vocab_size))
        self._nearby_word = tf.placeholder(dtype=tf.int32)  # [M] word ids
        nearby_dist = tf.matmul(tf.gather(nemb, self._nearby_word), nemb, transpose_b=True)
        self._nearby_val, self._nearby_idx = tf.nn.top_k(
            nearby_dist, min(1000, self._options.vocab_size))

    # ---- training ----------------------------------------------------------------------
    def _train_thread_body(self):
        try:
            initial_epoch, = self._session.run([self._epoch])
            while True:
                _, epoch = self._session.run([self._train, self._epoch])
                if epoch != initial_epoch:
                    break
        except BaseException as e:  # noqa: BLE001 - handed to train(), which raises it
            self._worker_errors.append(e)

    def train(self):
        """Trains one epoch with opts.concurrent_steps threads, printing statistics."""
        opts = self._options
        initial_epoch, initial_words = self._session.run([self._epoch, self._words])
        self._worker_errors = []
        workers = [threading.Thread(target=self._train_thread_body, daemon=True)
                   for _ in range(opts.concurrent_steps)]
        for t in workers:
            t.start()
        last_words, last_time = initial_words, time.time()
        while True:
            finished = _wait(workers, opts.statistics_interval)
            epoch, step, words = self._report(last_words, last_time)
            last_words, last_time = words, time.time()
            if epoch != initial_epoch or finished:
                break
        for t in workers:
            t.join()
        if self._worker_errors:
            raise self._worker_errors[0]

    def _statistics(self):
        """Tensors fetched for the progress line: a dict name -> tensor."""
        return {"epoch": self._epoch, "step": self.global_step, "words": self._words,
                "lr": self._lr}

    def _report(self, last_words, last_time):
        """Prints one progress line; returns (epoch, step, words)."""
        stats = self._session.run(self._statistics())
        rate = (stats["words"] - last_words) / max(time.time() - last_time, 1e-9)
        loss = " loss = %6.2f" % stats["loss"] if "loss" in stats else ""
        print("Epoch %4d Step %8d: lr = %5.3f%s words/sec = %8.0f\r"
              % (stats["epoch"], stats["step"], stats["lr"], loss, rate), end="")
        sys.stdout.flush()
        self._after_report(stats)
        return stats["epoch"], stats["step"], stats["words"]

    def _after_report(self, stats):
        """Hook: summaries and checkpoints (word2vec.py)."""

    # ---- evaluation --------------------------------------------------------------------
    def _predict(self, analogy):
        """The top 4 answers (word ids) for each analogy question [N, 3+]."""
        idx, = self._session.run([self._analogy_pred_idx], {
            self._analogy_a: analogy[:, 0], self._analogy_b: analogy[:, 1],
            self._analogy_c: analogy[:, 2]})
        return idx

    def eval(self):
        """Prints the analogy accuracy at precision@1 (question words skipped)."""
        correct, total = 0, self._analogy_questions.shape[0]
        for start in range(0, total, _EVAL_BATCH):
            sub = self._analogy_questions[start:start + _EVAL_BATCH, :]
            for question, predicted in zip(sub, self._predict(sub)):
                correct += _first_new_word(predicted, question[:3]) == question[3]
        print()
        print("Eval %4d/%d accuracy = %4.1f%%" % (correct, total,
                                                  correct * 100.0 / max(total, 1)))
        self.analogy_accuracy = correct / max(total, 1)
        return self.analogy_accuracy

    def analogy(self, w0, w1, w2):
        """Predicts w3 as in w0:w1 vs w2:w3 (words as bytes, like the vocabulary)."""
        wid = np.array([[self._word2id.get(w, 0) for w in [w0, w1, w2]]])
        for c in [self._id2word[i] for i in self._predict(wid)[0, :]]:
            if c not in [w0, w1, w2]:
                return c
        return "unknown"

    def nearby(self, words, num=20):
        """Prints the `num` nearest words of each of `words` (bytes) by cosine similarity."""
        ids = np.array([self._word2id.get(x, 0) for x in words])
        vals, idx = self._session.run([self._nearby_val, self._nearby_idx],
                                      {self._nearby_word: ids})
        for i in range(len(words)):
            print("\n%s\n=====================================" % tf.compat.as_text(words[i]))
            for neighbor, distance in zip(idx[i, :num], vals[i, :num]):
                print("%-20s %6.4f" % (tf.compat.as_text(self._id2word[neighbor]), distance))


def _first_new_word(predicted, question_words):
    """The first prediction that is not one of the question's own words (or -1)."""
    for word in predicted:
        if word not in question_words:
            return word
    return -1


def _wait(workers, seconds):
    """Waits until every worker thread ended or `seconds` passed; True if they all ended."""
    deadline = time.time() + max(seconds, _MIN_POLL_SECONDS)
    for t in workers:
        t.join(max(deadline - time.time(), 0))
    return not any(t.is_alive() for t in workers)


def start_shell(local_ns=None):
    """An interactive shell over the trained model (IPython when installed)."""
    user_ns = dict(local_ns or {})
    try:
        import IPython
    except ImportError:
        import code
        code.interact(local=user_ns)
        return
    IPython.start_ipython(argv=[], user_ns=user_ns)


def run_main(options_class, model_class, flags):
    """The tutorials' main: train opts.epochs_to_train epochs, evaluating after each, save a
    final checkpoint, then an interactive shell if --interactive."""
    if not flags.train_data or not flags.eval_data or not flags.save_path:
        print("--train_data --eval_data and --save_path must be specified.")
        sys.exit(1)
    opts = options_class()
    os.makedirs(opts.save_path, exist_ok=True)
    with tf.Graph().as_default(), tf.Session() as session:
        with tf.device("/cpu:0"):
            model = model_class(opts, session)
        for _ in range(opts.epochs_to_train):
            model.train()  # one epoch
            model.eval()  # analogies
        model.saver.save(session, os.path.join(opts.save_path, "model.ckpt"),
                         global_step=model.global_step)
        if flags.interactive:
            # e.g. model.analogy(b'france', b'paris', b'russia'), model.nearby([b'proton'])
            start_shell(dict(locals()))
    return model
