"""Runs a local cluster for development: one process per task, on loopback.

    python -m tensorflux.distributed.launch --ps 1 --workers 3 [--chief] -- train.py ARGS...

Every task runs `python train.py ARGS...` with `TF_CONFIG` naming the whole cluster and its own
task (what `TFConfigClusterResolver` and `cluster_resolver.resolve()` read), plus
`TENSORFLUX_JOB_NAME` and `TENSORFLUX_TASK_INDEX`. Each output line is prefixed with its task
("[worker/1] "). Parameter servers never finish on their own (they sit in `server.join()`), so
the run ends when every worker (and the chief) has exited: 0 when all succeeded, the failing
task's code as soon as any task fails, 124 after `--timeout`, 130/143 on SIGINT/SIGTERM.
Whatever the ending, every task's whole process group is stopped (SIGTERM, then SIGKILL after
the grace period), so no task and no process a task started outlives the launcher.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

LOOPBACK = "127.0.0.1"
EXIT_TIMEOUT = 124
_POLL_SECONDS = 0.05


def free_ports(count, host=LOOPBACK):
    """`count` distinct ports that are free now.

    They are drawn at random below the kernel's ephemeral range (where outgoing connections
    take their local ports, so a client socket cannot grab one before its task binds it), and
    each is bound until all are chosen. Another process may still take one before its task
    binds it; that race is inherent but rare. Falls back to ports the kernel picks.
    """
    low, high = 10000, _ephemeral_low()
    sockets = []
    try:
        tries = 0
        while len(sockets) < count and high - low > 1000 and tries < 200:
            tries += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, random.randrange(low, high)))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _ephemeral_low():
    """The lowest port of the kernel's ephemeral range (32768 if it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def make_cluster(num_ps, num_workers, chief=False, port_base=None, host=LOOPBACK):
    """{"ps": [...], "chief": [...], "worker": [...]} on `host`, jobs without tasks left out.

    Ports are consecutive from `port_base` when given, else free ports picked by the kernel.
    """
    counts = [("ps", num_ps), ("chief", 1 if chief else 0), ("worker", num_workers)]
    total = sum(count for _, count in counts)
    if port_base is not None:
        ports = list(range(port_base, port_base + total))
    else:
        ports = free_ports(total, host)
    cluster = {}
    for job_name, count in counts:
        if count:
            cluster[job_name] = [f"{host}:{ports.pop(0)}" for _ in range(count)]
    return cluster


def task_environment(cluster, job_name, task_index, base=None):
    """The environment of one task: `base` (default os.environ) plus its TF_CONFIG."""
    env = dict(os.environ if base is None else base)
    env["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                   "task": {"type": job_name, "index": task_index},
                                   "rpc_layer": "grpc"})
    env["TENSORFLUX_JOB_NAME"] = job_name
    env["TENSORFLUX_TASK_INDEX"] = str(task_index)
    env["PYTHONUNBUFFERED"] = "1"  # lines reach the launcher as they are printed
    return env


def _exit_code(returncode):
    """A child killed by signal N (returncode -N) exits the launcher with 128 + N, as a shell."""
    return 128 - returncode if returncode < 0 else returncode


class _Output:
    """Writes whole lines to the launcher's stdout/stderr under one lock (no interleaving)."""

    def __init__(self, stdout, stderr):
        self._streams = {"stdout": getattr(stdout, "buffer", stdout),
                         "stderr": getattr(stderr, "buffer", stderr)}
        self._lock = threading.Lock()

    def write(self, which, prefix, line):
        if not line.endswith(b"\n"):
            line += b"\n"
        stream = self._streams[which]
        with self._lock:
            stream.write(prefix + line)
            stream.flush()

    def note(self, message):
        self.write("stderr", b"[launch] ", message.encode("utf-8", "replace"))


class _Task:
    """One task's process (the leader of its own process group) and its two reader threads."""

    def __init__(self, job_name, task_index, argv, env, output):
        self.job_name, self.task_index = job_name, task_index
        self.name = f"{job_name}/{task_index}"
        # A new session makes the child a process-group leader: stopping the group reaches
        # whatever the task starts, and a Ctrl-C at the terminal reaches only the launcher.
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        prefix = f"[{self.name}] ".encode()
        self.readers = [threading.Thread(target=self._pump, args=(pipe, which, prefix, output),
                                         name=f"launch-{self.name}-{which}", daemon=True)
                        for pipe, which in ((self.proc.stdout, "stdout"),
                                            (self.proc.stderr, "stderr"))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _pump(pipe, which, prefix, output):
        with pipe:
            for line in iter(pipe.readline, b""):
                output.write(which, prefix, line)

    def signal_group(self, signum):
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass  # the whole group has exited already


class Launcher:
    """Starts the tasks of a cluster and supervises them until the run ends."""

    def __init__(self, script_args, cluster, grace_period=5.0, stdout=None, stderr=None,
                 env=None):
        self._script_args = list(script_args)
        self._cluster = cluster
        self._grace_period = grace_period
        self._output = _Output(stdout or sys.stdout, stderr or sys.stderr)
        self._env = env
        self._tasks = []
        self._signals = []  # signals received, in order (the handler only records them)

    @property
    def pids(self):
        """The task processes' ids (each the id of its process group)."""
        return [task.proc.pid for task in self._tasks]

    def start(self):
        self._output.note(f"cluster {json.dumps(self._cluster)}")
        argv = [sys.executable] + self._script_args
        for job_name, addresses in self._cluster.items():
            for index in range(len(addresses)):
                env = task_environment(self._cluster, job_name, index, self._env)
                self._tasks.append(_Task(job_name, index, argv, env, self._output))

    def on_signal(self, signum, frame=None):
        self._signals.append(signum)

    def wait(self, timeout=None):
        """Supervises the tasks until the run ends and returns the exit code; `stop()` next."""
        deadline = None if timeout is None else time.monotonic() + timeout
        finished = set()
        while True:
            if self._signals:
                signum = self._signals[0]
                self._output.note(f"received {signal.Signals(signum).name}; stopping all tasks")
                return 128 + signum
            for task in self._tasks:
                code = task.proc.poll()
                if code is None or task.name in finished:
                    continue
                finished.add(task.name)
                if code != 0:
                    self._output.note(f"{task.name} exited with code {code}; stopping the "
                                      f"other tasks")
                    return _exit_code(code)
            if all(t.name in finished for t in self._tasks if t.job_name != "ps"):
                return 0
            if deadline is not None and time.monotonic() > deadline:
                self._output.note("timed out; stopping all tasks")
                return EXIT_TIMEOUT
            time.sleep(_POLL_SECONDS)

    def stop(self):
        """SIGTERM to every task's process group; SIGKILL to them after the grace period (or at
        once on a second Ctrl-C); then reaps the tasks and joins the reader threads."""
        for task in self._tasks:
            task.signal_group(signal.SIGTERM)
        signals_before = len(self._signals)
        deadline = time.monotonic() + self._grace_period
        while (time.monotonic() < deadline and len(self._signals) == signals_before
               and any(task.proc.poll() is None for task in self._tasks)):
            time.sleep(_POLL_SECONDS)
        for task in self._tasks:
            # Even when the leader has exited, processes it started may remain in its group.
            task.signal_group(signal.SIGKILL)
        for task in self._tasks:
            task.proc.wait()
            for reader in task.readers:
                reader.join(timeout=5.0)


def launch(script_args, num_ps=1, num_workers=1, chief=False, port_base=None, timeout=None,
           grace_period=5.0, stdout=None, stderr=None, env=None):
    """Runs `python SCRIPT_ARGS...` once per task of a local cluster; returns the exit code.

    Args:
      script_args: the script and its arguments (["train.py", "--steps", "10"], or
        ["-m", "package.module"]).
      num_ps, num_workers, chief: the tasks of jobs "ps", "worker" and "chief".
      port_base: consecutive ports from here; default: free ports picked by the kernel.
      timeout: seconds after which every task is stopped (exit code 124).
      grace_period: seconds between SIGTERM and SIGKILL when stopping tasks.
      stdout, stderr: where prefixed task output goes (binary or text streams).
      env: the base environment of the tasks (default os.environ).

    Returns:
      0 when every worker/chief task exited 0; the first failing task's exit code (128 + N
      when killed by signal N); 124 on timeout; 130/143 on SIGINT/SIGTERM.
    """
    if num_ps < 0 or num_workers < 0:
        raise ValueError(f"Task counts must be non-negative; got ps={num_ps}, "
                         f"workers={num_workers}")
    if num_workers == 0 and not chief:
        raise ValueError("A cluster needs a worker or a chief: the run ends when they exit "
                         "(ps tasks wait in server.join() for ever)")
    if not script_args:
        raise ValueError("No script to run: give the script and its arguments")
    cluster = make_cluster(num_ps, num_workers, chief=chief, port_base=port_base)
    launcher = Launcher(script_args, cluster, grace_period, stdout, stderr, env)
    restore = _install_signal_handlers(launcher.on_signal)
    try:
        launcher.start()
        return launcher.wait(timeout)
    finally:
        launcher.stop()  # also after an exception: no task outlives the launcher
        restore()


def _install_signal_handlers(handler):
    """Routes SIGINT/SIGTERM to `handler` (main thread only: Python's rule); returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, handler)
                for signum in (signal.SIGINT, signal.SIGTERM)}

    def restore():
        for signum, old in previous.items():
            signal.signal(signum, old)
    return restore


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tensorflux.distributed.launch",
        description="Run a script once per task of a local cluster (127.0.0.1), with TF_CONFIG "
                    "set for each task.",
        usage="%(prog)s [--ps N] [--workers N] [--chief] [--port-base PORT] "
              "[--timeout SECONDS] [--grace-period SECONDS] -- script.py [ARGS...]")
    parser.add_argument("--ps", type=int, default=1, help="parameter server tasks (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="worker tasks (default 1)")
    parser.add_argument("--chief", action="store_true", help="add a 'chief' job of one task")
    parser.add_argument("--port-base", type=int, default=None,
                        help="consecutive ports from here (default: free ports)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop everything after this many seconds (exit code 124)")
    parser.add_argument("--grace-period", type=float, default=5.0,
                        help="seconds between SIGTERM and SIGKILL when stopping tasks")
    if "--" in argv:
        split = argv.index("--")
        options, script_args = parser.parse_args(argv[:split]), argv[split + 1:]
    else:  # the script starts at the first positional argument; its options are its own
        parser.add_argument("script_args", nargs=argparse.REMAINDER)
        options = parser.parse_args(argv)
        script_args = options.script_args
    if not script_args:
        parser.error("no script given: ... -- script.py [ARGS...]")
    return options, script_args


def main(argv=None):
    options, script_args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return launch(script_args, num_ps=options.ps, num_workers=options.workers,
                      chief=options.chief, port_base=options.port_base,
                      timeout=options.timeout, grace_period=options.grace_period)
    except ValueError as e:
        print(f"launch: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
