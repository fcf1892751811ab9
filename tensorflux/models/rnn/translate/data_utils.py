"""The translate tutorial's data utilities: tokenizing WMT-style parallel text (one sentence per
line, line i of the source file translating line i of the target file), building vocabulary
files, and writing token-id files.

Vocabulary files hold one token per line, the special tokens first (_PAD, _GO, _EOS, _UNK, ids
0-3), then tokens by decreasing frequency. Tokens are bytes; digits become 0 unless
normalize_digits is False. Everything reads local files; nothing downloads.
"""
import collections
import gzip
import os
import re
import shutil

__all__ = ["PAD_ID", "GO_ID", "EOS_ID", "UNK_ID", "basic_tokenizer", "create_vocabulary",
           "initialize_vocabulary", "sentence_to_token_ids", "data_to_token_ids",
           "prepare_wmt_data", "prepare_data", "get_wmt_enfr_train_set", "get_wmt_enfr_dev_set"]

_PAD, _GO, _EOS, _UNK = b"_PAD", b"_GO", b"_EOS", b"_UNK"
_START_VOCAB = [_PAD, _GO, _EOS, _UNK]
PAD_ID, GO_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

_WORD_SPLIT = re.compile(rb"([.,!?\"':;)(])")
_DIGIT_RE = re.compile(rb"\d")


def _as_bytes(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def basic_tokenizer(sentence):
    """Splits a sentence on whitespace and around the punctuation . , ! ? " ' : ; ( )."""
    words = []
    for fragment in _as_bytes(sentence).strip().split():
        words.extend(_WORD_SPLIT.split(fragment))
    return [w for w in words if w]


def _tokens(line, tokenizer, normalize_digits):
    line = _as_bytes(line)
    words = [_as_bytes(w) for w in tokenizer(line)] if tokenizer else basic_tokenizer(line)
    return [_DIGIT_RE.sub(b"0", w) for w in words] if normalize_digits else words


def create_vocabulary(vocabulary_path, data_path, max_vocabulary_size, tokenizer=None,
                      normalize_digits=True):
    """Writes the vocabulary of data_path (special tokens first, then by decreasing count,
    at most max_vocabulary_size lines) to vocabulary_path, unless that file already exists."""
    if os.path.exists(vocabulary_path):
        return
    counts = collections.Counter()
    with open(data_path, "rb") as f:
        for line in f:
            counts.update(_tokens(line, tokenizer, normalize_digits))
    vocab = _START_VOCAB + sorted(counts, key=lambda w: -counts[w])
    with open(vocabulary_path, "wb") as f:
        for word in vocab[:max_vocabulary_size]:
            f.write(word + b"\n")


def initialize_vocabulary(vocabulary_path):
    """(vocab: token -> id, rev_vocab: list of tokens) from a vocabulary file.

    Raises:
      ValueError: if the file does not exist.
    """
    if not os.path.exists(vocabulary_path):
        raise ValueError(f"Vocabulary file {vocabulary_path} not found.")
    with open(vocabulary_path, "rb") as f:
        rev_vocab = [line.strip() for line in f]
    return {word: i for i, word in enumerate(rev_vocab)}, rev_vocab


def sentence_to_token_ids(sentence, vocabulary, tokenizer=None, normalize_digits=True):
    """The ids of a sentence's tokens (UNK_ID for tokens not in `vocabulary`)."""
    return [vocabulary.get(w, UNK_ID) for w in _tokens(sentence, tokenizer, normalize_digits)]


def data_to_token_ids(data_path, target_path, vocabulary_path, tokenizer=None,
                      normalize_digits=True):
    """Writes data_path's lines as space-separated token ids to target_path, unless that file
    already exists."""
    if os.path.exists(target_path):
        return
    vocab, _ = initialize_vocabulary(vocabulary_path)
    with open(data_path, "rb") as data, open(target_path, "w", encoding="ascii") as out:
        for line in data:
            ids = sentence_to_token_ids(line, vocab, tokenizer, normalize_digits)
            out.write(" ".join(str(i) for i in ids) + "\n")


def _local_pair(data_dir, stem, what):
    """The path prefix of stem.en / stem.fr in data_dir, gunzipping stem.*.gz if needed."""
    prefix = os.path.join(data_dir, stem)
    missing = []
    for lang in ("en", "fr"):
        path = f"{prefix}.{lang}"
        if not os.path.exists(path) and os.path.exists(path + ".gz"):
            with gzip.open(path + ".gz", "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        if not os.path.exists(path):
            missing.append(path)
    if missing:
        raise ValueError(f"The WMT {what} set needs {prefix}.en and {prefix}.fr (or .gz); "
                         f"missing: {', '.join(missing)}. tensorflux does not download them.")
    return prefix


def get_wmt_enfr_train_set(directory):
    """The path prefix of the local training pair giga-fren.release2.fixed.{en,fr}."""
    return _local_pair(directory, "giga-fren.release2.fixed", "training")


def get_wmt_enfr_dev_set(directory):
    """The path prefix of the local development pair newstest2013.{en,fr}."""
    return _local_pair(directory, "newstest2013", "development")


def prepare_data(data_dir, from_train_path, to_train_path, from_dev_path, to_dev_path,
                 from_vocabulary_size, to_vocabulary_size, tokenizer=None):
    """Builds vocabularies from the training pair and token-id files for all four files.

    Returns:
      (from_train_ids, to_train_ids, from_dev_ids, to_dev_ids, from_vocab_path,
      to_vocab_path): the paths written.
    """
    to_vocab = os.path.join(data_dir, f"vocab{to_vocabulary_size}.to")
    from_vocab = os.path.join(data_dir, f"vocab{from_vocabulary_size}.from")
    create_vocabulary(to_vocab, to_train_path, to_vocabulary_size, tokenizer)
    create_vocabulary(from_vocab, from_train_path, from_vocabulary_size, tokenizer)
    out = []
    for path, vocab, size in ((from_train_path, from_vocab, from_vocabulary_size),
                              (to_train_path, to_vocab, to_vocabulary_size),
                              (from_dev_path, from_vocab, from_vocabulary_size),
                              (to_dev_path, to_vocab, to_vocabulary_size)):
        ids_path = f"{path}.ids{size}"
        data_to_token_ids(path, ids_path, vocab, tokenizer)
        out.append(ids_path)
    return tuple(out) + (from_vocab, to_vocab)


def prepare_wmt_data(data_dir, en_vocabulary_size, fr_vocabulary_size, tokenizer=None):
    """The tutorial's English-French preparation on local files in data_dir.

    Returns:
      (en_train_ids, fr_train_ids, en_dev_ids, fr_dev_ids, en_vocab_path, fr_vocab_path).

    Raises:
      ValueError: naming the giga-fren / newstest2013 files that are missing.
    """
    train = get_wmt_enfr_train_set(data_dir)
    dev = get_wmt_enfr_dev_set(data_dir)
    paths = {}
    for lang, size in (("en", en_vocabulary_size), ("fr", fr_vocabulary_size)):
        vocab = os.path.join(data_dir, f"vocab{size}.{lang}")
        create_vocabulary(vocab, f"{train}.{lang}", size, tokenizer)
        for split, prefix in (("train", train), ("dev", dev)):
            ids_path = f"{prefix}.ids{size}.{lang}"
            data_to_token_ids(f"{prefix}.{lang}", ids_path, vocab, tokenizer)
            paths[split, lang] = ids_path
        paths["vocab", lang] = vocab
    return (paths["train", "en"], paths["train", "fr"], paths["dev", "en"], paths["dev", "fr"],
            paths["vocab", "en"], paths["vocab", "fr"])
