"""translate: --self_test learns to reverse (and copy) generated sequences with a bucketed
attention seq2seq model and sampled softmax; training on a tiny generated WMT-style parallel
corpus lowers perplexity, saves checkpoints, and --decode restores them."""
import os
import random
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "translate", "translate.py")
EN = "the cat dog house red blue big small sees eats".split()
FR = "le chat chien maison rouge bleu grand petit voit mange".split()


def _run(args, cwd, stdin=None):
    proc = subprocess.run([sys.executable, EXAMPLE] + args, capture_output=True, text=True,
                          timeout=240, cwd=str(cwd), input=stdin)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def _self_test(tmp_path, task, steps):
    out = _run(["--self_test", "--self_test_task=%s" % task, "--self_test_steps=%d" % steps],
               tmp_path)
    perplexities = [float(p) for p in re.findall(r"self_test: step \d+ .*perplexity ([0-9.]+)",
                                                 out)]
    match = re.search(r"greedy token accuracy ([0-9.]+) \(chance ([0-9.]+)\)", out)
    assert len(perplexities) == 6 and match, out[-2000:]
    return perplexities, float(match.group(1)), float(match.group(2))


def test_self_test_learns_reversal(tmp_path):
    perplexities, accuracy, chance = _self_test(tmp_path, "reverse", 600)
    # The average over the first sixth of training already fell from ~14 (uniform); the end
    # must be near 1 (certain) and greedy decoding must reverse most tokens.
    assert perplexities[-1] < 1.5 and perplexities[-1] < 0.7 * perplexities[0], perplexities
    assert accuracy >= 0.8 > 5 * chance, (accuracy, chance)


def _write_parallel_corpus(data_dir, seed=0):
    """giga-fren.release2.fixed.{en,fr} (400 pairs) and newstest2013.{en,fr} (40 pairs):
    word-for-word translations of 2-7 word sentences."""
    rng = random.Random(seed)
    data_dir.mkdir()
    for stem, count in (("giga-fren.release2.fixed", 400), ("newstest2013", 40)):
        pairs = []
        for _ in range(count):
            idx = [rng.randrange(len(EN)) for _ in range(rng.randint(2, 7))]
            pairs.append((" ".join(EN[i] for i in idx), " ".join(FR[i] for i in idx)))
        for lang, column in (("en", 0), ("fr", 1)):
            (data_dir / ("%s.%s" % (stem, lang))).write_text(
                "".join(pair[column] + "\n" for pair in pairs))


def test_train_on_parallel_corpus_then_decode(tmp_path):
    data_dir, train_dir = tmp_path / "data", tmp_path / "train"
    _write_parallel_corpus(data_dir)
    train_dir.mkdir()
    model_flags = ["--data_dir=%s" % data_dir, "--train_dir=%s" % train_dir, "--size=24",
                   "--num_layers=1", "--batch_size=16", "--en_vocab_size=30",
                   "--fr_vocab_size=30", "--num_samples=0"]
    out = _run(model_flags + ["--max_train_steps=60", "--steps_per_checkpoint=20"], tmp_path)
    perplexities = [float(p) for p in re.findall(r"global step \d+ .* perplexity ([0-9.]+)", out)]
    assert len(perplexities) == 3, out[-2000:]
    assert perplexities[-1] < 0.7 * perplexities[0], perplexities
    assert (data_dir / "vocab30.en").exists() and (data_dir / "vocab30.fr").exists()
    assert any(name.startswith("translate.ckpt-60") for name in os.listdir(train_dir))

    out = _run(model_flags + ["--decode"], tmp_path, stdin="the cat sees the dog\n")
    assert "Reading model parameters from" in out and "translate.ckpt-60" in out, out
    words = out.split("> ")[1].split()  # the translation printed after the first prompt
    assert all(word in FR or word == "_UNK" for word in words), out
