"""The talk's 4-layer LSTM split over 4 processes: bit-identical to one process."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "examples", "distributed", "lstm_model_parallel.py")
pytestmark = pytest.mark.timeout(180)


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    env.pop("TF_CONFIG", None)
    return env


def test_lstm_over_four_tasks_matches_one_process(tmp_path):
    local, dist = tmp_path / "local.npz", tmp_path / "dist.npz"
    subprocess.run([sys.executable, SCRIPT, "--local", "--out", str(local)], check=True,
                   env=_env(), timeout=120, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "tensorflux.distributed.launch", "--ps", "0",
                          "--workers", "4", "--timeout", "150", "--", SCRIPT, "--out",
                          str(dist)], env=_env(), timeout=170, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for k in (1, 2, 3):
        assert f"[worker/{k}] worker {k}: released" in out.stdout
    a, b = np.load(local), np.load(dist)
    assert sorted(a.files) == sorted(b.files)
    assert len([k for k in a.files if k.startswith("grad/")]) == 10
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
