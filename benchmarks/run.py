"""Step-time and peak-memory benchmarks: tensorflux next to TensorFlow (tf.compat.v1 graph mode),
PyTorch and NumPy.

    python benchmarks/run.py [--min_time 1.0] [--workloads mlp,word2vec,...]
                             [--peer_python /path/to/python] [--results benchmarks/RESULTS.md]

Every (framework, workload) pair runs in a fresh subprocess: it builds the workload, times its
step call by call after a warm-up (the median is reported) and reports its own peak resident
set size (getrusage(RUSAGE_SELF).ru_maxrss) and the size right after importing the framework.
Ratios are tensorflux/peer (above 1 means tensorflux is slower). A peer that cannot be imported
is skipped with a note, so a fresh clone without TensorFlow or PyTorch still runs tensorflux.
"""
import argparse
import json
import os
import resource
import subprocess
import sys

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


def child_main(framework, workload, min_time):
    """Runs one (framework, workload) in this process; prints one JSON line with the results."""
    import workloads
    try:
        runner = workloads.RUNNERS[framework]()
    except ImportError as e:
        print(json.dumps({"skipped": f"not importable: {e}"}))
        sys.exit(SKIPPED)
    if not hasattr(runner, workload):
        sys.exit(SKIPPED)
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step, op_count = getattr(runner, workload)()
    first = step()
    warmup, min_steps = REPEATS.get(workload, (10, 20))
    wall, cpu = timing.time_steps(step, min_time, warmup, min_steps)
    result = {"seconds": cpu if os.environ.get("TENSORFLUX_BENCH_CLOCK") == "cpu" else wall,
              "wall_seconds": wall, "cpu_seconds": cpu, "ops": op_count,
              "version": getattr(runner, "version", None),
              "import_rss_kb": base_kb,
              "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              "blas": timing.blas_threads()}
    if workload in CHAIN_WORKLOADS:
        result["values"] = [float(v) for v in first]
    print(json.dumps(result))


def run_child(framework, workload, min_time, python):
    """One subprocess; returns its result dict, or None (with a note printed) when skipped."""
    cmd = [python, os.path.abspath(__file__), "--child", framework, workload,
           "--min_time", str(min_time)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    last = proc.stdout.strip().splitlines()[-1:] or [""]
    if proc.returncode == SKIPPED:
        return json.loads(last[0]) if last[0].startswith("{") else None
    if proc.returncode != 0:
        print(f"{workload}/{framework} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        return None
    return json.loads(last[0])


def run(workloads, frameworks, min_time, peer_python=None):
    """Times each workload on each framework; returns ({workload: {framework: result}}, notes)."""
    table, notes, versions = {}, [], {}
    for workload in workloads:
        table[workload] = {}
        for framework in frameworks:
            python = sys.executable if framework == "tensorflux" else (
                peer_python or sys.executable)
            result = run_child(framework, workload, min_time, python)
            if result is None:
                continue
            if "skipped" in result:
                notes.append(f"{framework}: skipped ({result['skipped']})")
                frameworks = [f for f in frameworks if f != framework]
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
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(*args.child, args.min_time)
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
    table, notes, versions = run(workloads, frameworks, args.min_time, args.peer_python)
    for note in dict.fromkeys(notes):
        print(note)
    text = report.markdown(table, WORKLOADS, versions, start, report.machine_state(),
                           args.min_time, sorted(set(notes)), args.threads, args.clock)
    print()
    print(report.step_table(table))
    if args.results:
        with open(args.results, "w") as f:
            f.write(text)
        print(f"\nwrote {args.results}")


if __name__ == "__main__":
    main()
