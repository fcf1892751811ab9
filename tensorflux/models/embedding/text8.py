"""The word2vec tutorial's corpus helpers: read a text8-style corpus (one long line of
space-separated words, plain or zipped), build a vocabulary, and make skip-gram batches.

    words = text8.read_data("text8.zip")
    data, count, dictionary, reverse_dictionary = text8.build_dataset(words, 50000)
    batcher = text8.SkipGramBatcher(data)
    batch, labels = batcher.generate_batch(batch_size=128, num_skips=2, skip_window=1)
"""
import collections
import os
import random
import zipfile

import numpy as np

__all__ = ["maybe_download", "read_data", "build_dataset", "SkipGramBatcher", "generate_batch"]


def maybe_download(filename, expected_bytes=None, work_directory="."):
    """The local path of `filename` (in work_directory), checked against expected_bytes.

    tensorflux does not download: a missing file raises ValueError saying what to fetch
    (text8.zip is at http://mattmahoney.net/dc/text8.zip).
    """
    path = filename if os.path.isfile(filename) else os.path.join(work_directory, filename)
    if not os.path.isfile(path):
        raise ValueError(f"{filename} not found in {os.path.abspath(work_directory)}; "
                         f"tensorflux does not download, place the file there first")
    size = os.path.getsize(path)
    if expected_bytes is not None and size != expected_bytes:
        raise ValueError(f"Failed to verify {path}: {size} bytes, expected {expected_bytes}")
    return path


def read_data(filename):
    """The words of a corpus: the first member of a zip archive, or a plain text file."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as archive:
            text = archive.read(archive.namelist()[0])
    else:
        with open(filename, "rb") as f:
            text = f.read()
    return text.decode("utf-8", errors="replace").split()


def build_dataset(words, vocabulary_size):
    """Maps words to ids, keeping the vocabulary_size - 1 most common and 'UNK' (id 0).

    Returns:
      data: list of ids, one per word; count: [['UNK', n_unknown], [word, n], ...] by
      decreasing frequency; dictionary: word -> id; reverse_dictionary: id -> word.
    """
    count = [["UNK", -1]]
    count.extend([list(pair) for pair in
                  collections.Counter(words).most_common(vocabulary_size - 1)])
    dictionary = {word: i for i, (word, _) in enumerate(count)}
    data = [dictionary.get(word, 0) for word in words]
    count[0][1] = data.count(0)
    reverse_dictionary = {i: word for word, i in dictionary.items()}
    return data, count, dictionary, reverse_dictionary


class SkipGramBatcher:
    """Walks `data` (word ids) making skip-gram (centre word, context word) batches.

    Each centre word contributes num_skips pairs whose context words are distinct picks
    within skip_window words either side; the walk wraps around the end of the data.
    """

    def __init__(self, data, seed=None):
        if len(data) == 0:
            raise ValueError("SkipGramBatcher needs non-empty data")
        self.data = data
        self.data_index = 0
        self._random = random.Random(seed)

    def generate_batch(self, batch_size, num_skips, skip_window):
        """(batch int32 [batch_size], labels int32 [batch_size, 1])."""
        if batch_size % num_skips or num_skips > 2 * skip_window:
            raise ValueError(f"need batch_size % num_skips == 0 and num_skips <= 2 * "
                             f"skip_window, got batch_size={batch_size}, num_skips={num_skips}, "
                             f"skip_window={skip_window}")
        span = 2 * skip_window + 1
        window = collections.deque(maxlen=span)
        for _ in range(span):
            window.append(self._next())
        batch = np.empty(batch_size, np.int32)
        labels = np.empty((batch_size, 1), np.int32)
        contexts = [i for i in range(span) if i != skip_window]
        for i in range(batch_size // num_skips):
            for j, target in enumerate(self._random.sample(contexts, num_skips)):
                batch[i * num_skips + j] = window[skip_window]
                labels[i * num_skips + j, 0] = window[target]
            window.append(self._next())
        # Step back so that the next batch starts where this one's last window ended.
        self.data_index = (self.data_index - span) % len(self.data)
        return batch, labels

    def _next(self):
        word = self.data[self.data_index]
        self.data_index = (self.data_index + 1) % len(self.data)
        return word


def generate_batch(data, batch_size, num_skips, skip_window, data_index=0, seed=None):
    """One skip-gram batch from `data` starting at data_index.

    Returns:
      (batch, labels, next_data_index): pass next_data_index to the next call.
    """
    batcher = SkipGramBatcher(data, seed)
    batcher.data_index = data_index % len(data)
    batch, labels = batcher.generate_batch(batch_size, num_skips, skip_window)
    return batch, labels, batcher.data_index
