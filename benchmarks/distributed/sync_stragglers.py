"""Synchronous training with stragglers and backup workers, and time to accuracy (analogues
of the OSDI 2016 paper's Figure 8 and of the talk's "synchronous updates (with backup workers)
trains to higher accuracy faster"), on one machine.

    python benchmarks/distributed/sync_stragglers.py [--part b,c]

The model is examples/distributed/train_mlp.py (an MLP on scikit-learn's digits; 1 ps task,
worker tasks as processes on loopback). Stragglers: every step of every worker stalls for
--stall_secs with probability --stall_prob (seeded per worker).
  (b) sync, m = 3 gradients aggregated, n = m + b workers for b = 0, 1, 2 backup workers:
      median and p90 step time of the chief, speedup over b = 0, and speedup normalized by the
      workers used (speedup * m / n).
  (c) async, sync (m = n = 4) and sync with one backup (m = 3, n = 4), the same 4 workers and
      stragglers: test accuracy against wall time (time to 0.90 and accuracy at fixed times).
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tasks import ROOT, cluster_processes, percentile  # noqa: E402

TRAIN_MLP = os.path.join(ROOT, "examples", "distributed", "train_mlp.py")


def train(num_workers, args, timeout=900):
    """Runs train_mlp on 1 ps + num_workers; returns the chief's JSON summary."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        with cluster_processes(1, num_workers, TRAIN_MLP, ["--out", out] + args,
                               log_dir=tmp) as (procs, _):
            code = procs["worker0"].wait(timeout)
            if code != 0:
                with open(os.path.join(tmp, "worker0.log")) as f:
                    raise RuntimeError(f"chief exited {code}:\n{f.read()[-3000:]}")
            for k in range(1, num_workers):
                procs[f"worker{k}"].wait(60)
        with open(out + ".0") as f:
            return json.load(f)


def step_times(summary):
    """The chief's step times (s), without the first steps (they compile and register)."""
    walls = [w for w, _, _ in summary["log"]]
    return [b - a for a, b in zip(walls, walls[1:])][2:]


def time_per_global_step(summary):
    """Wall seconds per global step (per update of the model) after the first steps."""
    log = summary["log"][2:]
    (w0, g0, _), (w1, g1, _) = log[0], log[-1]
    return (w1 - w0) / max(1, g1 - g0)


def part_b(args):
    m = 3
    stall = ["--stall_prob", str(args.stall_prob), "--stall_secs", str(args.stall_secs)]
    print(f"(b) sync, m = {m} aggregated, stragglers p={args.stall_prob} x "
          f"{args.stall_secs}s, {args.steps} steps\n")
    print("| backup workers b | workers n | ms per global step | chief step median ms | "
          "chief step p90 ms | speedup | normalized speedup |")
    print("|---|---|---|---|---|---|---|")
    base = None
    for b in (0, 1, 2):
        summary = train(m + b, ["--sync_replicas", "--replicas_to_aggregate", str(m),
                                "--train_steps", str(args.steps)] + stall)
        per_step = time_per_global_step(summary) * 1000
        ms = [t * 1000 for t in step_times(summary)]
        base = base or per_step
        speedup = base / per_step
        print(f"| {b} | {m + b} | {per_step:.1f} | {percentile(ms, 0.5):.1f} | "
              f"{percentile(ms, 0.9):.1f} | {speedup:.2f} | {speedup * m / (m + b):.2f} |",
              flush=True)


def part_c(args):
    stall = ["--stall_prob", str(args.stall_prob), "--stall_secs", str(args.stall_secs)]
    common = ["--train_steps", str(args.accuracy_steps), "--eval_every", "5"] + stall
    runs = [("async", []), ("sync, m=n=4", ["--sync_replicas", "--replicas_to_aggregate", "4"]),
            ("sync + 1 backup, m=3 n=4",
             ["--sync_replicas", "--replicas_to_aggregate", "3"])]
    marks = [float(t) for t in args.marks.split(",")]
    print(f"\n(c) time to accuracy, 4 workers, stragglers p={args.stall_prob} x "
          f"{args.stall_secs}s, {args.accuracy_steps} global steps\n")
    print("| mode | time to 0.90 (s) | " + " | ".join(f"acc @ {t:g}s" for t in marks) +
          " | final acc | wall (s) |")
    print("|---|---|" + "---|" * len(marks) + "---|---|")
    for name, extra in runs:
        summary = train(4, common + extra)
        evals = summary["evals"]
        reach = next((w for w, _, a in evals if a >= 0.90), None)
        at = []
        for t in marks:
            seen = [a for w, _, a in evals if w <= t]
            at.append(f"{seen[-1]:.3f}" if seen else "-")
        reach_text = f"{reach:.1f}" if reach is not None else "not reached"
        print(f"| {name} | {reach_text} | " + " | ".join(at) +
              f" | {summary['accuracy']:.3f} | {summary['wall']:.1f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", default="b,c")
    parser.add_argument("--steps", type=int, default=40, help="global steps in (b)")
    parser.add_argument("--accuracy_steps", type=int, default=150, help="global steps in (c)")
    parser.add_argument("--stall_prob", type=float, default=0.1)
    parser.add_argument("--stall_secs", type=float, default=0.5)
    parser.add_argument("--marks", default="5,10,20", help="times for accuracy in (c)")
    args = parser.parse_args(argv)
    parts = args.part.split(",")
    if "b" in parts:
        part_b(args)
    if "c" in parts:
        part_c(args)


if __name__ == "__main__":
    main()
