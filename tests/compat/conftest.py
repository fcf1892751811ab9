"""TF 0.9-era scripts run unchanged, `import tensorflow as tf` and all, through
`python -m tensorflux.alias` in a subprocess (so the alias never leaks into other tests)."""
import os
import subprocess
import sys

import pytest

collect_ignore = ["scripts"]  # TF scripts, run by the tests through the alias
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_with_alias(args, cwd, extra_path=(), timeout=240, env=None):
    """Runs `python -m tensorflux.alias *args`; returns the CompletedProcess."""
    path = [REPO, *extra_path, os.environ.get("PYTHONPATH", "")]
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p),
                    OPENBLAS_NUM_THREADS="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "tensorflux.alias", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def alias_runner():
    """run_with_alias, for tests that check a failing or module run themselves."""
    return run_with_alias


@pytest.fixture
def run_tf_script(tmp_path):
    """Runs tests/compat/scripts/<name> with the alias; fails with its output unless rc 0."""
    def run(name, *args, **kwargs):
        proc = run_with_alias([os.path.join(SCRIPTS, name), *args], cwd=tmp_path, **kwargs)
        assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr
    return run
