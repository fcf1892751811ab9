"""word2vec_basic learns skip-gram embeddings: the NCE loss falls and words of one topic of a
generated text8-like corpus become each other's nearest neighbours by cosine similarity."""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "word2vec_basic.py")
TOPICS, WORDS_PER_TOPIC = 8, 20
FUNCTION_WORDS = ["the", "of", "and", "in", "to"]


def _corpus(num_words, seed=1):
    """Sentences of 8-15 words, each from one topic's words, with common words mixed in."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = set()
    while len(vocab) < TOPICS * WORDS_PER_TOPIC:
        vocab.add("".join(rng.choice(letters, 6)))
    vocab = sorted(vocab)
    topic_of = {w: i // WORDS_PER_TOPIC for i, w in enumerate(vocab)}
    words = []
    while len(words) < num_words:
        topic = rng.integers(TOPICS)
        for _ in range(rng.integers(8, 16)):
            if rng.random() < 0.2:
                words.append(FUNCTION_WORDS[rng.integers(len(FUNCTION_WORDS))])
            else:
                words.append(vocab[topic * WORDS_PER_TOPIC + rng.integers(WORDS_PER_TOPIC)])
    return words, topic_of


def _load_example():
    # examples/word2vec_basic.py launches the tutorial at TF's import path
    from tensorflux.examples.tutorials.word2vec import word2vec_basic
    return word2vec_basic


def test_build_dataset_and_batches():
    example = _load_example()
    words = "a b a c a b d e".split()
    data, count, dictionary, reverse = example.build_dataset(words, 3)
    assert count[0] == ["UNK", 3] and count[1] == ("a", 3) and count[2] == ("b", 2)
    assert data == [1, 2, 1, 0, 1, 2, 0, 0]
    assert all(reverse[dictionary[w]] == w for w in dictionary)
    batcher = example.SkipGramBatcher(list(range(10)))
    batch, labels = batcher.generate_batch(8, 2, 1)
    # Centre words 1, 2, 3, 4 twice each, with their two neighbours as labels.
    assert list(batch) == [1, 1, 2, 2, 3, 3, 4, 4]
    for centre, label in zip(batch, labels[:, 0]):
        assert abs(int(centre) - int(label)) == 1
    next_batch, _ = batcher.generate_batch(8, 2, 1)
    assert list(next_batch) == [5, 5, 6, 6, 7, 7, 8, 8]


def test_learns_topics(tmp_path):
    words, topic_of = _corpus(30000)
    corpus = tmp_path / "text8"
    corpus.write_text(" ".join(words))
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--train_data", str(corpus), "--vocabulary_size", "300",
         "--embedding_size", "32", "--num_steps", "1201", "--loss_every", "300",
         "--similarity_every", "100000", "--valid_size", "16", "--valid_window", "100",
         "--top_k", "5"],
        capture_output=True, text=True, timeout=240, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    losses = [float(line.split(": ")[1]) for line in out.splitlines()
              if line.startswith("Average loss at step")]
    assert len(losses) == 5, out[-2000:]
    # The NCE loss (64 negatives) starts near 64*log(2)+ and must fall to under a quarter.
    assert losses[-1] < 0.25 * losses[0], losses
    same = total = 0
    for line in out.splitlines():
        if not line.startswith("Nearest to "):
            continue
        word, neighbours = line[len("Nearest to "):].split(": ")
        if word not in topic_of:
            continue  # a function word: no topic
        for n in neighbours.split(", "):
            same += topic_of.get(n) == topic_of[word]
            total += 1
    assert total >= 20, out[-2000:]
    # Chance is about 1/8; learned embeddings put most neighbours in the same topic.
    assert same / total >= 0.6, (same, total, out[-2000:])
