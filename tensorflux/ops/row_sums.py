"""Adding rows into an array at repeatable row indices, fast: the core of ScatterAdd/ScatterSub,
UnsortedSegmentSum and the sparse optimizer updates.

NumPy's reference is `np.add.at(target, indices, rows)`, which handles repeated indices but
loops element by element (about 200 µs for 192 rows of 128 floats). Here distinct indices take
one fancy-indexed `+=`; repeated ones are first summed per index with one `np.bincount` (float64
accumulation, then the target's dtype), so each touched row of the target is written once. Only
the rows named by `indices` are read or written: a 50000-row embedding updated by a batch of 128
costs the batch, not the table. Integer and complex arrays keep `np.add.at` (exact, and
bincount's weights are real floats).
"""
import numpy as np

_FAST = (np.float16, np.float32, np.float64)


def add_rows(target, indices, rows, subtract=False):
    """target[indices[k]] += rows[k] (or -=) for every k, repeated indices adding up.

    `indices` has any shape; `rows` has shape indices.shape + target.shape[1:]; the indices
    must already be checked to lie in [0, len(target)). Updates `target` in place."""
    indices = np.asarray(indices).reshape(-1)
    rows = np.asarray(rows)
    if target.dtype.type not in _FAST or rows.dtype != target.dtype:
        (np.subtract if subtract else np.add).at(target, indices, rows.reshape(
            indices.shape + target.shape[1:]))
        return
    if not indices.size:
        return
    rows = rows.reshape((indices.size,) + target.shape[1:])
    order = np.argsort(indices, kind="stable")
    ranked = indices[order]
    starts = np.empty(ranked.size, bool)  # where a new index begins in sorted order
    starts[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=starts[1:])
    groups = np.cumsum(starts) - 1
    if groups[-1] + 1 == indices.size:  # distinct: one vectorized read-modify-write
        if subtract:
            target[indices] -= rows
        else:
            target[indices] += rows
        return
    # Summing the rows in sorted order is one bincount; np.unique(return_inverse) would
    # sort the same indices again (this path runs on every sparse gradient step).
    sums = group_sums(groups, rows[order], int(groups[-1]) + 1)
    unique = ranked[starts]
    if subtract:
        target[unique] -= sums
    else:
        target[unique] += sums


def group_sums(groups, rows, n):
    """The sums of `rows` per group: out[g] = sum of rows[k] where groups[k] == g (g < n)."""
    width = int(np.prod(rows.shape[1:], dtype=np.int64))
    if width == 1 or rows.ndim == 1:
        flat = groups
    else:
        flat = (groups.astype(np.intp)[:, None] * width + np.arange(width)).reshape(-1)
    sums = np.bincount(flat, weights=rows.reshape(-1), minlength=n * width)
    return sums.astype(rows.dtype, copy=False).reshape((n,) + rows.shape[1:])
