"""TensorFlow's mnist_replica program through the local launcher: 1 ps, 2 workers, sync."""
import os
import re
import subprocess
import sys

import pytest

from tensorflux.examples.tutorials.mnist import input_data

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "examples", "distributed", "mnist_replica.py")
pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_mnist_replica_trains_with_the_launcher(tmp_path, sync):
    data = tmp_path / "mnist"
    input_data.read_data_sets(str(data), one_hot=True)  # built once, before the tasks read it
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    env.pop("TF_CONFIG", None)
    args = ["--data_dir", str(data), "--train_steps", "100", "--learning_rate", "0.01"]
    if sync:
        args.append("--sync_replicas")
    out = subprocess.run([sys.executable, "-m", "tensorflux.distributed.launch", "--ps", "1",
                          "--workers", "2", "--timeout", "200", "--", SCRIPT] + args,
                         env=env, capture_output=True, text=True, timeout=230)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    accuracy = float(re.search(r"\[worker/0\] Worker 0: test accuracy (\S+)", out.stdout)[1])
    assert accuracy > 0.8
    for k in (0, 1):
        steps = re.search(rf"\[worker/{k}\] Worker {k}: (\d+) local steps, global step (\d+)",
                          out.stdout)
        assert steps is not None, out.stdout[-3000:]
        assert int(steps[1]) > 10 and int(steps[2]) >= 100
