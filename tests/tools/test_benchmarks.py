"""benchmarks/run.py end to end on tensorflux alone: each workload runs in a subprocess and the
report names the machine, the versions, the BLAS threads, the step times and the peak RSS."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_run_writes_results_with_times_and_peak_memory(tmp_path):
    results = tmp_path / "RESULTS.md"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--workloads",
         "run_overhead,chain_const", "--frameworks", "tensorflux", "--min_time", "0.05",
         "--results", str(results)], capture_output=True, text=True, env=env, timeout=100)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = results.read_text()
    for expected in ("cores", "numpy", "tensorflux commit", "BLAS threads", "## Step times",
                     "## Peak memory", "ru_maxrss"):
        assert expected in text, expected
    times, memory = text.split("## Peak memory")
    for section, check in ((times, lambda c: c.endswith("s")),  # "9.1 µs"
                           (memory, lambda c: c.split(" (")[0].isdigit())):  # "85 (84)" MB
        rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
                for line in section.splitlines() if line.startswith(("| run_", "| chain_"))}
        assert set(rows) == {"run_overhead", "chain_const"}
        for cells in rows.values():
            assert check(cells[0]) and cells[1] == "-", cells  # tensorflux measured, no peer
    assert "chain_const" in proc.stdout and "801 ops" in proc.stdout
