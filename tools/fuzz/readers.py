"""`make fuzz` (readers): a seeded mutation fuzzer for tensorflux's file and wire readers.

For each target (tools/fuzz/reader_targets.py) a small valid file is written with tensorflux
itself and read once (the baseline). Then, N times: one of its files is mutated (bit flips,
truncation, byte insertion or deletion, an interesting integer written over bytes, or a
target-specific length-field lie whose checksums are forged so the lie reaches the parser),
the reader runs in-process under a timer and tracemalloc, and the outcome is classified:

    ok-identical   the reader returned exactly the baseline
    ok-different   a different, structurally valid result: allowed only where the format has
                   no checksum over the mutated bytes (or the mutation forged the checksums);
                   a truncation at a record boundary (TFRecord) may return a prefix
    tf-error       a tensorflux error (tf.errors.OpError, or the error class TF's own API
                   raises for that reader, e.g. ValueError from import_graph_def), raised by
                   tensorflux code with its own message
    proto-rejected protobuf's DecodeError where the *caller* parses (GraphDef.FromString in
                   user code, as in TF): not a tensorflux reader, counted apart
    BAD            anything else: another exception type, a hang (over CASE_SECONDS), a peak
                   allocation over the budget, a silently different result where checksums
                   cover the mutation, or a result that is not structurally valid

    python tools/fuzz/readers.py [--mutations 1000] [--seed 0] [--target tfrecord ...]
"""
import argparse
import collections
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import guards  # noqa: E402
from guards import Hang, alarm  # noqa: E402,F401
from tensorflux.framework import errors  # noqa: E402

CASE_SECONDS = 10.0
FUZZ_TENSOR_LIMIT = 16 << 20  # the per-tensor cap during a campaign
ALLOC_FLOOR = 48 << 20  # peak traced bytes any case may use, plus ALLOC_PER_BYTE x file size
ALLOC_PER_BYTE = 64
KINDS = ("bitflip", "truncate", "insert", "delete", "overwrite_int", "length_lie")
OUTCOMES = ("ok-identical", "ok-different", "tf-error", "proto-rejected", "BAD")
INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1,
               10**12, 2**62, 2**63 - 1, 2**63, 2**64 - 1)
_PACKAGE_DIR = os.path.join(ROOT, "tensorflux")


# ---- mutations ----------------------------------------------------------------------------------
def interesting_int(rng, width):
    return rng.choice([v for v in INTERESTING if v < 1 << (8 * width)] + [(1 << 8 * width) - 1])


def mutate(data, rng, kind):
    """`data` (bytes) mutated by `kind` (one of KINDS but length_lie), as bytes."""
    data = bytearray(data)
    if not data:
        return bytes(rng.randbytes(rng.randint(1, 16)))
    if kind == "bitflip":
        for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
            bit = rng.randrange(len(data) * 8)
            data[bit >> 3] ^= 1 << (bit & 7)
    elif kind == "truncate":
        del data[rng.randrange(len(data)):]
    elif kind == "insert":
        pos = rng.randrange(len(data) + 1)
        data[pos:pos] = rng.randbytes(rng.choice((1, 1, 2, 4, 8, 16)))
    elif kind == "delete":
        pos = rng.randrange(len(data))
        del data[pos:pos + rng.choice((1, 1, 2, 4, 8, 16))]
    elif kind == "overwrite_int":
        width = rng.choice((1, 2, 4, 8))
        pos = rng.randrange(max(len(data) - width, 0) + 1)
        value = interesting_int(rng, width)
        data[pos:pos + width] = value.to_bytes(width, rng.choice(("little", "big")))
    else:
        raise ValueError(f"unknown mutation {kind!r}")
    return bytes(data)


# ---- comparing results --------------------------------------------------------------------------
def same(a, b):
    """Deep equality of reader results (dicts, lists, tuples, arrays, bytes, scalars)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (a.dtype == b.dtype and a.shape == b.shape
                and bool(np.all((a == b) | ((a != a) & (b != b)))))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# ---- guards -------------------------------------------------------------------------------------
def guarded_memory(extra_bytes=3 << 30):
    """guards.guarded_memory with this fuzzer's per-tensor cap, FUZZ_TENSOR_LIMIT."""
    return guards.guarded_memory(FUZZ_TENSOR_LIMIT, extra_bytes)


def _where(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def raised_by_tensorflux(exc):
    """Whether `exc` comes from a `raise` statement in tensorflux code: not NumPy, protobuf or
    the standard library failing underneath (a C function adds no frame, so the innermost
    frame's line must be the raise itself)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return (bool(frames) and os.path.abspath(frames[-1].filename).startswith(_PACKAGE_DIR)
            and (frames[-1].line or "").lstrip().startswith("raise"))


_RAW_PREFIXES = ("IndexError", "ValueError", "TypeError", "KeyError", "AttributeError",
                 "OverflowError", "MemoryError", "struct.error", "error:", "DecodeError",
                 "UnicodeDecodeError", "RuntimeError", "ZeroDivisionError", "EOFError",
                 "OSError", "DecompressionBombError", "UFuncTypeError", "AxisError")


def classify_error(target, exc):
    """(outcome, detail) for an exception the reader raised."""
    text = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, MemoryError):
        return "BAD", f"MemoryError at {_where(exc)}"
    if isinstance(exc, errors.OpError):
        # the executor wraps a raw kernel exception as InvalidArgumentError "<Type>: ..."
        if exc.message.startswith(_RAW_PREFIXES):
            return "BAD", f"unwrapped {text} at {_where(exc)}"
        return "tf-error", type(exc).__name__
    if target.proto_rejected(exc):
        return "proto-rejected", type(exc).__name__
    if isinstance(exc, target.api_errors) and raised_by_tensorflux(exc):
        return "tf-error", type(exc).__name__
    return "BAD", f"{text} at {_where(exc)}"


# ---- running ------------------------------------------------------------------------------------
Case = collections.namedtuple("Case", "target index file kind forged outcome detail")


def _max_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux counts KiB


def run_reader(target, workdir, budget):
    """(result, exception, peak bytes, seconds) of one guarded read. The peak is the larger of
    what tracemalloc saw (Python and NumPy) and the growth of the process's peak resident size
    (C libraries such as Pillow and zlib allocate where tracemalloc cannot see)."""
    rss_before = _max_rss()
    tracemalloc.start()
    start = time.monotonic()
    result = exc = None
    try:
        with alarm(CASE_SECONDS):
            result = target.read(workdir)
    except Hang as e:
        exc = e
    except Exception as e:  # noqa: BLE001 - what the fuzzer is looking for
        exc = e
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, exc, max(peak, _max_rss() - rss_before), time.monotonic() - start


def classify(target, baseline, result, exc, peak, budget, kind, forged):
    if isinstance(exc, Hang):
        return "BAD", f"hang: {exc}"
    if peak > budget:
        what = type(exc).__name__ if exc is not None else "a result"
        return "BAD", f"peak allocation {peak} bytes over the budget {budget} (ended in {what})"
    if exc is not None:
        return classify_error(target, exc)
    if same(result, baseline):
        return "ok-identical", ""
    problem = target.check(result)
    if problem:
        return "BAD", f"structurally invalid result: {problem}"
    if target.checksummed and not forged and not (
            kind in _SHORTENING and target.prefix_ok and _is_prefix(result, baseline)):
        return "BAD", "different values returned although checksums cover the mutated bytes"
    return "ok-different", ""


# Mutations that may leave a torn last record: an event file then reads up to its last whole
# record (summary_iterator drops a torn tail, as TensorBoard's loader does).
_SHORTENING = ("truncate", "delete")


def _is_prefix(result, baseline):
    return (isinstance(result, list) and len(result) < len(baseline)
            and same(result, baseline[:len(result)]))


def fuzz_target(target, mutations, seed, on_case=None):
    """Runs `mutations` cases of `target`; returns the list of Cases."""
    workdir = tempfile.mkdtemp(prefix=f"fuzz-{target.name}-")
    cases = []
    try:
        originals = target.make(workdir)
        baseline = target.read(workdir)
        budget = ALLOC_FLOOR + ALLOC_PER_BYTE * sum(len(v) for v in originals.values())
        names = sorted(originals)
        for index in range(mutations):
            rng = random.Random(f"{seed}/{target.name}/{index}")
            name = rng.choice(names)
            kind = rng.choice(KINDS)
            forged = False
            if kind == "length_lie":
                data, forged = target.lie(name, originals[name], rng)
            else:
                data = mutate(originals[name], rng, kind)
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(data)
            result, exc, peak, _ = run_reader(target, workdir, budget)
            outcome, detail = classify(target, baseline, result, exc, peak, budget, kind, forged)
            case = Case(target.name, index, name, kind, forged, outcome, detail)
            cases.append(case)
            if on_case:
                on_case(case)
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(originals[name])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return cases


def run_campaign(mutations, seed=0, names=None, on_case=None):
    """{target name: [Case]} over every target (or those in `names`)."""
    import reader_targets
    out = {}
    with guarded_memory():
        for target in reader_targets.all_targets():
            if names and target.name not in names and target.family not in names:
                continue
            out[target.name] = fuzz_target(target, mutations, seed, on_case)
    return out


def report(results):
    """A table of counts per target and outcome, then per reader family."""
    import reader_targets
    families = {t.name: t.family for t in reader_targets.all_targets()}
    lines = [f"{'target':24}" + "".join(f"{o:>16}" for o in OUTCOMES) + f"{'total':>8}"]
    by_family = collections.defaultdict(collections.Counter)
    for name, cases in results.items():
        counts = collections.Counter(c.outcome for c in cases)
        by_family[families[name]].update(counts)
        lines.append(f"{name:24}" + "".join(f"{counts[o]:16}" for o in OUTCOMES)
                     + f"{len(cases):8}")
    lines.append("")
    lines.append(f"{'reader family':24}" + "".join(f"{o:>16}" for o in OUTCOMES) + f"{'total':>8}")
    for family, counts in sorted(by_family.items()):
        lines.append(f"{family:24}" + "".join(f"{counts[o]:16}" for o in OUTCOMES)
                     + f"{sum(counts.values()):8}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=1000, help="cases per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", action="append", help="only these targets or families")
    args = parser.parse_args()
    start = time.monotonic()
    results = run_campaign(args.mutations, args.seed, args.target)
    print(report(results))
    print(f"\n{sum(len(c) for c in results.values())} cases in "
          f"{time.monotonic() - start:.0f} s (seed {args.seed})")
    bad = [c for cases in results.values() for c in cases if c.outcome == "BAD"]
    for case in bad:
        print(f"BAD {case.target} #{case.index} {case.file} {case.kind}: {case.detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
