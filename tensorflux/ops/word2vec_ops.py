"""TF 0.9's word2vec ops (its tutorial loaded them from word2vec_ops.so through
`tensorflow.models.embedding.gen_word2vec`): Skipgram reads a text corpus and hands out batches
of skip-gram (example, label) pairs; NegTrain is one in-place SGD step of skip-gram with
negative sampling (Mikolov et al. 2013) on the w_in / w_out embedding variables.

Skipgram, as TF's kernel: the vocabulary is "UNK" (id 0, counting every word seen fewer than
min_count times) then the other words by decreasing count (ties: first seen first). The corpus
is walked in "sentences" of SENTENCE_SIZE kept words (wrapping round at its end, which starts a
new epoch); a word of count f is kept with probability (sqrt(f / (s N)) + 1) s N / f for
subsample s > 0 and N corpus words (Mikolov et al. 2013, eq. 5). Each word of a sentence is
the example of pairs with every label at most `skip` words away in the sentence, skip drawn
uniformly from [1, window_size] per word. total_words_processed counts the example words whose
pairs have been handed out, current_epoch is the epoch of the last one (TF's kernel, which
precomputes 3000 pairs, reports both a little ahead).

NegTrain, vectorized per batch: every example's gradient is computed from the weights as they
were when the batch started, and the rows are updated once (repeated rows add up), where TF's
kernel updates pair after pair. Negatives are drawn from the unigram distribution of
vocab_count raised to 0.75; a negative equal to the label is skipped, as TF.
"""
import collections
import os
import threading

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import reader_ops
from tensorflux.ops import row_sums
from tensorflux.ops import state_ops

__all__ = ["skipgram", "neg_train"]

SENTENCE_SIZE = 1000  # a window never reaches across sentences (TF's kSentenceSize)


# ---- Skipgram -----------------------------------------------------------------------------------
Skipgram = registry.register_op(
    "Skipgram",
    outputs=["vocab_word: string", "vocab_freq: int32", "words_per_epoch: int64",
             "current_epoch: int32", "total_words_processed: int64", "examples: int32",
             "labels: int32"],
    attrs={"filename": "string", "batch_size": "int", "window_size": 5, "min_count": 5,
           "subsample": 1e-3},
    stateful=True)
Skipgram.not_differentiable()


@Skipgram.shape
def _skipgram_shape(op):
    batch = tensor_shape.vector(op.get_attr("batch_size"))
    scalar = tensor_shape.scalar()
    return [tensor_shape.vector(None), tensor_shape.vector(None), scalar, scalar, scalar,
            batch, batch]


@Skipgram.kernel("CPU")
def _skipgram_kernel(ctx):
    limits.check_allocation(ctx.op, [ctx.attrs["batch_size"]], np.int32)
    corpus = ctx.init_state(lambda: _Corpus(ctx.attrs, ctx.rng))
    examples, labels, epoch, processed = corpus.batch(ctx.attrs["batch_size"])
    return (corpus.vocab_word, corpus.vocab_freq, np.int64(corpus.size), np.int32(epoch),
            np.int64(processed), examples, labels)


def build_vocabulary(words, min_count):
    """(vocab_word, vocab_freq, ids): "UNK" then the words seen min_count times or more by
    decreasing count (first seen first among equals); `ids` is the corpus as word ids."""
    counts = collections.Counter(words)  # insertion-ordered: first seen first
    kept = sorted(((w, c) for w, c in counts.items() if c >= min_count), key=lambda p: -p[1])
    vocab_word = np.array([b"UNK"] + [w for w, _ in kept], dtype=object)
    vocab_freq = np.array([len(words) - sum(c for _, c in kept)] + [c for _, c in kept],
                          dtype=np.int32)
    id_of = {w: i + 1 for i, (w, _) in enumerate(kept)}
    ids = np.fromiter((id_of.get(w, 0) for w in words), dtype=np.int32, count=len(words))
    return vocab_word, vocab_freq, ids


def sentence_pairs(sentence, skips, window_size):
    """(examples, labels, example positions) of one sentence: position c pairs with every
    position within skips[c] of it, left to right."""
    offsets = np.concatenate([np.arange(-window_size, 0), np.arange(1, window_size + 1)])
    where = np.arange(len(sentence))[:, None] + offsets  # [S, 2W] label positions
    valid = ((np.abs(offsets) <= skips[:, None]) & (where >= 0) & (where < len(sentence)))
    centers, columns = np.nonzero(valid)  # row-major: by example, then label position
    return sentence[centers], sentence[where[centers, columns]], centers


class _Corpus:
    """One Skipgram op's state: the corpus as word ids, the walk's position, and the pairs made
    but not yet handed out. Steps may run at once: `batch` holds a lock."""

    def __init__(self, attrs, rng):
        filename = attrs["filename"]
        self.path = os.fsdecode(filename if isinstance(filename, bytes) else str(filename))
        self.window = attrs["window_size"]
        if self.window < 1 or attrs["batch_size"] < 1:
            raise errors.InvalidArgumentError(
                None, None, f"Skipgram needs window_size >= 1 and batch_size >= 1, got "
                            f"{self.window} and {attrs['batch_size']}")
        with reader_ops._open(os.fsencode(self.path)) as f:
            words = f.read().split()
        if len(words) < self.window * 10:
            raise errors.InvalidArgumentError(
                None, None, f"The text file {self.path} contains too little data: "
                            f"{len(words)} words")
        self.vocab_word, self.vocab_freq, self.ids = build_vocabulary(words, attrs["min_count"])
        self.size = len(words)
        self.keep = _keep_probabilities(self.vocab_freq, attrs["subsample"], self.size)
        self.rng = rng
        self.lock = threading.Lock()
        self.position, self.epoch, self.processed = self.size, -1, 0
        self.pending = (np.empty(0, np.int32),) * 2 + (np.empty(0, np.int64),) * 2
        self.cursor = 0

    def batch(self, batch_size):
        """(examples, labels, current_epoch, total_words_processed) of the next batch."""
        with self.lock:
            while len(self.pending[0]) - self.cursor < batch_size:
                self._make_pairs(batch_size)
            lo, hi = self.cursor, self.cursor + batch_size
            self.cursor = hi
            examples, labels, epochs, serials = (a[lo:hi] for a in self.pending)
            return examples.copy(), labels.copy(), int(epochs[-1]), int(serials[-1])

    def _make_pairs(self, batch_size):
        """Appends the pairs of sentences to `pending` until a batch is there."""
        rest = [a[self.cursor:] for a in self.pending]
        parts = [rest]
        available = len(rest[0])
        while available < batch_size:
            sentence, epochs = self._next_sentence()
            skips = self.rng.integers(1, self.window + 1, size=len(sentence))
            examples, labels, centers = sentence_pairs(sentence, skips, self.window)
            parts.append((examples, labels, epochs[centers], self.processed + 1 + centers))
            self.processed += len(sentence)
            available += len(examples)
        self.pending = tuple(np.concatenate(column) for column in zip(*parts))
        self.cursor = 0

    def _next_sentence(self):
        """SENTENCE_SIZE kept word ids walking on from `position`, and each one's epoch."""
        ids, epochs, need = [], [], SENTENCE_SIZE
        while need:
            if self.position >= self.size:  # the walk wraps: a new epoch
                self.position, self.epoch = 0, self.epoch + 1
            chunk = self.ids[self.position:self.position + 2 * need + 64]
            kept = np.arange(len(chunk))
            if self.keep is not None:  # drop frequent words at random
                kept = np.flatnonzero(self.rng.random(len(chunk)) <= self.keep[chunk])
            kept = kept[:need]
            self.position += int(kept[-1]) + 1 if len(kept) == need else len(chunk)
            ids.append(chunk[kept])
            epochs.append(np.full(len(kept), self.epoch, np.int64))
            need -= len(kept)
        return np.concatenate(ids), np.concatenate(epochs)


def _keep_probabilities(vocab_freq, subsample, size):
    """Per word id, the chance a word is kept (None: subsampling off)."""
    if subsample <= 0:
        return None
    threshold = subsample * size
    freq = np.maximum(vocab_freq.astype(np.float64), 1.0)  # an unseen UNK is never drawn
    return (np.sqrt(freq / threshold) + 1) * threshold / freq


def skipgram(filename, batch_size, window_size=5, min_count=5, subsample=1e-3, name=None):
    """The Skipgram op's outputs: (vocab_word, vocab_freq, words_per_epoch, current_epoch,
    total_words_processed, examples, labels); each run hands out the next batch."""
    return apply_op("Skipgram", filename=filename, batch_size=batch_size,
                    window_size=window_size, min_count=min_count, subsample=subsample,
                    name=name)


# ---- NegTrain -----------------------------------------------------------------------------------
NegTrain = registry.register_op(
    "NegTrain",
    inputs=["w_in: Ref(float)", "w_out: Ref(float)", "examples: int32", "labels: int32",
            "lr: float"],
    attrs={"vocab_count": "list(int)", "num_negative_samples": "int"}, stateful=True)
NegTrain.not_differentiable()


@NegTrain.shape
def _neg_train_shape(op):
    w_in, w_out, examples, labels, lr = (t.get_shape() for t in op.inputs)
    for shape, rank, what in ((w_in, 2, "w_in"), (examples, 1, "examples"), (lr, 0, "lr")):
        if shape.ndims is not None and shape.ndims != rank:
            raise ValueError(f"NegTrain's {what} must have rank {rank}, got shape {shape}")
    if not (w_in.is_compatible_with(w_out) and examples.is_compatible_with(labels)):
        raise ValueError(f"NegTrain needs w_in.shape == w_out.shape ({w_in} vs {w_out}) and "
                         f"examples.shape == labels.shape ({examples} vs {labels})")
    return []


@NegTrain.kernel("CPU")
def _neg_train_kernel(ctx, w_in, w_out, examples, labels, lr):
    emb_in, emb_out = w_in.get(), w_out.get()
    _check_neg_train(emb_in, emb_out, examples, labels, lr)
    cdf = ctx.init_state(lambda: _unigram_cdf(ctx.attrs["vocab_count"]))
    if len(cdf) != emb_in.shape[0]:
        raise errors.InvalidArgumentError(
            None, None, f"vocab_size mismatches: {emb_in.shape[0]} vs. {len(cdf)} (rows of "
                        f"w_in vs. entries of vocab_count)")
    examples = state_ops.check_indices("NegTrain examples", examples, emb_in.shape[0])
    labels = state_ops.check_indices("NegTrain labels", labels, emb_in.shape[0])
    # the negatives' rows are gathered at once: [batch, num_negative_samples, dims]
    limits.check_allocation(ctx.op, [len(examples), ctx.attrs["num_negative_samples"],
                                     emb_in.shape[1]], emb_in.dtype)
    draws = ctx.rng.random((len(examples), ctx.attrs["num_negative_samples"])) * cdf[-1]
    negatives = np.minimum(np.searchsorted(cdf, draws, side="right"), len(cdf) - 1)
    negative_sampling_step(emb_in, emb_out, examples, labels, negatives, np.float32(lr))


def _check_neg_train(emb_in, emb_out, examples, labels, lr):
    """TF's kernel's checks, with its wording."""
    problems = [(emb_in.ndim == 2, f"Must be a matrix: w_in has shape {list(emb_in.shape)}"),
                (emb_in.shape == emb_out.shape, f"w_in.shape == w_out.shape: "
                 f"{list(emb_in.shape)} vs. {list(emb_out.shape)}"),
                (np.ndim(examples) == 1, f"Must be a vector: examples has shape "
                 f"{list(np.shape(examples))}"),
                (np.shape(examples) == np.shape(labels), f"examples.shape == labels.shape: "
                 f"{list(np.shape(examples))} vs. {list(np.shape(labels))}"),
                (np.ndim(lr) == 0, f"Must be a scalar: lr has shape {list(np.shape(lr))}")]
    for ok, message in problems:
        if not ok:
            raise errors.InvalidArgumentError(None, None, message)


def _unigram_cdf(vocab_count):
    """Cumulative weights count ** 0.75 (words of count 0 are never drawn)."""
    weights = np.power(np.maximum(np.asarray(vocab_count, np.float64), 0.0), 0.75)
    if not weights.size or weights.sum() <= 0:
        raise errors.InvalidArgumentError(
            None, None, f"NegTrain's vocab_count needs a positive count, got {len(weights)} "
                        f"entries summing to {weights.sum()}")
    return np.cumsum(weights)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def negative_sampling_step(emb_in, emb_out, examples, labels, negatives, lr):
    """One SGD step of log sigmoid(v_in . v_label) + sum log sigmoid(-v_in . v_negative), in
    place, every gradient from the weights as they were at the start of the step."""
    v_in, v_label = emb_in[examples], emb_out[labels]  # [B, D]
    v_neg = emb_out[negatives]  # [B, K, D]
    g_label = lr * _sigmoid(-np.einsum("bd,bd->b", v_in, v_label))  # [B]
    g_neg = -lr * _sigmoid(np.einsum("bd,bkd->bk", v_in, v_neg))  # [B, K]
    g_neg *= negatives != labels[:, None]  # a negative that is the label is skipped
    d_in = g_label[:, None] * v_label + np.einsum("bk,bkd->bd", g_neg, v_neg)
    dtype = emb_in.dtype
    row_sums.add_rows(emb_out, labels, (g_label[:, None] * v_in).astype(dtype))
    row_sums.add_rows(emb_out, negatives, (g_neg[..., None] * v_in[:, None, :]).astype(dtype))
    row_sums.add_rows(emb_in, examples, d_in.astype(dtype))


def neg_train(w_in, w_out, examples, labels, lr, vocab_count, num_negative_samples, name=None):
    """A NegTrain op: one negative-sampling SGD step on the variables w_in and w_out."""
    return apply_op("NegTrain", w_in, w_out, examples, labels, lr,
                    vocab_count=[int(c) for c in vocab_count],
                    num_negative_samples=num_negative_samples, name=name)

