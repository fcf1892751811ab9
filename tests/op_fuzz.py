"""The op fuzzer: every registered op fed bad inputs, at run time and at graph-build time.

Two kinds of targets:
  spec      an op harness entry (tests/ops/test_*.py SPECS): its own shape cases and dtypes,
            plus mutated shapes (ranks 0-5, zero-sized dimensions), other dtypes and hostile
            values (NaN, Inf, negative and out-of-range integers, huge sizes). Where the op runs
            on the spec's own dtypes, its answer must match the spec's NumPy reference.
  raw       every registered op built directly through `apply_op`: random input dtypes
            (allowed or not), list lengths and mutated attrs (negative or zero strides and
            ksize, unknown padding, out-of-range axes, huge sizes).
Each case runs twice: inputs fed through shape-less placeholders (no shape function can catch
them first) and as constants (the shape functions see everything).

What a case may do: return the reference's answer; raise ValueError/TypeError while the graph
is built (TensorFlow's graph-construction errors); raise a tf.errors.OpError naming the op
while it runs. Failures: any other exception, a wrong answer, an error naming no op, a case
over `CASE_SECONDS` (a hang), a MemoryError (an allocation the byte limit should have
refused). OpErrors that merely wrap a raw Python exception (`IndexError: ...`) are counted as
`unwrapped`: TF-class errors, but with NumPy's words instead of TensorFlow's.

Hypothesis draws the cases (`fuzz_target`); `run_campaign` runs many targets and returns counts
per op family and outcome. tests/test_op_fuzz.py runs a bounded campaign with a fixed seed;
`make fuzz` (tools/fuzz/run.py) a long one.
"""
import collections
import glob
import importlib
import os
import re
import sys
import time
import traceback
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed as hseed, settings, strategies as st

import tensorflux as tf
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools", "fuzz"))
import guards  # noqa: E402
from guards import Hang, alarm as _alarm  # noqa: E402  (the case timer, shared with readers.py)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(os.path.abspath(tf.__file__))
CASE_SECONDS = 10
FUZZ_TENSOR_LIMIT = 64 << 20  # per-tensor cap while fuzzing: huge sizes must be refused
FAILURES = ("foreign", "mismatch", "unnamed", "hang", "memory")
_RAW_TEXT = re.compile(r"^(IndexError|ValueError|TypeError|KeyError|AttributeError|AxisError|"
                       r"ZeroDivisionError|OverflowError|RuntimeError|NotImplementedError|"
                       r"UFuncTypeError|_UFuncNoLoopError|LinAlgError|MemoryError)\b")

# Ops the raw fuzzer leaves alone: they touch files, block on other steps, or only make sense
# inside a while loop; the spec fuzzer still runs their harness entries.
_RAW_SKIP_FAMILIES = ("reader_ops", "io_ops", "data_flow_ops", "sendrecv_ops", "script_ops",
                      "accumulator_ops", "control_flow_primitives", "summary_ops",
                      "tensor_array_ops", "state_ops", "training_ops")
_DTYPES = (tf.float16, tf.float32, tf.float64, tf.int8, tf.uint8, tf.int32, tf.int64,
           tf.bool, tf.complex64, tf.string)


# ---- targets --------------------------------------------------------------------------------
def family_of(op_type):
    return registry.get_op_def(op_type).registered_at.split(os.sep)[-1].split(".py")[0]


def harness_specs():
    """(family, spec) for every SPECS entry under tests/ops."""
    out = []
    for path in sorted(glob.glob(os.path.join(TESTS_DIR, "ops", "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        package = os.path.exists(os.path.join(TESTS_DIR, "ops", "__init__.py"))
        if not package and os.path.join(TESTS_DIR, "ops") not in sys.path:
            sys.path.append(os.path.join(TESTS_DIR, "ops"))  # as pytest's rootdir imports do
        module = importlib.import_module(f"ops.{name}" if package else name)
        for spec in getattr(module, "SPECS", []):
            out.append((family_of(spec.op_types[0]), spec))
    return out


def raw_ops():
    """(family, op type) for the ops the raw fuzzer builds directly."""
    out = []
    for name, op_def in sorted(registry.registered_ops().items()):
        family = family_of(name)
        if (family in _RAW_SKIP_FAMILIES or not op_def.registered_at.startswith(_PACKAGE)
                or op_def.is_stateful or name.startswith("_")
                or any(a.is_ref for a in op_def.inputs) or "CPU" not in op_def.kernels):
            continue
        out.append((family, name))
    return out


# ---- values ---------------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 3), min_size=0, max_size=5).map(tuple)
_SPECIAL_FLOATS = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30)
_SPECIAL_INTS = (-1, -2, 0, 7, 100, 2 ** 20, 2 ** 31 - 1, -2 ** 31)


@st.composite
def hostile_values(draw, shape, dtype):
    """An array of `shape` and `dtype` with NaN/Inf, negative and out-of-range values mixed in."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    dtype = tf.as_dtype(dtype)
    if dtype == tf.string:
        return rng.choice(np.array([b"", b"a", b"\xff\x00"], dtype=object), size=shape)
    if dtype == tf.bool:
        return rng.random(shape) > 0.5
    np_type = dtype.as_numpy_dtype
    if dtype.is_integer:
        info = np.iinfo(np_type)
        pool = [v for v in _SPECIAL_INTS if info.min <= v <= info.max] + list(range(-3, 6))
        return rng.choice(pool, size=shape).astype(np_type)
    x = rng.uniform(-3, 3, size=shape)
    if draw(st.booleans()):
        mask = rng.random(shape) < 0.3
        x = np.where(mask, rng.choice(_SPECIAL_FLOATS, size=shape), x)
    if dtype.is_complex:
        x = x + 1j * rng.uniform(-3, 3, size=shape)
    with np.errstate(all="ignore"):
        return np.asarray(x).astype(np_type)


# ---- running one case -----------------------------------------------------------------------
def _classify_op_error(e, graph):
    """An OpError raised by Session.run: must name an op of the graph."""
    text = str(e)
    named = e.op is not None or any(f"'{op.name}'" in text for op in graph.get_operations())
    if not named:
        return "unnamed", text
    if "MemoryError" in text:
        return "memory", text
    if _RAW_TEXT.match(e.message):
        return "unwrapped", text
    return "tf_error", text


def run_case(build, feeds, static):
    """Builds with build(inputs) -> fetches and runs once.

    Returns:
      (outcome, detail, result): outcome 'ok' (result holds the fetched values), 'build_error',
      'tf_error', 'unwrapped', or one of FAILURES."""
    graph = tf.Graph()
    try:
        with _alarm(CASE_SECONDS), graph.as_default():
            try:
                if static:
                    inputs = [tf.constant(v) for v in feeds]
                else:
                    inputs = [tf.placeholder(_dtype_of(v)) for v in feeds]
                out = build(inputs)
            except (ValueError, TypeError) as e:
                return "build_error", f"{type(e).__name__}: {e}", None
            with tf.Session(graph=graph) as sess:
                feed = {} if static else dict(zip(inputs, feeds))
                try:
                    return "ok", "", sess.run(out, feed)
                except TypeError as e:  # a value the placeholder's dtype can't hold: TF too
                    if not str(e).startswith("Cannot feed value"):  # refuses it, TypeError
                        raise
                    return "build_error", f"{type(e).__name__}: {e}", None
    except tf.errors.OpError as e:
        outcome, text = _classify_op_error(e, graph)
        return outcome, text, None
    except Hang as e:
        return "hang", str(e), None
    except MemoryError as e:
        return "memory", f"MemoryError: {e} at {_where(e)}", None
    except Exception as e:  # noqa: BLE001 - the very thing the fuzzer looks for
        return "foreign", f"{type(e).__name__}: {e} at {_where(e)}", None


def _where(exc):
    """The innermost file:line of `exc`'s traceback (where a failure report should look)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _dtype_of(value):
    return tf.string if value.dtype == object else tf.as_dtype(value.dtype)


# ---- comparing with the reference -----------------------------------------------------------
def compare(spec, dtype, values, got):
    """None if `got` matches the spec's reference on `values` (or the reference itself
    refuses the inputs), else what differs."""
    try:
        with np.errstate(all="ignore"):
            want = spec.ref(*values)
    except Exception:  # noqa: BLE001 - NumPy refusing a mutated case: nothing to compare
        return None
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    if len(want) != len(got):
        return f"{len(got)} outputs, reference has {len(want)}"
    tol = spec.tol.get(dtype, {tf.float32: 1e-4, tf.float64: 1e-8}.get(dtype, 0))
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            return f"output {i}: shape {g.shape}, reference {w.shape}"
        if g.dtype == object or g.dtype.kind in "bSU" or w.dtype == object:
            same = np.array_equal(g, w)
        else:
            with np.errstate(all="ignore"):
                same = np.allclose(g.astype(np.complex128), w.astype(np.complex128),
                                   rtol=tol, atol=tol, equal_nan=True)
        if not same:
            return f"output {i}: values differ from the reference"
    return None


# ---- spec targets ---------------------------------------------------------------------------
@st.composite
def spec_cases(draw, spec):
    """(dtype, values, comparable) for one spec: its own case, or a mutated one."""
    kind = draw(st.sampled_from(["own", "shapes", "dtype", "values"]))
    case = draw(st.sampled_from(spec.shapes))
    dtype = draw(st.sampled_from(spec.dtypes))
    if kind == "shapes":
        case = tuple(draw(shapes) for _ in case)
    if kind == "dtype":
        dtype = draw(st.sampled_from(_DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    gens = _spec_generators(spec, len(case))
    values = []
    for gen, shape in zip(gens, case):
        in_dtype = getattr(gen, "dtype", None) or dtype
        if kind == "values":
            values.append(draw(hostile_values(shape, in_dtype)))
            continue
        try:
            values.append(np.asarray(gen(rng, shape, in_dtype)))
        except Exception:  # noqa: BLE001 - a generator made for the spec's own shapes
            values.append(draw(hostile_values(shape, in_dtype)))
    # References are written for the spec's own shape cases (many ignore or assume a rank), and
    # specs with an extra check or a stateful op have references tied to those cases too.
    comparable = (kind == "own" and spec.check is None
                  and dtype in (tf.float32, tf.float64, tf.int32, tf.int64, tf.bool)
                  and not any(registry.get_op_def(t).is_stateful for t in spec.op_types))
    return dtype, values, comparable


def _spec_generators(spec, n):
    from op_harness import uniform
    gen = spec.inputs or uniform
    return list(gen) if isinstance(gen, (list, tuple)) else [gen] * n


def spec_case_outcomes(spec, dtype, values, comparable):
    """Outcome per mode (runtime, static) of one spec case."""
    outcomes = []
    for static in (False, True):
        outcome, detail, got = run_case(lambda ins: _as_list(spec.fn(*ins)), values, static)
        if outcome == "ok" and comparable:
            diff = compare(spec, dtype, values, got)
            if diff is not None:
                outcome, detail = "mismatch", diff
        outcomes.append((outcome, detail))
    return outcomes


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


# ---- raw targets ----------------------------------------------------------------------------
_HOSTILE_ATTRS = {
    "int": [-1, 0, 1, 2, 5, 2 ** 31 - 1, -2 ** 31],
    "float": [0.0, -1.0, 0.5, float("nan"), float("inf")],
    "bool": [False, True],
    "string": ["SAME", "VALID", "NHWC", "NCHW", "BOGUS", ""],
    "list(int)": [[], [1, 1, 1, 1], [1, 2, 2, 1], [1, 0, 1, 1], [1, -1, 1, 1], [1, 2],
                  [2 ** 31 - 1] * 4, [0, 1, 2], [-1]],
    "list(float)": [[], [0.5], [1.0, 2.0]],
    "shape": [[], [2], [-1, 3], None],
}


@st.composite
def raw_cases(draw, op_type):
    """(inputs as nested lists of arrays, attrs) for a direct apply_op of `op_type`."""
    op_def = registry.get_op_def(op_type)
    attrs = {}
    for name, decl in op_def.attrs.items():
        if decl.type in ("type", "list(type)") or name.startswith("_"):
            continue
        pool = _HOSTILE_ATTRS.get(decl.type)
        if pool is None or (not decl.required and draw(st.booleans())):
            continue
        attrs[name] = draw(st.sampled_from(pool))
    chosen = {}
    values = []
    for arg in op_def.inputs:
        count = draw(st.integers(1, 3)) if (arg.number_attr or arg.type_list_attr) else None
        arrays = [draw(hostile_values(draw(shapes), _arg_dtype(draw, op_def, arg, chosen)))
                  for _ in range(count or 1)]
        values.append(arrays if count else arrays[0])
    return values, attrs


def _arg_dtype(draw, op_def, arg, chosen):
    if arg.dtype is not None and draw(st.integers(0, 4)):
        return arg.dtype
    key = arg.type_attr
    if key in chosen:
        return chosen[key]
    decl = op_def.attrs.get(key) if key else None
    allowed = [d for d in (decl.allowed or ()) if d in _DTYPES] if decl else []
    if allowed and draw(st.integers(0, 3)):
        dtype = draw(st.sampled_from(allowed))
    else:
        dtype = draw(st.sampled_from(_DTYPES))
    if key:
        chosen[key] = dtype
    return dtype


def raw_case_outcomes(op_type, values, attrs):
    flat = [a for v in values for a in (v if isinstance(v, list) else [v])]

    def build(inputs):
        it = iter(inputs)
        args = [[next(it) for _ in v] if isinstance(v, list) else next(it) for v in values]
        out = apply_op(op_type, *args, **attrs)
        return [t for t in _as_list(out) if isinstance(t, tf.Tensor)]
    return [run_case(build, flat, static)[:2] for static in (False, True)]


# ---- campaigns ------------------------------------------------------------------------------
def guarded_memory(extra_bytes=3 << 30):
    """guards.guarded_memory with this fuzzer's per-tensor cap, FUZZ_TENSOR_LIMIT."""
    return guards.guarded_memory(FUZZ_TENSOR_LIMIT, extra_bytes)


class Tally:
    """Counts per (family, outcome) and the first few failures' details."""

    def __init__(self):
        self.counts = collections.defaultdict(collections.Counter)
        self.failures = []
        self.unwrapped = collections.Counter()

    def add(self, family, target, outcomes):
        for outcome, detail in outcomes:
            self.counts[family][outcome] += 1
            if outcome in FAILURES:
                self.failures.append(f"{target} [{outcome}]: {detail[:400]}")
            elif outcome == "unwrapped":
                self.unwrapped[f"{target}: {detail.splitlines()[0][:120]}"] += 1

    def total(self):
        return sum(sum(c.values()) for c in self.counts.values())

    def report(self):
        keys = ["ok", "build_error", "tf_error", "unwrapped", *FAILURES]
        lines = [f"{'family':24}" + "".join(f"{k:>12}" for k in keys)]
        for family in sorted(self.counts):
            c = self.counts[family]
            lines.append(f"{family:24}" + "".join(f"{c[k]:>12}" for k in keys))
        lines.append(f"{'total':24}" + "".join(
            f"{sum(c[k] for c in self.counts.values()):>12}" for k in keys))
        return "\n".join(lines)


def fuzz_target(tally, family, target, examples, seed):
    """Runs `examples` Hypothesis cases (each in two modes) against one target."""
    cfg = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck),
                   phases=(Phase.explicit, Phase.generate))
    if isinstance(target, str):
        @hseed(seed)
        @cfg
        @given(st.data())
        def case(data):
            values, attrs = data.draw(raw_cases(target))
            tally.add(family, target, raw_case_outcomes(target, values, attrs))
    else:
        @hseed(seed)
        @cfg
        @given(st.data())
        def case(data):
            tally.add(family, str(target), spec_case_outcomes(target, *data.draw(
                spec_cases(target))))
    case()


def run_campaign(examples_per_target, seed=0, families=None, budget_s=None):
    """Fuzzes every harness spec and every raw op; returns the Tally."""
    tally = Tally()
    targets = harness_specs() + raw_ops()
    start = time.monotonic()
    with guarded_memory(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN and empty inputs make NumPy chatty by design
        for family, target in targets:
            if families and family not in families:
                continue
            if budget_s is not None and time.monotonic() - start > budget_s:
                break
            fuzz_target(tally, family, target, examples_per_target, seed)
    return tally
