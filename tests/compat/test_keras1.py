"""Keras 1.x's TensorFlow backend, unmodified, trains on tensorflux through the `tensorflow`
alias. Runs where Keras 1.x is installed (or TENSORFLUX_KERAS1_PATH names a folder holding it,
e.g. `pip install --no-deps --target DIR keras==1.2.2 six pyyaml`); skips otherwise.
tests/compat/test_tf09_scripts.py::test_keras_backend_calls covers the same TensorFlow calls
without Keras."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.keras1]
KERAS_PATH = os.environ.get("TENSORFLUX_KERAS1_PATH", "")


def _keras1_version():
    """Keras's version if a 1.x is installed (where the subprocess will look), else None."""
    code = ("import importlib.metadata as m, importlib.util as u; "
            "print(m.version('keras') if u.find_spec('keras') else '')")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (KERAS_PATH,) if p))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60).stdout.strip()
    return out if out.startswith("1.") else None


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs scikit-learn")
def test_keras1_models_train_on_tensorflux(run_tf_script, tmp_path):
    version = _keras1_version()
    if version is None:
        pytest.skip("Keras 1.x is not installed (set TENSORFLUX_KERAS1_PATH)")
    out = run_tf_script("keras1_digits.py", "8", extra_path=[KERAS_PATH] if KERAS_PATH else [],
                        env={"KERAS_BACKEND": "tensorflow", "HOME": str(tmp_path)})
    assert f"keras {version} tensorflow module: tensorflux" in out, out
    assert float(re.search(r"mlp accuracy ([\d.]+)", out).group(1)) > 0.9, out
    assert float(re.search(r"conv accuracy ([\d.]+)", out).group(1)) > 0.8, out
    assert float(re.search(r"lstm accuracy ([\d.]+)", out).group(1)) > 0.4, out  # chance 0.1
