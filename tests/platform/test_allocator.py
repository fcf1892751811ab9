"""platform/allocator.py: glibc's thresholds set once, at the first Session, unless the user
chose (TENSORFLUX_MALLOC_TUNING=0 or glibc's own MALLOC_*_ variables)."""
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")]

_PROBE = """
import resource, numpy as np
import tensorflux as tf
from tensorflux.platform import allocator
assert allocator._done is None  # importing changes nothing
tf.Session().close()
print(allocator._done, allocator.tune_once())
"""


def _probe(**env):
    full = dict(os.environ, **env)
    for key in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "TENSORFLUX_MALLOC_TUNING"):
        if key not in env:
            full.pop(key, None)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=full, capture_output=True,
                         text=True, timeout=50, check=True)
    return out.stdout.split()


def test_first_session_sets_the_thresholds():
    assert _probe() == ["True", "True"]


@pytest.mark.parametrize("env", [{"TENSORFLUX_MALLOC_TUNING": "0"},
                                 {"MALLOC_TRIM_THRESHOLD_": "1000000"}])
def test_the_users_choice_wins(env):
    assert _probe(**env) == ["False", "False"]
