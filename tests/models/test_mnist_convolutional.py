"""tensorflux.models.image.mnist.convolutional (TF 0.9's tensorflow.models.image.mnist
.convolutional) learns from MNIST-format IDX files written here, and passes its self test.

The data: 28x28 images whose class k is a bright 6x6 square at one of ten fixed places, plus
noise; 350 training images (50 held out for validation) and 128 test images."""
import gzip
import os
import re
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.timeout(300)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = "tensorflux.models.image.mnist.convolutional"
SMALL = ["--batch_size=16", "--eval_batch_size=16", "--conv1_filters=4", "--conv2_filters=8",
         "--fc_units=32"]


def _idx(array, magic):
    header = np.array([magic] + list(array.shape), ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def _write(directory, name, array, magic):
    (directory / name).write_bytes(gzip.compress(_idx(array, magic)))


def _squares(rng, count):
    labels = rng.integers(0, 10, count)
    images = rng.integers(0, 60, (count, 28, 28))
    for i, k in enumerate(labels):
        r, c = 3 + 8 * (k // 4), 3 + 8 * (k % 4)
        images[i, r:r + 6, c:c + 6] = 255
    return images, labels


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", MODULE, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=280)
    return proc


def test_learns_from_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    train_x, train_y = _squares(rng, 350)
    test_x, test_y = _squares(rng, 128)
    _write(tmp_path, "train-images-idx3-ubyte.gz", train_x, 2051)
    _write(tmp_path, "train-labels-idx1-ubyte.gz", train_y, 2049)
    _write(tmp_path, "t10k-images-idx3-ubyte.gz", test_x, 2051)
    _write(tmp_path, "t10k-labels-idx1-ubyte.gz", test_y, 2049)
    proc = _run([f"--data_dir={tmp_path}", "--validation_size=50", "--num_epochs=4",
                 "--eval_frequency=20", "--learning_rate=0.05"] + SMALL, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    errors = [float(e) for e in re.findall(r"Validation error: ([\d.]+)%", proc.stdout)]
    test_error = float(re.search(r"Test error: ([\d.]+)%", proc.stdout).group(1))
    assert errors[0] > 50 and test_error < 30, proc.stdout  # chance is 90% error


def test_self_test_and_missing_data(tmp_path):
    proc = _run(["--self_test", "--num_epochs=1", "--eval_frequency=8"] + SMALL, tmp_path)
    assert proc.returncode == 0 and "test_error 0.0" in proc.stdout, proc.stdout + proc.stderr
    proc = _run([f"--data_dir={tmp_path}"], tmp_path)
    assert proc.returncode != 0
    assert "No train-images-idx3-ubyte.gz in --data_dir" in proc.stderr, proc.stderr
