"""TF 0.9-style scripts run unchanged on tensorflux through the `tensorflow` alias."""
import importlib.util
import re

import pytest

pytestmark = pytest.mark.timeout(300)


def test_softmax_tutorial_trains(run_tf_script):
    out = run_tf_script("tf09_softmax.py", "--max_steps=150")
    first, last = map(float, re.search(r"accuracy ([\d.]+) -> ([\d.]+)", out).groups())
    assert first < 0.5 and last > 0.9, out


def test_keras_backend_calls(run_tf_script):
    assert "OK keras backend calls" in run_tf_script("tf09_keras_backend_calls.py")


def test_defun_through_tensorflow_python_framework_function(run_tf_script):
    assert "OK defun" in run_tf_script("tf09_defun.py")


def test_tf09_unit_test_file_passes(run_tf_script):
    out = run_tf_script("tf09_reshape_tests.py")
    ran = int(re.search(r"Ran (\d+) tests", out).group(1))
    assert ran >= 3 and "\nOK" in out and "FAILED" not in out, out


def test_tf09_queue_reader_and_tensor_array_tests_pass(run_tf_script):
    out = run_tf_script("tf09_queue_tensor_array_tests.py")
    ran = int(re.search(r"Ran (\d+) tests", out).group(1))
    # nine tests; unittest also collects each class's test_session and skips it (as in TF)
    assert ran == 12 and "\nOK (skipped=3)" in out and "FAILED" not in out, out


@pytest.mark.parametrize("module", ["tensorflow.models.image.cifar10.cifar10_train",
                                    "tensorflow.models.rnn.ptb.ptb_word_lm",
                                    "tensorflow.models.rnn.translate.translate"])
def test_tutorial_modules_run_at_tf09_paths(module, tmp_path, alias_runner):
    """`python -m tensorflow.models...` (through the alias) reaches the tutorial's flags."""
    proc = alias_runner(["-m", module, "--help"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--max_steps" in proc.stdout or "--data_path" in proc.stdout or (
        "--data_dir" in proc.stdout), proc.stdout


def test_rnn_library_from_models_rnn_trains_saves_and_restores(run_tf_script, tmp_path):
    out = run_tf_script("tf09_rnn_saver.py", str(tmp_path / "train"))
    first, last, restored = map(float, re.search(
        r"cost ([\d.]+) -> ([\d.]+) restored ([\d.]+)", out).groups())
    assert last < 0.3 * first and restored < 0.3 * first, out
    assert "saved model.ckpt-150" in out and "event files 1" in out, out


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                    reason="the MNIST stand-in is built from scikit-learn's digits")
def test_mnist_beginners_tutorial_through_input_data(run_tf_script, tmp_path):
    out = run_tf_script("tf09_input_data.py", str(tmp_path / "MNIST_data"))
    assert float(re.search(r"accuracy ([\d.]+)", out).group(1)) > 0.8, out
