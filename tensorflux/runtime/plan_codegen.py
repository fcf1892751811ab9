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
"""
from tensorflux.runtime.kernel_binding import internal_error, op_error

MAX_STEPS = 20000


def generate(steps, template, feed_slots, fetch_slots, fetch_deref):
    """run(feed_values) -> fetched values, for steps as Plan keeps them; None if too big."""
    if len(steps) > MAX_STEPS:
        return None
    env = {"_fail": _failure(steps)}
    used = {i for step in steps for i in step[2]} | set(fetch_slots)
    lines = ["def run(F):", "    k = -1", "    try:"]
    feed_at = {slot: n for n, slot in enumerate(feed_slots)}
    for slot in sorted(used):
        if slot in feed_at:
            lines.append(f"        v{slot} = F[{feed_at[slot]}]")
        elif slot < len(template) and template[slot] is not None:
            env[f"t{slot}"] = template[slot]
            lines.append(f"        v{slot} = t{slot}")
    for k, (fn, ctx, ins, out, n, deref, free) in enumerate(steps):
        env[f"f{k}"], env[f"c{k}"] = fn, ctx
        args = "".join(f", v{i}.get()" if deref is not None and deref[j] else f", v{i}"
                       for j, i in enumerate(ins))
        call = f"f{k}(c{k}{args})"
        lines.append(f"        k = {k}")
        if n == 1:
            lines.append(f"        v{out} = {call}")
        elif n == 0:
            lines.append(f"        {call}")
        else:  # unpacking is the plan's bookkeeping, not the kernel's: marked by -(k + 2)
            lines.append(f"        r = {call}")
            lines.append(f"        k = {-(k + 2)}")
            lines.append(f"        {', '.join(f'v{out + j}' for j in range(n))}, = r")
        if free:
            lines.append(f"        {' = '.join(f'v{i}' for i in free)} = None")
    fetched = ", ".join(f"v{s}.get()" if d else f"v{s}" for s, d in zip(fetch_slots, fetch_deref))
    lines += [f"        k = {-(len(steps) + 2)}", f"        return [{fetched}]",
              "    except Exception as e:  # noqa: BLE001", "        _fail(k, e, locals())"]
    exec(compile("\n".join(lines) + "\n", "<tensorflux plan>", "exec"), env)  # noqa: S102
    return env["run"]


def _failure(steps):
    def fail(k, exc, values):
        if k >= 0:  # step k's kernel raised: the error names its op and inputs
            op = steps[k][1].op
            raise op_error(op, exc, [values.get(f"v{i}") for i in steps[k][2]]) from exc
        at = -k - 2  # k = -1: loading the feeds; -(j + 2): after step j (len(steps): fetching)
        op = steps[min(at, len(steps) - 1)][1].op if at >= 0 and steps else None
        raise internal_error(op, exc) from exc
    return fail
