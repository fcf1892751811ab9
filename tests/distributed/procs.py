"""Real task processes for multi-process tests: started with TF_CONFIG, killed and reaped at
teardown, with a check that none is left behind."""
import json
import os
import signal
import subprocess
import sys
import time

from tensorflux.distributed import launch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN_MLP = os.path.join(ROOT, "examples", "distributed", "train_mlp.py")


class Cluster:
    """Tasks of one cluster as processes of a script (each its own process group)."""

    def __init__(self, tmp_path, num_ps, num_workers, script=TRAIN_MLP, args=()):
        self.spec = launch.make_cluster(num_ps, num_workers)
        self.tmp_path = tmp_path
        self.script = script
        self.args = list(args)
        self.procs = {}
        self._logs = {}

    def start(self, job, index, extra_args=()):
        name = f"{job}{index}"
        env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1",
                   PYTHONUNBUFFERED="1",
                   TF_CONFIG=json.dumps({"cluster": self.spec,
                                         "task": {"type": job, "index": index}}))
        log = open(self.tmp_path / f"{name}.{len(self._logs)}.log", "w")
        self._logs[name] = log.name
        argv = [self.script] + self.args + list(extra_args)
        # SIGUSR1 makes a task print every thread's stack (wait() does it on a timeout).
        code = ("import faulthandler, runpy, signal, sys; "
                "faulthandler.register(signal.SIGUSR1, all_threads=True); "
                f"sys.argv = {argv!r}; runpy.run_path(sys.argv[0], run_name='__main__')")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        return self.procs[name]

    def start_all(self, extra_args=None):
        for job, addresses in self.spec.items():
            for index in range(len(addresses)):
                self.start(job, index, (extra_args or {}).get(f"{job}{index}", ()))

    def output(self, name):
        with open(self._logs[name]) as f:
            return f.read()

    def wait(self, name, timeout):
        """The task's exit code (AssertionError with its output if it runs past timeout)."""
        try:
            return self.procs[name].wait(timeout)
        except subprocess.TimeoutExpired:
            self.procs[name].send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            raise AssertionError(f"{name} still running after {timeout}s:\n"
                                 f"{self.output(name)[-6000:]}") from None

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def close(self):
        """Kills every task's process group; asserts none survived."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            proc.wait(max(0.1, deadline - time.monotonic()))
            assert not _group_alive(proc.pid), f"process group {proc.pid} leaked"


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A group of zombies only: the children were killed and are being reaped.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def summary(tmp_path, task):
    with open(tmp_path / f"out.json.{task}") as f:
        return json.load(f)
