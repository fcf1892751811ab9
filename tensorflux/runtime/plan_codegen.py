"""An inline plan's steps written out as one generated Python function.

Plan.run's loop spends a microsecond or two per step on its own bookkeeping: unpacking the step
tuple, indexing the value list, counting inputs, storing outputs, freeing slots. The generated
function does the same work as straight-line code over local variables (`v12 = f3(c3, v7,
v9)`), where each of those is a bytecode or two: a tenth of the overhead, which matters for the
many small steps of word2vec-sized models (about 4% of its step). It is made once per plan, at
compile time. It computes exactly what the loop computes, in the same order, frees each value
after its last reader as the loop does, and raises the same errors: the index of the running
step is kept in a local, so a kernel's exception becomes op_error(its op), and one of the
plan's own bookkeeping (a kernel returning the wrong number of outputs, which the loop let
through) internal_error.

Plans of more than MAX_STEPS steps keep the loop (compiling a function takes about 20 µs per
step; the loop's overhead is small next to steps that big graphs usually have).

A laned plan (runtime/optimizer/lanes.py) launches some steps on the lane thread
(ops/lanes.py): the code hands the kernel over at the step's place (`h7 = L.launch(7, f7, c7,
(v3, v5))`) and takes its result just before the first step that reads it (or before
fetching). The run holds two lanes, one while a launched step is pending. A failure is
reported as the sequential order would have reported it: a launched step's own error names its
op when it is joined, and when a later step fails while it is pending, it is waited for and its
error wins. Every launched step has finished before the run returns or raises.
"""
from tensorflux.ops import lanes
from tensorflux.runtime.kernel_binding import internal_error, op_error

MAX_STEPS = 20000


def generate(steps, template, feed_slots, fetch_slots, fetch_deref, launches=()):
    """run(feed_values) -> fetched values, for steps as Plan keeps them; None if too big.
    launches: the indices of the steps to run on a second thread."""
    if len(steps) > MAX_STEPS:
        return None
    env = {"_fail": _failure(steps), "_Run": LanedRun}
    used = {i for step in steps for i in step[2]} | set(fetch_slots)
    joins = _joins(steps, launches)
    lines = ["def run(F):", "    k = -1"] + (["    L = _Run()"] if launches else []) + ["    try:"]
    feed_at = {slot: n for n, slot in enumerate(feed_slots)}
    for slot in sorted(used):
        if slot in feed_at:
            lines.append(f"        v{slot} = F[{feed_at[slot]}]")
        elif slot < len(template) and template[slot] is not None:
            env[f"t{slot}"] = template[slot]
            lines.append(f"        v{slot} = t{slot}")
    for k, (fn, ctx, ins, out, n, deref, free) in enumerate(steps):
        for launched in joins.get(k, ()):
            lines += _outputs(launched, steps[launched], f"L.join(h{launched})")
        env[f"f{k}"], env[f"c{k}"] = fn, ctx
        args = [f"v{i}.get()" if deref is not None and deref[j] else f"v{i}"
                for j, i in enumerate(ins)]
        if k in launches:
            packed = "".join(a + ", " for a in args)
            lines += [f"        k = {k}", f"        h{k} = L.launch({k}, f{k}, c{k}, ({packed}))"]
        else:
            lines += _outputs(k, steps[k], f"f{k}(c{k}{''.join(', ' + a for a in args)})")
        if free:
            lines.append(f"        {' = '.join(f'v{i}' for i in free)} = None")
    for launched in joins.get(len(steps), ()):
        lines += _outputs(launched, steps[launched], f"L.join(h{launched})")
    fetched = ", ".join(f"v{s}.get()" if d else f"v{s}" for s, d in zip(fetch_slots, fetch_deref))
    lines += [f"        k = {-(len(steps) + 2)}", f"        return [{fetched}]",
              "    except Exception as e:  # noqa: BLE001", "        _fail(k, e, locals())"]
    if launches:
        lines += ["    finally:", "        L.close()"]
    exec(compile("\n".join(lines) + "\n", "<tensorflux plan>", "exec"), env)  # noqa: S102
    return env["run"]


def _outputs(k, step, call):
    """The lines running `call` as step k and storing its outputs."""
    out, n = step[3], step[4]
    lines = [f"        k = {k}"]
    if n == 1:
        lines.append(f"        v{out} = {call}")
    elif n == 0:
        lines.append(f"        {call}")
    else:  # unpacking is the plan's bookkeeping, not the kernel's: marked by -(k + 2)
        lines.append(f"        r = {call}")
        lines.append(f"        k = {-(k + 2)}")
        lines.append(f"        {', '.join(f'v{out + j}' for j in range(n))}, = r")
    return lines


def _joins(steps, launches):
    """{step index: launched steps to join just before it} (len(steps): before fetching)."""
    joins = {}
    for k in launches:
        out, n = steps[k][3], steps[k][4]
        outputs = set(range(out, out + n))
        first = next((j for j in range(k + 1, len(steps)) if outputs.intersection(steps[j][2])),
                     len(steps))
        joins.setdefault(first, []).append(k)
    return joins


class LanedRun:
    """One run of a laned plan: holds the calling thread's two lanes (one while a launched
    step is pending) and the launched steps not yet joined."""

    __slots__ = ("before", "pending")

    def __init__(self):
        self.before = lanes.set_current(lanes.STEP_LANES)
        self.pending = []

    def launch(self, k, fn, ctx, args):
        launched = _Launched(k, args, lanes.submit(fn, ctx, *args))
        self.pending.append(launched)
        lanes.set_current(1)
        return launched

    def join(self, launched):
        """The launched step's outputs, or its kernel's exception raised."""
        try:
            result = launched.task.wait()
        finally:
            self.pending.remove(launched)
            if not self.pending:
                lanes.set_current(lanes.STEP_LANES)
        launched.args = None  # (kept on failure: the error describes them)
        return result

    def settle(self):
        """Waits for every pending step; the first failed one (by step index), else None."""
        failed = None
        for launched in sorted(self.pending, key=lambda p: p.k):
            try:
                launched.task.wait()
            except BaseException:  # noqa: BLE001 - reported by the caller
                failed = failed or launched
        self.pending = []
        return failed

    def close(self):
        self.settle()
        lanes.set_current(self.before)


class _Launched:
    """A step's kernel running on the lane thread (ops/lanes.py)."""

    __slots__ = ("k", "args", "task")

    def __init__(self, k, args, task):
        self.k, self.args, self.task = k, args, task

    @property
    def error(self):
        return self.task.error


def _failure(steps):
    def fail(k, exc, values):
        run = values.get("L")
        launched = run.settle() if run is not None else None
        if launched is not None and launched.k != k:  # it came first in the sequential order
            k, exc = launched.k, launched.error
        if k >= 0:  # step k's kernel raised: the error names its op and inputs
            op = steps[k][1].op
            handle = values.get(f"h{k}")
            inputs = handle.args if handle is not None else [values.get(f"v{i}")
                                                              for i in steps[k][2]]
            raise op_error(op, exc, list(inputs)) from exc
        at = -k - 2  # k = -1: loading the feeds; -(j + 2): after step j (len(steps): fetching)
        op = steps[min(at, len(steps) - 1)][1].op if at >= 0 and steps else None
        raise internal_error(op, exc) from exc
    return fail
