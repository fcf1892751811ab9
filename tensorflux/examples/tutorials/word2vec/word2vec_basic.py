"""Basic word2vec: skip-gram embeddings trained with noise-contrastive estimation, on tensorflux.

The "Vector Representations of Words" tutorial's basic example, in its six steps: read a text8
corpus, build the dictionary (rare words become UNK), generate skip-gram batches, build the
graph (embedding_lookup + nce_loss, gradient descent at 1.0), train while printing the average
loss and the nearest words by cosine similarity, and optionally plot the embeddings with t-SNE.

    python examples/word2vec_basic.py [--train_data text8.zip] [--num_steps 100001] ...

This machine cannot download text8: when --train_data does not exist, the example writes and
uses a generated text8-like corpus (lowercase words separated by spaces) whose words fall into
topics, so that words of one topic end up as nearest neighbours. A small configuration:

    python examples/word2vec_basic.py --num_steps 3001 --vocabulary_size 400 --embedding_size 64
"""
import argparse
import collections
import math
import os
import random
import sys

import numpy as np

import tensorflux as tf  # noqa: E402 (after the path set-up)
from tensorflux.models.embedding.text8 import (  # noqa: E402,F401 (the tutorial helpers)
    SkipGramBatcher, read_data)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train_data", default="text8.zip",
                   help="text8 corpus (.zip holding one text file, or plain text)")
    p.add_argument("--vocabulary_size", type=int, default=50000)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--embedding_size", type=int, default=128, help="dimension of the embeddings")
    p.add_argument("--skip_window", type=int, default=1, help="words to each side of the centre")
    p.add_argument("--num_skips", type=int, default=2, help="contexts drawn per centre word")
    p.add_argument("--num_sampled", type=int, default=64, help="negative examples per batch")
    p.add_argument("--learning_rate", type=float, default=1.0)
    p.add_argument("--num_steps", type=int, default=100001)
    p.add_argument("--loss_every", type=int, default=2000, help="steps per average-loss line")
    p.add_argument("--similarity_every", type=int, default=10000,
                   help="steps per nearest-words report (also printed after the last step)")
    p.add_argument("--valid_size", type=int, default=16, help="words whose neighbours are shown")
    p.add_argument("--valid_window", type=int, default=100,
                   help="the shown words are drawn from this many most frequent ones")
    p.add_argument("--top_k", type=int, default=8, help="neighbours shown per word")
    p.add_argument("--synthetic_words", type=int, default=200000,
                   help="length of the generated corpus used when --train_data is missing")
    p.add_argument("--plot", default="", help="write a t-SNE plot here (needs matplotlib)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


# Step 1: the data. ----------------------------------------------------------------------
_CONSONANTS, _VOWELS = "bdfgklmnprstvz", "aeiou"
_FUNCTION_WORDS = ["the", "of", "and", "in", "a", "to", "is", "as", "for", "was"]


def _made_up_word(index):
    """A pronounceable lowercase word, different for each index (below 70**3)."""
    index = (index * 7919 + 13) % (len(_CONSONANTS) * len(_VOWELS)) ** 3  # scramble, 1:1
    syllables = []
    for _ in range(3):
        index, c = divmod(index, len(_CONSONANTS))
        index, v = divmod(index, len(_VOWELS))
        syllables.append(_CONSONANTS[c] + _VOWELS[v])
    return "".join(syllables)


def synthetic_corpus(num_words, num_topics=10, words_per_topic=30, seed=0):
    """A text8-like word list: sentences on one topic each, with common function words.

    Returns the words and {topic word: topic index}.
    """
    rng = np.random.default_rng(seed)
    topics = [[_made_up_word(t * words_per_topic + i + 7) for i in range(words_per_topic)]
              for t in range(num_topics)]
    zipf = 1.0 / np.arange(1, words_per_topic + 1)
    zipf /= zipf.sum()
    words = []
    while len(words) < num_words:
        topic = topics[rng.integers(num_topics)]
        for _ in range(rng.integers(8, 16)):
            if rng.random() < 0.25:
                words.append(_FUNCTION_WORDS[rng.integers(len(_FUNCTION_WORDS))])
            else:
                words.append(topic[rng.choice(words_per_topic, p=zipf)])
    topic_of = {w: t for t, ws in enumerate(topics) for w in ws}
    return words[:num_words], topic_of


def load_words(flags):
    if os.path.exists(flags.train_data):
        return read_data(flags.train_data)
    print("%s not found (no downloads here): generating a %d-word text8-like corpus"
          % (flags.train_data, flags.synthetic_words))
    return synthetic_corpus(flags.synthetic_words, seed=flags.seed)[0]


# Step 2: the dictionary; words outside the vocabulary become UNK (counts as tuples, as the
# tutorial's). -------------------------------------------------------------------------------
def build_dataset(words, vocabulary_size):
    """Returns (word ids, [[word, count]], word -> id, id -> word); ids sorted by frequency."""
    count = [["UNK", -1]]
    count.extend(collections.Counter(words).most_common(vocabulary_size - 1))
    dictionary = {word: i for i, (word, _) in enumerate(count)}
    data = [dictionary.get(word, 0) for word in words]
    count[0][1] = data.count(0)
    reverse_dictionary = {i: word for word, i in dictionary.items()}
    return data, count, dictionary, reverse_dictionary


# Step 3 (skip-gram batches) is the tutorial loader's SkipGramBatcher
# (tensorflux.models.embedding.text8), imported above.


# Step 4: the skip-gram model. ------------------------------------------------------------
def build_graph(flags, vocabulary_size, valid_examples):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(flags.seed)
        train_inputs = tf.placeholder(tf.int32, shape=[flags.batch_size])
        train_labels = tf.placeholder(tf.int32, shape=[flags.batch_size, 1])
        valid_dataset = tf.constant(valid_examples, dtype=tf.int32)

        with tf.device("/cpu:0"):
            embeddings = tf.Variable(
                tf.random_uniform([vocabulary_size, flags.embedding_size], -1.0, 1.0))
            embed = tf.nn.embedding_lookup(embeddings, train_inputs)
            nce_weights = tf.Variable(
                tf.truncated_normal([vocabulary_size, flags.embedding_size],
                                    stddev=1.0 / math.sqrt(flags.embedding_size)))
            nce_biases = tf.Variable(tf.zeros([vocabulary_size]))

        # NCE draws num_sampled negative words per batch (log-uniform over frequency ranks).
        loss = tf.reduce_mean(
            tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, inputs=embed,
                           labels=train_labels, num_sampled=flags.num_sampled,
                           num_classes=vocabulary_size))
        optimizer = tf.train.GradientDescentOptimizer(flags.learning_rate).minimize(loss)

        # Cosine similarity of the shown words to every word.
        norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keep_dims=True))
        normalized_embeddings = embeddings / norm
        valid_embeddings = tf.nn.embedding_lookup(normalized_embeddings, valid_dataset)
        similarity = tf.matmul(valid_embeddings, normalized_embeddings, transpose_b=True)
        init = tf.initialize_all_variables()
    ops = dict(train_inputs=train_inputs, train_labels=train_labels, loss=loss,
               optimizer=optimizer, similarity=similarity,
               normalized_embeddings=normalized_embeddings, init=init)
    return graph, ops


def nearest_words(sim, valid_examples, reverse_dictionary, top_k):
    """Lines 'Nearest to w: a, b, ...' from a similarity matrix (rows: the shown words)."""
    lines = []
    for i, word_id in enumerate(valid_examples):
        nearest = (-sim[i, :]).argsort()[1:top_k + 1]  # [0] is the word itself
        lines.append("Nearest to %s: %s" % (reverse_dictionary[word_id],
                                            ", ".join(reverse_dictionary[k] for k in nearest)))
    return lines


# Step 5: training. ------------------------------------------------------------------------
def train(flags, data, reverse_dictionary, vocabulary_size):
    """Runs the steps; returns (average losses as printed, final normalized embeddings)."""
    valid_examples = np.array(random.Random(flags.seed).sample(
        range(min(flags.valid_window, vocabulary_size)),
        min(flags.valid_size, flags.valid_window, vocabulary_size)))
    graph, ops = build_graph(flags, vocabulary_size, valid_examples)
    batcher = SkipGramBatcher(data, seed=flags.seed)
    averages = []
    with tf.Session(graph=graph) as session:
        session.run(ops["init"])
        print("Initialized")
        average_loss = 0.0
        for step in range(flags.num_steps):
            batch_inputs, batch_labels = batcher.generate_batch(
                flags.batch_size, flags.num_skips, flags.skip_window)
            feed_dict = {ops["train_inputs"]: batch_inputs, ops["train_labels"]: batch_labels}
            _, loss_val = session.run([ops["optimizer"], ops["loss"]], feed_dict=feed_dict)
            average_loss += loss_val
            if step % flags.loss_every == 0:
                if step > 0:
                    average_loss /= flags.loss_every  # mean over the last loss_every batches
                print("Average loss at step %d: %f" % (step, average_loss))
                averages.append(float(average_loss))
                average_loss = 0.0
            if (step % flags.similarity_every == 0 and step > 0) or step == flags.num_steps - 1:
                sim = session.run(ops["similarity"])
                for line in nearest_words(sim, valid_examples, reverse_dictionary, flags.top_k):
                    print(line)
        final_embeddings = session.run(ops["normalized_embeddings"])
    return averages, final_embeddings


# Step 6: a t-SNE picture of the embeddings (optional). -------------------------------------
def plot_with_labels(final_embeddings, reverse_dictionary, filename, count=300):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.manifold import TSNE
    except ImportError as e:
        print("Skipping the t-SNE plot: %s" % e)
        return
    count = min(count, len(final_embeddings))
    low_dim = TSNE(perplexity=min(30, count - 1), n_components=2,
                   init="pca").fit_transform(final_embeddings[:count])
    plt.figure(figsize=(18, 18))
    for i in range(count):
        x, y = low_dim[i, :]
        plt.scatter(x, y)
        plt.annotate(reverse_dictionary[i], xy=(x, y), xytext=(5, 2),
                     textcoords="offset points", ha="right", va="bottom")
    plt.savefig(filename)
    print("Wrote %s" % filename)


def main(argv=None):
    """Trains; returns (average losses as printed, final embeddings, id -> word)."""
    flags = parse_args(argv)
    words = load_words(flags)
    print("Data size %d" % len(words))
    data, count, _, reverse_dictionary = build_dataset(words, flags.vocabulary_size)
    del words  # only the ids are needed from here on
    vocabulary_size = len(count)
    print("Most common words (+UNK)", count[:5])
    print("Sample data", data[:10], [reverse_dictionary[i] for i in data[:10]])
    averages, final_embeddings = train(flags, data, reverse_dictionary, vocabulary_size)
    if flags.plot:
        plot_with_labels(final_embeddings, reverse_dictionary, flags.plot)
    return averages, final_embeddings, reverse_dictionary


if __name__ == "__main__":
    main(sys.argv[1:])
