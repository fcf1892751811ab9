"""Mutation testing: plants each bug of mutants.toml in a copy of the repo and runs its tests.

    python tools/mutants/run.py              # every mutant, 2 at a time; writes REPORT.md
    python tools/mutants/run.py --only ID    # one mutant (may be repeated)
    python tools/mutants/run.py --list       # the mutants, without running them

A mutant is killed when its tests fail or time out, and survives when they pass. The working
tree is never modified: each mutant is applied to its own temporary copy (removed afterwards,
also on Ctrl-C). A mutant whose original snippet does not occur exactly once in its file is
reported as stale (fix its snippet after the code moved). Exits 1 if fewer than 90% of the
run mutants are killed (stale ones count as not killed), 2 on a bad mutants file.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MUTANTS_FILE = os.path.join(HERE, "mutants.toml")
REPORT_FILE = os.path.join(HERE, "REPORT.md")
THRESHOLD = 0.90
DEFAULT_TIMEOUT = 240  # seconds per mutant; a mutant that hangs its tests counts as killed
# What a copy needs to import the package and run the tests (not .git, venvs or caches).
_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache",
                                 "build", "MNIST_data", "REPORT.md")
_REQUIRED = ("id", "file", "description", "original", "replacement", "tests")
_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.M)


class Result:
    def __init__(self, mutant, status, killer="", seconds=0.0, detail=""):
        self.mutant = mutant
        self.status = status  # killed / survived / stale
        self.killer = killer  # the first failing test, "timeout" or ""
        self.seconds = seconds
        self.detail = detail


def load_mutants(path=MUTANTS_FILE):
    """The mutants of `path`, checked for required fields and unique ids."""
    with open(path, "rb") as f:
        mutants = tomllib.load(f).get("mutant", [])
    seen = set()
    for m in mutants:
        missing = [k for k in _REQUIRED if k not in m]
        if missing:
            raise ValueError(f"mutant {m.get('id', '?')} lacks {missing}")
        if m["id"] in seen:
            raise ValueError(f"duplicate mutant id {m['id']}")
        if m["original"] == m["replacement"]:
            raise ValueError(f"mutant {m['id']} changes nothing")
        seen.add(m["id"])
    return mutants


def occurrences(mutant, root=ROOT):
    with open(os.path.join(root, mutant["file"]), encoding="utf-8") as f:
        return f.read().count(mutant["original"])


def _copy_tree(root):
    tmp = tempfile.mkdtemp(prefix="tfx-mutant-")
    dest = os.path.join(tmp, "repo")
    shutil.copytree(root, dest, ignore=_IGNORE, symlinks=True)
    return tmp, dest


def _apply(mutant, dest):
    path = os.path.join(dest, mutant["file"])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(mutant["original"], mutant["replacement"], 1))


def _env(dest):
    env = dict(os.environ)
    env.update(PYTHONPATH=dest, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


class Runner:
    """Runs mutants in temporary copies; remembers live child processes to kill on Ctrl-C."""

    def __init__(self, root=ROOT, python=sys.executable, timeout=DEFAULT_TIMEOUT):
        self.root = root
        self.python = python
        self.timeout = timeout
        self._procs = set()
        self._lock = threading.Lock()
        self.stopping = False

    def check_isolation(self):
        """The copies import their own tensorflux (not an installed or editable one)."""
        tmp, dest = _copy_tree(self.root)
        try:
            code = "import tensorflux; print(tensorflux.__file__)"
            out = subprocess.run([self.python, "-c", code], cwd=dest, env=_env(dest),
                                 capture_output=True, text=True, timeout=120)
            where = out.stdout.strip()
            if not where.startswith(dest):
                raise RuntimeError(f"a copy imports tensorflux from {where!r}, not from the copy "
                                   f"{dest}: {out.stderr[-2000:]}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def run(self, mutant):
        start = time.monotonic()
        count = occurrences(mutant, self.root)
        if count != 1:
            return Result(mutant, "stale", detail=f"original snippet found {count} times in "
                                                  f"{mutant['file']}")
        tmp, dest = _copy_tree(self.root)
        try:
            _apply(mutant, dest)
            return self._pytest(mutant, dest, start)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _pytest(self, mutant, dest, start):
        if self.stopping:
            return Result(mutant, "stale", detail="interrupted")
        timeout = mutant.get("timeout", self.timeout)
        cmd = [self.python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-o", "addopts=", "--timeout", str(min(timeout, 120)), *mutant["tests"]]
        proc = subprocess.Popen(cmd, cwd=dest, env=_env(dest), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        with self._lock:
            self._procs.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            return Result(mutant, "killed", "timeout", time.monotonic() - start,
                          f"tests ran past {timeout}s")
        finally:
            with self._lock:
                self._procs.discard(proc)
        seconds = time.monotonic() - start
        if proc.returncode == 0:
            return Result(mutant, "survived", "", seconds)
        match = _FAILED.search(out)
        killer = match.group(2) if match else f"exit {proc.returncode}"
        return Result(mutant, "killed", killer, seconds, _failure_line(out))

    def stop(self):
        self.stopping = True
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)


def _failure_line(out):
    """The line of pytest's output that says why the first test failed (for the report)."""
    lines = [line[1:].strip() for line in out.splitlines() if line.startswith("E ")]
    telling = [line for line in lines if line.startswith(("AssertionError", "Failed", "assert"))
               or "Error:" in line.split(" ", 1)[0] + " "]
    chosen = (telling or lines or out.strip().splitlines()[-1:] or [""])[0]
    return chosen[:160]


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---- reporting ----------------------------------------------------------------------------
def summary(results):
    killed = sum(r.status == "killed" for r in results)
    total = len(results)
    return killed, total, (killed / total if total else 1.0)


def print_table(results, stream=sys.stdout):
    width = max([len(r.mutant["id"]) for r in results] + [6])
    for r in results:
        stream.write(f"{r.mutant['id']:<{width}}  {r.status:<8}  {r.seconds:6.1f}s  "
                     f"{r.killer or r.detail}\n")
    killed, total, ratio = summary(results)
    stream.write(f"\n{killed}/{total} killed ({ratio:.0%}); "
                 f"{sum(r.status == 'survived' for r in results)} survived, "
                 f"{sum(r.status == 'stale' for r in results)} stale\n")


def write_report(results, elapsed, path=REPORT_FILE):
    killed, total, ratio = summary(results)
    lines = ["# Mutation testing report", "",
             "Written by `make mutants` (tools/mutants/run.py) from tools/mutants/mutants.toml; "
             "do not edit by hand.", "",
             f"**{killed}/{total} mutants killed ({ratio:.0%})**, "
             f"{sum(r.status == 'survived' for r in results)} survived, "
             f"{sum(r.status == 'stale' for r in results)} stale; {elapsed:.0f} s with 2 "
             "processes.", "",
             "| mutant | file | description | result | by (and the failure it caused) |",
             "|---|---|---|---|---|"]
    for r in results:
        m = r.mutant
        by = f"{r.killer}: {r.detail}" if r.status == "killed" else r.detail or "-"
        lines.append(f"| {m['id']} | {m['file']} | {_cell(m['description'])} | {r.status} | "
                     f"{_cell(by)} |")
    escaped = [r for r in results if r.mutant.get("escaped")]
    if escaped:
        lines += ["", "## The bug classes that once escaped the suite (issue 13)", ""]
        lines += [f"- {r.mutant['description']}: **{r.status}** by {r.killer or '-'}"
                  for r in escaped]
    notes = [r.mutant for r in results if r.mutant.get("note")]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- **{m['id']}**: {_cell(m['note'])}" for m in notes]
    survivors = [r for r in results if r.status != "killed"]
    lines += ["", "## Survivors", ""]
    if not survivors:
        lines.append("None.")
    for r in survivors:
        why = r.mutant.get("survivor_note") or r.detail or "no note"
        lines.append(f"- **{r.mutant['id']}** ({r.status}): {_cell(why)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---- main ---------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", metavar="ID", help="run only this mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--check", action="store_true",
                        help="only check that every snippet occurs exactly once")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel mutants (max 2)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds per mutant before it counts as killed (hang)")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite REPORT.md")
    args = parser.parse_args(argv)
    try:
        mutants = load_mutants()
    except (OSError, ValueError, tomllib.TOMLDecodeError) as e:
        print(f"bad mutants file: {e}", file=sys.stderr)
        return 2
    if args.list:
        for m in mutants:
            print(f"{m['id']:<28} {m['file']}: {m['description']}")
        return 0
    if args.check:
        stale = [(m["id"], occurrences(m)) for m in mutants if occurrences(m) != 1]
        for mutant_id, count in stale:
            print(f"stale: {mutant_id} (original snippet found {count} times)")
        print(f"{len(mutants) - len(stale)}/{len(mutants)} mutants apply cleanly")
        return 1 if stale else 0
    if args.only:
        unknown = set(args.only) - {m["id"] for m in mutants}
        if unknown:
            print(f"unknown mutant ids: {sorted(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m["id"] in args.only]
    runner = Runner(timeout=args.timeout)
    runner.check_isolation()
    start = time.monotonic()
    results = _run_all(runner, mutants, max(1, min(args.jobs, 2)))
    elapsed = time.monotonic() - start
    print_table(results)
    print(f"{elapsed:.0f} s")
    if not args.only and not args.no_report:
        write_report(results, elapsed)
    return 0 if summary(results)[2] >= THRESHOLD else 1


def _run_all(runner, mutants, jobs):
    results = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(runner.run, m): m["id"] for m in mutants}
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results[futures[future]] = r
            print(f"  {r.mutant['id']}: {r.status} {r.killer}", flush=True)
    except KeyboardInterrupt:
        runner.stop()
        pool.shutdown(wait=True, cancel_futures=True)  # the copies are removed in `finally`
        raise
    pool.shutdown()
    return [results[m["id"]] for m in mutants]


if __name__ == "__main__":
    sys.exit(main())
