"""Step-time and peak-memory benchmarks: tensorflux next to TensorFlow (tf.compat.v1 graph mode),
PyTorch and NumPy.

    python benchmarks/run.py [--min_time 1.0] [--rounds 6] [--workloads mlp,word2vec,...]
                             [--peer_python /path/to/python] [--results benchmarks/RESULTS.md]

Every (framework, workload) pair runs in a fresh subprocess: it builds the workload and times
its step call by call after a warm-up (the median is reported). The frameworks of a workload
take turns: each times a share of min_time while the others wait, for --rounds rounds, so that
a slow spell of a shared machine is spread over all of them. Each subprocess reports its own
peak resident set size (getrusage(RUSAGE_SELF).ru_maxrss) and its size right after importing
the framework.
Ratios are tensorflux/peer (above 1 means tensorflux is slower). A peer that cannot be imported
is skipped with a note, so a fresh clone without TensorFlow or PyTorch still runs tensorflux.
"""
import argparse
import json
import os
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import timing  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORKLOADS = {
    "mnist_softmax": "MNIST softmax train step (batch 100, 784x10)",
    "mlp": "MLP train step (batch 100, 784-256-256-10 relu, softmax xent, gradient descent)",
    "run_overhead": "Session.run overhead (one add of two fed scalars)",
    "chain100": "chain of 100 element-wise steps x * w + b on a fed [10] tensor",
    "chain_const": "chain of 100 x (tanh(x) * 0.9 + 0.01; sigmoid(x) - 0.25) with Const ops",
    "matmul2048": "one 2048x2048 float32 matmul of two variables, fetched",
    "mnist_deep": "Deep MNIST train step (batch 50: 2 conv+pool, fc 1024, Adam)",
    "cifar10": "CIFAR-10 tutorial train step (batch 128, 24x24x3, with EMA)",
    "ptb_small": "PTB small train step (20 steps, batch 20, 2-layer LSTM 200)",
    "word2vec": "word2vec train step (batch 128, 64 negatives, nce_loss)",
}
FRAMEWORKS = ("tensorflux", "tensorflow", "torch", "numpy")
# Warm-up steps and minimum timed steps; the tutorials' steps are slow, so fewer of them.
REPEATS = {"mnist_deep": (3, 10), "cifar10": (2, 5), "ptb_small": (2, 5), "word2vec": (5, 20),
           "matmul2048": (2, 10)}
CHAIN_WORKLOADS = ("chain100", "chain_const")
SKIPPED = 3  # a child's exit status: the framework or workload is not available
CHILD_TIMEOUT = 900  # seconds a child may take to answer
# Seconds between two frameworks' turns: a framework's worker threads spin on after its last
# step (OpenBLAS ~0.1 s, OpenMP up to ~0.2 s) and would take a core from the next one.
SETTLE = 0.5


def child_main(framework, workload):
    """Serves one (framework, workload) in this process. It builds the workload, runs one step
    and prints {"ready": ...}; then each line "time SECONDS" on stdin times steps for that long
    (after a warm-up, the first time) and prints their wall and CPU seconds as one JSON line;
    "exit" prints the final result (versions, peak memory, chain values) and ends."""
    import workloads
    try:
        runner = workloads.RUNNERS[framework]()
    except ImportError as e:
        print(json.dumps({"skipped": f"not importable: {e}"}), flush=True)
        sys.exit(SKIPPED)
    if not hasattr(runner, workload):
        sys.exit(SKIPPED)
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step, op_count = getattr(runner, workload)()
    first = step()
    print(json.dumps({"ready": True}), flush=True)
    warmup, min_steps = REPEATS.get(workload, (10, 20))
    for line in sys.stdin:
        command = line.split()
        if command[:1] == ["time"]:
            wall, cpu = timing.time_steps(step, float(command[1]), warmup,
                                          int(command[2]) if len(command) > 2 else min_steps)
            warmup = 2  # the first round warmed the step up; two steps refill the caches
            print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
        else:
            break
    result = {"ops": op_count, "version": getattr(runner, "version", None),
              "import_rss_kb": base_kb,
              "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              "blas": timing.blas_threads()}
    if workload in CHAIN_WORKLOADS:
        result["values"] = [float(v) for v in first]
    print(json.dumps(result), flush=True)


class Child:
    """A served (framework, workload) subprocess, talked to over its stdin and stdout."""

    def __init__(self, framework, workload, python):
        cmd = [python, os.path.abspath(__file__), "--child", framework, workload]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        self.name = f"{workload}/{framework}"
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, env=env)
        self.lines = queue.SimpleQueue()  # the child's JSON lines; None at its end
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wall, self.cpu = [], []

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):  # a framework's own prints are not replies
                self.lines.put(line)
        self.lines.put(None)

    def reply(self):
        """The child's next JSON line; None (with a note printed) when it skipped or failed."""
        try:
            line = self.lines.get(timeout=CHILD_TIMEOUT)
        except queue.Empty:
            print(f"{self.name} gave no answer in {CHILD_TIMEOUT} s; stopped it")
            return None
        if line is not None:
            return json.loads(line)
        code = self.proc.wait(timeout=CHILD_TIMEOUT)
        if code != SKIPPED:
            self.stderr.seek(0)
            print(f"{self.name} failed (exit {code}):\n{self.stderr.read()[-2000:]}")
        return None

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.reply()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=CHILD_TIMEOUT)
        self.reader.join(timeout=CHILD_TIMEOUT)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.stderr.close()


def _measure(workload, frameworks, min_time, rounds, python_for):
    """Times one workload on every framework, the frameworks taking turns: `rounds` rounds,
    each framework timing min_time / rounds seconds of steps per round while the others wait
    (idle, blocked on their stdin), the order reversed every other round, SETTLE seconds
    between turns (the last one's threads stop spinning) and two warm-up steps at the start of
    each. A slow spell of a shared machine then falls on every framework alike instead of on
    whichever ran in it.
    Returns {framework: result dict} (the median over every timed step) and skip notes."""
    children = {f: Child(f, workload, python_for(f)) for f in frameworks}
    results, notes = {}, []
    try:
        ready = {}
        for framework, child in children.items():
            reply = child.reply()
            if reply is not None and "skipped" in reply:
                notes.append(f"{framework}: skipped ({reply['skipped']})")
            elif reply is not None:
                ready[framework] = child
        order = list(ready)
        per_round = max(1, -(-REPEATS.get(workload, (10, 20))[1] // rounds))
        for k in range(rounds):
            for framework in (order if k % 2 == 0 else order[::-1]):
                child = ready[framework]
                time.sleep(SETTLE)
                times = child.ask(f"time {min_time / rounds} {per_round}")
                if times is None:
                    raise RuntimeError(f"{child.name} stopped while timing")
                child.wall += times["wall"]
                child.cpu += times["cpu"]
        for framework, child in ready.items():
            result = child.ask("exit")
            if result is None:
                continue
            wall, cpu = statistics.median(child.wall), statistics.median(child.cpu)
            result.update(wall_seconds=wall, cpu_seconds=cpu, steps=len(child.wall),
                          seconds=cpu if os.environ.get("TENSORFLUX_BENCH_CLOCK") == "cpu"
                          else wall)
            results[framework] = result
    finally:
        for child in children.values():
            child.close()
    return results, notes


def run(workloads, frameworks, min_time, peer_python=None, rounds=6):
    """Times each workload on each framework; returns ({workload: {framework: result}}, notes)."""
    table, notes, versions = {}, [], {}

    def python_for(framework):
        return sys.executable if framework == "tensorflux" else (peer_python or sys.executable)
    for workload in workloads:
        results, skipped = _measure(workload, frameworks, min_time, rounds, python_for)
        notes += skipped
        frameworks = [f for f in frameworks if not any(n.startswith(f"{f}: ") for n in skipped)]
        table[workload] = {}
        for framework in frameworks:
            result = results.get(framework)
            if result is None:
                continue
            versions[framework] = result["version"]
            table[workload][framework] = result
            print(f"{workload:<14} {framework:<11} {result['seconds'] * 1e6:12.1f} us   "
                  f"peak RSS {result['peak_rss_kb'] / 1024:7.0f} MB"
                  + (f"   {result['ops']} ops" if result["ops"] else ""), flush=True)
        _check_agreement(workload, table[workload])
    return table, notes, versions


def _check_agreement(workload, results):
    """The chains compute the same values everywhere (guards against a mis-built peer)."""
    reference = results.get("tensorflux", {}).get("values")
    for name, result in results.items():
        values = result.get("values")
        if reference is not None and values is not None and any(
                abs(a - b) > 1e-5 + 1e-4 * abs(b) for a, b in zip(values, reference)):
            print(f"WARNING: {workload} result of {name} differs from tensorflux's")


def main(argv=None):
    parser = argparse.ArgumentParser(description="tensorflux step-time benchmarks")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help=f"comma-separated subset of {', '.join(FRAMEWORKS)}")
    parser.add_argument("--min_time", type=float, default=1.0,
                        help="seconds to time each workload on each framework")
    parser.add_argument("--peer_python", default=None,
                        help="the Python that runs TensorFlow, PyTorch and NumPy (default: this)")
    parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"),
                        help="where to write the Markdown report ('' for none)")
    parser.add_argument("--threads", choices=("default", "1"), default="default",
                        help="1: every framework on one thread (OpenBLAS/OMP/MKL, TF's pools, "
                             "torch.set_num_threads)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: report each process's CPU time per step (steadier on a "
                             "shared machine; meaningful with --threads 1)")
    parser.add_argument("--rounds", type=int, default=6,
                        help="the frameworks take turns timing a workload this many times "
                             "(min_time is shared out among the rounds)")
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(*args.child)
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    frameworks = [f for f in args.frameworks.split(",") if f]
    if set(frameworks) - set(FRAMEWORKS):
        parser.error(f"unknown frameworks {sorted(set(frameworks) - set(FRAMEWORKS))}; choose "
                     f"from {list(FRAMEWORKS)}")
    os.environ["TENSORFLUX_BENCH_CLOCK"] = args.clock
    if args.threads == "1":
        os.environ["TENSORFLUX_BENCH_THREADS"] = "1"
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = "1"
    start = report.machine_state()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    table, notes, versions = run(workloads, frameworks, args.min_time, args.peer_python,
                                 args.rounds)
    for note in dict.fromkeys(notes):
        print(note)
    text = report.markdown(table, WORKLOADS, versions, start, report.machine_state(),
                           args.min_time, sorted(set(notes)), args.threads, args.clock,
                           args.rounds)
    print()
    print(report.step_table(table))
    if args.results:
        with open(args.results, "w") as f:
            f.write(text)
        print(f"\nwrote {args.results}")


if __name__ == "__main__":
    main()
