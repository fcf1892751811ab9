"""tensorflux.models.embedding.word2vec and word2vec_optimized (TF 0.9's
tensorflow/models/embedding tutorials) train on a small text with planted structure, evaluate
analogies and save checkpoints, run with `python -m`, and import as TF 0.9 scripts did.

The text: 4000 words in runs of ten drawn from one of five groups of six words (g<k>w<j>), so
words of a group share contexts and their embeddings should come out close. The modules
define flags at import (as TF's did, clashing with each other), so they run in subprocesses
(the op-level checks of Skipgram and NegTrain are in tests/ops/test_word2vec_ops.py)."""
import os
import random
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(120)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUPS, PER_GROUP = 5, 6
SMALL = ["--embedding_size=16", "--concurrent_steps=2", "--min_count=2"]


def _write_data(folder):
    rng = random.Random(0)
    words = []
    for _ in range(400):
        group = rng.randrange(GROUPS)
        words += [f"g{group}w{rng.randrange(PER_GROUP)}" for _ in range(10)]
    (folder / "text.txt").write_text(" ".join(words))
    (folder / "questions.txt").write_text(
        ": groups\ng0w0 g0w1 g1w0 g1w1\nG2W0 g2w1 g3w0 g3w1\nunknown g0w1 g1w0 g1w1\n")
    return str(folder / "text.txt"), str(folder / "questions.txt")


def _run_module(module, tmp_path, *args):
    train, questions = _write_data(tmp_path)
    save = tmp_path / "save"
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", f"tensorflux.models.embedding.{module}", f"--train_data={train}",
         f"--eval_data={questions}", f"--save_path={save}", *SMALL, *args],
        env=env, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.replace("\r", "\n").splitlines()
    assert "Vocab size:  30  + UNK" in lines and "Words per epoch:  4000" in lines
    assert "Questions:  2" in lines and "Skipped:  1" in lines  # "G2W0" is lower-cased
    return lines, save


def _latest(save):
    return tf.train.latest_checkpoint(str(save))


def _vocabulary(save):
    lines = (save / "vocab.txt").read_text().splitlines()
    return [line.split() for line in lines]


def _group_similarity(embeddings, words):
    """Mean cosine similarity of distinct words in one group, and of words in different ones."""
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sim = normed @ normed.T
    group = np.array([int(w[1]) if w != "UNK" else -1 for w in words])
    real = group >= 0
    same = (group[:, None] == group[None, :]) & ~np.eye(len(words), dtype=bool)
    other = group[:, None] != group[None, :]
    mask = real[:, None] & real[None, :]
    return sim[same & mask].mean(), sim[other & mask].mean()


def test_word2vec_lowers_the_loss_evaluates_and_saves(tmp_path):
    num_neg = 10
    lines, save = _run_module("word2vec", tmp_path, "--epochs_to_train=3", "--batch_size=32",
                              f"--num_neg_samples={num_neg}", "--statistics_interval=0")
    stats = [(int(m.group(1)), float(m.group(2))) for m in
             (re.search(r"Epoch +(\d+) Step +\d+: lr = [\d.]+ loss = +([\d.]+)", line)
              for line in lines) if m]
    untrained = (1 + num_neg) * np.log(2)  # every logit 0 at the start (sm_w_t, sm_b zeros)
    last_epoch = [loss for epoch, loss in stats if epoch == stats[-1][0]]
    assert stats and max(last_epoch) < 0.7 * untrained, stats
    assert sum(bool(re.match(r"Eval +\d/2 accuracy", line)) for line in lines) == 3
    words = [w for w, _ in _vocabulary(save)]
    assert words[0] == "UNK" and sorted(words[1:]) == sorted(
        f"g{g}w{j}" for g in range(GROUPS) for j in range(PER_GROUP))
    reader = tf.train.NewCheckpointReader(_latest(save))
    shapes = reader.get_variable_to_shape_map()
    assert shapes["emb"] == [31, 16] and shapes["sm_w_t"] == [31, 16] and shapes["sm_b"] == [31]
    step = reader.get_tensor("global_step")
    assert _latest(save).endswith(f"model.ckpt-{step}") and step > 0
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(save))


def test_word2vec_optimized_learns_the_planted_groups(tmp_path):
    lines, save = _run_module("word2vec_optimized", tmp_path, "--epochs_to_train=2",
                              "--batch_size=64", "--num_neg_samples=5", "--subsample=0")
    assert re.search(r"Eval +\d/2 accuracy", "\n".join(lines))
    reader = tf.train.NewCheckpointReader(_latest(save))
    words = [w for w, _ in _vocabulary(save)]
    same, other = _group_similarity(reader.get_tensor("w_in"), words)
    assert same > other + 0.3, (same, other)
    # two epochs of about 4000 words, each example of ~6 pairs, in steps of 64 pairs
    assert 2 * 4000 * 5 / 64 < reader.get_tensor("global_step") < 2 * 4000 * 7 / 64


def test_tf09_imports_through_the_alias(tmp_path):
    train, _ = _write_data(tmp_path)
    code = textwrap.dedent(f"""
        import tensorflux.alias
        tensorflux.alias.install()
        import tensorflow as tf
        from tensorflow.models.embedding import gen_word2vec as word2vec
        from tensorflow.models.embedding import word2vec_optimized
        (words, counts, words_per_epoch, epoch, total, examples,
         labels) = word2vec.skipgram(filename={train!r}, batch_size=8, window_size=1,
                                     min_count=1, subsample=0.0)
        with tf.Session() as session:
            vocab, freq = session.run([words, counts])
        w_in = tf.Variable(tf.random_uniform([len(vocab), 4], -0.1, 0.1))
        w_out = tf.Variable(tf.zeros([len(vocab), 4]))
        train = word2vec.neg_train(w_in, w_out, examples, labels, 0.5,
                                   vocab_count=freq.tolist(), num_negative_samples=2)
        with tf.Session() as session:
            session.run(tf.initialize_all_variables())
            before = session.run(w_out)
            session.run(train)
            print("moved", int((session.run(w_out) != before).any(axis=1).sum()))
        try:
            word2vec_optimized.main([])
        except SystemExit as e:
            print("exit", e.code)
    """)
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=100)
    assert proc.returncode == 0, proc.stderr
    moved = int(re.search(r"moved (\d+)", proc.stdout).group(1))
    assert moved >= 2  # the labels' rows and the negatives' rows of w_out
    assert "--train_data --eval_data and --save_path must be specified." in proc.stdout
    assert "exit 1" in proc.stdout
