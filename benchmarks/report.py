"""The benchmark report: the machine, the versions, step times and ratios, peak memory."""
import datetime
import os
import platform
import subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = ("tensorflow", "torch", "numpy")
SHORT = {"tensorflow": "TF", "torch": "torch", "numpy": "NumPy"}


def machine_state():
    """CPU, cores and load now (the load shows whether others shared the machine)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), model)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpu": model, "cores": os.cpu_count(), "load": load,
            "time": datetime.datetime.now(datetime.timezone.utc)}


def git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _us(result):
    if result is None:
        return "-"
    us = result["seconds"] * 1e6
    return f"{us / 1000:.3g} ms" if us >= 1000 else f"{us:.3g} µs"


def _ratio(tfx, peer):
    return "-" if tfx is None or peer is None else f"{tfx['seconds'] / peer['seconds']:.2f}x"


def _mb(result, key):
    return "-" if result is None else f"{result[key] / 1024:.0f}"


def step_table(table):
    """Markdown: median step times per framework and the ratios tensorflux/peer."""
    head = ["workload", "tensorflux"] + [SHORT[p] for p in PEERS] + [
        f"tfx/{SHORT[p]}" for p in PEERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, results in table.items():
        tfx = results.get("tensorflux")
        cells = [workload, _us(tfx)] + [_us(results.get(p)) for p in PEERS] + [
            _ratio(tfx, results.get(p)) for p in PEERS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(table):
    """Markdown: peak RSS (MB) per framework and workload, and the RSS right after import."""
    frameworks = ("tensorflux",) + PEERS
    head = ["workload"] + [f"{SHORT.get(f, f)} peak (import)" for f in frameworks]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, results in table.items():
        cells = [workload]
        for f in frameworks:
            r = results.get(f)
            cells.append("-" if r is None else
                         f"{_mb(r, 'peak_rss_kb')} ({_mb(r, 'import_rss_kb')})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _blas(table):
    settings = {f"{f}: {r['blas']}" for results in table.values()
                for f, r in results.items() if f in ("tensorflux", "numpy")}
    return "; ".join(sorted(settings)) or "-"


def _gemm_line(table):
    results = table.get("matmul2048", {})
    tfx, ref = results.get("tensorflux"), results.get("numpy")
    if tfx is None or ref is None:
        return []
    return [f"matmul2048: tensorflux's Session.run reaches "
            f"{ref['seconds'] / tfx['seconds']:.2f}x NumPy's own `a @ b` throughput.", ""]


def markdown(table, descriptions, versions, start, end, min_time, notes, threads="default",
             clock="wall", rounds=1):
    """The whole RESULTS.md text."""
    import sys
    peers = ", ".join(f"{SHORT.get(k, k)} {v}" for k, v in sorted(versions.items())
                      if k != "tensorflux" and v)
    env = {n: os.environ[n] for n in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MKL_NUM_THREADS") if n in os.environ}
    out = [
        "# Benchmark results", "",
        f"Written by `benchmarks/run.py` on {start['time']:%Y-%m-%d %H:%M} UTC.", "",
        f"- machine: {start['cpu']}, {start['cores']} cores; load average "
        f"{start['load'][0]:.2f} at start, {end['load'][0]:.2f} at end "
        f"(other processes shared the machine when above 0)",
        f"- python {sys.version.split()[0]}, numpy {np.__version__}, tensorflux commit "
        f"{git_commit()}" + (f"; peers: {peers}" if peers else "; no peers importable"),
        f"- BLAS threads: {_blas(table)}; environment: "
        + (", ".join(f"{k}={v}" for k, v in env.items()) or "no thread variables set"),
        "- threads: " + ("one per framework (`--threads 1`: OpenBLAS/OMP/MKL, TensorFlow's "
                         "intra- and inter-op pools, torch.set_num_threads(1))"
                         if threads == "1" else "each framework's default"),
        f"- timing: median of at least {min_time:g} s of steps after a warm-up, each "
        "framework and workload in its own subprocess; the frameworks took turns over "
        f"{rounds} round{'s' if rounds != 1 else ''} per workload; "
        + ("CPU time of the process per step (`--clock cpu`)" if clock == "cpu"
           else "wall-clock time per step"), "",
        "## Step times (median per step; ratios above 1x: tensorflux is slower)", "",
        step_table(table), ""] + _gemm_line(table) + [
        "## Peak memory (MB of resident set size)", "",
        "Each (framework, workload) runs in a fresh process; the first number is that "
        "process's peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss` after the timed steps), the "
        "one in parentheses its RSS right after importing the framework, before building the "
        "workload.", "",
        memory_table(table), "",
        "## Workloads", ""]
    out += [f"- `{w}`: {descriptions[w]}" for w in table]
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"
