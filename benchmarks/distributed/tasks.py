"""Starting a cluster's tasks as processes for benchmarks (TF_CONFIG set, own process groups,
always killed at the end)."""
import contextlib
import json
import os
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tensorflux.distributed import launch  # noqa: E402


@contextlib.contextmanager
def cluster_processes(num_ps, num_workers, script, args=(), per_task=None, log_dir=None,
                      python=None):
    """Yields ({'worker0': Popen, ...}, cluster dict); kills every task on exit. `python` is
    the interpreter of the tasks (another virtualenv's, for peers)."""
    spec = launch.make_cluster(num_ps, num_workers)
    procs = {}
    try:
        for job, addresses in spec.items():
            for index in range(len(addresses)):
                name = f"{job}{index}"
                env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1",
                           TF_CONFIG=json.dumps({"cluster": spec,
                                                 "task": {"type": job, "index": index}}))
                out = open(os.path.join(log_dir, name + ".log"), "w") if log_dir else None
                procs[name] = subprocess.Popen(
                    [python or sys.executable, script] + list(args) + list((per_task or {}).get(name, ())),
                    env=env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                    start_new_session=True)
        yield procs, spec
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
