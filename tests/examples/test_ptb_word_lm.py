"""ptb_word_lm learns a generated PTB-format corpus: perplexity falls far below the vocabulary
size, and the learning rate decays by assignment after max_epoch epochs."""
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ptb_word_lm.py")
WORDS = ["w%d" % i for i in range(30)]


def _write_corpus(path, seed=2):
    """Sentences that count upwards through 30 words from a random start (mod 30), 4-8 long:
    after the first word, each next word is determined by the previous one."""
    rng = np.random.default_rng(seed)
    os.makedirs(path, exist_ok=True)
    for split, count in (("train", 1500), ("valid", 100), ("test", 60)):
        lines = []
        for _ in range(count):
            start, length = rng.integers(len(WORDS)), rng.integers(4, 9)
            sentence = [WORDS[(start + k) % len(WORDS)] for k in range(length)]
            lines.append(" " + " ".join(sentence) + " \n")
        with open(os.path.join(path, "ptb.%s.txt" % split), "w") as f:
            f.writelines(lines)


def test_source_uses_the_tutorial_pieces():
    # the example is a launcher; the tutorial lives at TF's path tensorflow.models.rnn.ptb
    with open(os.path.join(ROOT, "tensorflux", "models", "rnn", "ptb", "ptb_word_lm.py")) as f:
        source = f.read()
    for piece in ["tf.nn.rnn_cell.BasicLSTMCell(", "tf.nn.rnn_cell.MultiRNNCell(",
                  "tf.nn.rnn_cell.DropoutWrapper(", "tf.nn.dropout(", "tf.nn.rnn(",
                  "tf.nn.dynamic_rnn(", "tf.clip_by_global_norm(", "tf.assign(self._lr",
                  "tf.nn.embedding_lookup(", "sequence_loss_by_example("]:
        assert piece in source, piece


def test_tiny_model_learns(tmp_path):
    data = tmp_path / "data"
    _write_corpus(str(data))
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--data_path=%s" % data, "--model=tiny", "--max_max_epoch=4"],
        capture_output=True, text=True, timeout=240, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout

    def values(label):
        return [float(v) for v in re.findall(r"Epoch: \d+ %s: ([0-9.]+)" % label, out)]
    rates = values("Learning rate")
    train, valid = values("Train Perplexity"), values("Valid Perplexity")
    assert len(rates) == len(train) == len(valid) == 4, out[-2000:]
    # TinyConfig: max_epoch 3, lr_decay 0.5 -> the assigned rate halves in epoch 4.
    assert rates == [1.0, 1.0, 1.0, 0.5], rates
    test_ppl = float(re.search(r"Test Perplexity: ([0-9.]+)", out).group(1))
    vocabulary = len(WORDS) + 1  # with <eos>
    # Chance is the vocabulary size (31); most next words are determined by the previous one.
    assert test_ppl < vocabulary / 4.0, out[-2000:]
    assert valid[-1] < vocabulary / 4.0 and valid[-1] <= valid[0], (train, valid)
    assert train[-1] < 0.5 * train[0], train


def test_dynamic_rnn_mode_learns(tmp_path):
    data = tmp_path / "data"
    _write_corpus(str(data))
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--data_path=%s" % data, "--model=tiny", "--max_max_epoch=2",
         "--rnn_mode=dynamic"], capture_output=True, text=True, timeout=240, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    test_ppl = float(re.search(r"Test Perplexity: ([0-9.]+)", proc.stdout).group(1))
    assert test_ppl < (len(WORDS) + 1) / 4.0, proc.stdout[-2000:]
