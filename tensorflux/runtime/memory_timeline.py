"""The memory of one traced step, replayed from its node records (step_stats.py).

Each output a node newly allocated (its records say so: `outputs[k][4]` bytes, under buffer key
`outputs[k][3]`) is live from the end of its producer to the end of its last consumer, a later
node whose `input_buffers` hold that key; a buffer nobody consumed is counted until the step
ends (it was fetched, or dropped at once: the records cannot tell). Devices are replayed apart.
Buffer addresses can be reused once freed, so a key names the latest allocation under it.
"""
import collections
import math

Usage = collections.namedtuple("Usage", "allocated live in_use")


def replay(records):
    """One Usage per record (records in start order): bytes the node allocated, how many of
    them outlive the step, and the device's bytes in use as the node finishes (its inputs still
    held), whose maximum is the step's peak."""
    usages = [None] * len(records)
    by_device = collections.defaultdict(list)
    for k, rec in enumerate(records):
        by_device[rec.device].append(k)
    for indices in by_device.values():
        _replay_device(records, indices, usages)
    return usages


def _replay_device(records, indices, usages):
    allocs = _lifetimes(records, indices)  # [bytes, producer index, last use end or None]
    starts = sorted((records[k].end, size) for size, k, _ in allocs)
    ends = sorted((math.inf if last is None else last, size) for size, _, last in allocs)
    live_at_end = collections.Counter()
    for size, k, last in allocs:
        if last is None:
            live_at_end[k] += size
    allocated = collections.Counter()
    for size, k, _ in allocs:
        allocated[k] += size
    in_use, a, f = 0, 0, 0
    for k in sorted(indices, key=lambda i: records[i].end):
        end = records[k].end
        while a < len(starts) and starts[a][0] <= end:  # allocations up to this node's end
            in_use += starts[a][1]
            a += 1
        while f < len(ends) and ends[f][0] < end:  # frees by nodes that finished before it
            in_use -= ends[f][1]
            f += 1
        usages[k] = Usage(allocated[k], live_at_end[k], in_use)


def _lifetimes(records, indices):
    current = {}  # buffer key -> index into allocs of its latest allocation
    allocs = []
    for k in indices:
        rec = records[k]
        for key in rec.input_buffers:
            a = current.get(key)
            if a is not None:
                last = allocs[a][2]
                allocs[a][2] = rec.end if last is None else max(last, rec.end)
        for _, _, _, key, size in rec.outputs:
            if size:
                allocs.append([size, k, None])
                if key is not None:
                    current[key] = len(allocs) - 1
    return allocs
