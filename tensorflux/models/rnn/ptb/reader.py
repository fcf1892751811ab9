"""Reading the Penn Treebank language-model data (ptb.train.txt, ptb.valid.txt, ptb.test.txt).

    train, valid, test, vocab_size = reader.ptb_raw_data("simple-examples/data")
    for x, y in reader.ptb_iterator(train, batch_size=20, num_steps=20):    # TF 0.9
        ...
    x, y = reader.ptb_producer(train, batch_size=20, num_steps=20)          # TF 1.0 (graph ops)

Each line ends with an "<eos>" token. Word ids come from the training file: the most frequent
word gets id 0, ties broken alphabetically, so ids match TensorFlow's reader.
"""
import collections
import os

import numpy as np

__all__ = ["ptb_raw_data", "ptb_iterator", "ptb_producer"]

_FILES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")


def _read_words(filename):
    with open(filename, encoding="utf-8") as f:
        return f.read().replace("\n", " <eos> ").split()


def _build_vocab(filename):
    counts = collections.Counter(_read_words(filename))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {word: i for i, (word, _) in enumerate(ordered)}


def _file_to_word_ids(filename, word_to_id):
    """Word ids of `filename`; words missing from the vocabulary are dropped (as TF 1.0 did)."""
    return [word_to_id[word] for word in _read_words(filename) if word in word_to_id]


def ptb_raw_data(data_path=None):
    """(train_ids, valid_ids, test_ids, vocabulary_size) from the three PTB files in
    `data_path`; each *_ids is a list of ints.

    Raises:
      ValueError: naming the files needed if any is missing.
    """
    paths = [os.path.join(data_path or ".", name) for name in _FILES]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise ValueError(f"ptb_raw_data needs {', '.join(_FILES)} in data_path "
                         f"({data_path!r}); missing: {', '.join(missing)}. tensorflux does not "
                         f"download them (they are in simple-examples/data of Mikolov's "
                         f"simple-examples.tgz)")
    word_to_id = _build_vocab(paths[0])
    train, valid, test = (_file_to_word_ids(p, word_to_id) for p in paths)
    return train, valid, test, len(word_to_id)


def _batched(raw_data, batch_size, num_steps):
    """raw_data cut into batch_size rows of equal length; checks there is at least one step."""
    raw_data = np.asarray(raw_data, dtype=np.int32).reshape(-1)
    batch_len = len(raw_data) // batch_size
    data = raw_data[:batch_size * batch_len].reshape(batch_size, batch_len)
    epoch_size = (batch_len - 1) // num_steps
    if epoch_size <= 0:
        raise ValueError(f"epoch_size == 0, decrease batch_size or num_steps: {len(raw_data)} "
                         f"words make rows of {batch_len} for batch_size {batch_size}, which "
                         f"need more than num_steps={num_steps} words")
    return data, epoch_size


def ptb_iterator(raw_data, batch_size, num_steps):
    """Yields (x, y) int32 pairs of shape [batch_size, num_steps]; y is x shifted by one word.

    The data is cut into batch_size contiguous rows; step i reads columns
    [i * num_steps, (i + 1) * num_steps) of every row.

    Raises:
      ValueError: if the data is too short for one step.
    """
    data, epoch_size = _batched(raw_data, batch_size, num_steps)
    for i in range(epoch_size):
        start = i * num_steps
        yield data[:, start:start + num_steps], data[:, start + 1:start + num_steps + 1]


def ptb_producer(raw_data, batch_size, num_steps, name=None):
    """Graph ops yielding (x, y) [batch_size, num_steps] int32 batches, as ptb_iterator does,
    one step per run; a queue runner (tf.train.range_input_producer) feeds the step index, so
    call tf.train.start_queue_runners.

    Raises:
      ValueError: if the data is too short for one step.
    """
    import tensorflux as tf
    with tf.name_scope(name, "PTBProducer", [raw_data, batch_size, num_steps]):
        data, epoch_size = _batched(raw_data, batch_size, num_steps)
        data = tf.convert_to_tensor(data, name="raw_data", dtype=tf.int32)
        i = tf.train.range_input_producer(epoch_size, shuffle=False).dequeue()
        start = i * num_steps
        x = tf.strided_slice(data, _pair(0, start), _pair(batch_size, start + num_steps))
        y = tf.strided_slice(data, _pair(0, start + 1), _pair(batch_size, start + num_steps + 1))
        x.set_shape([batch_size, num_steps])
        y.set_shape([batch_size, num_steps])
        return x, y


def _pair(row, column):
    """[row, column] as a 1-D int32 tensor (column is a scalar tensor)."""
    import tensorflux as tf
    return tf.stack([tf.constant(row, tf.int32), tf.cast(column, tf.int32)])
