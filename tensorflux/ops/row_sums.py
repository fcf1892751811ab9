"""Adding rows into an array at repeatable row indices, fast: the core of ScatterAdd/ScatterSub,
UnsortedSegmentSum and the sparse optimizer updates.

NumPy's reference is `np.add.at(target, indices, rows)`: it handles repeated indices, adding
them one after the other as TensorFlow's scatter kernels do, but on a 2-D target it loops
element by element (about 200 µs for 192 rows of 128 floats). On a 1-D target NumPy (>= 1.25)
runs it as one fast loop, so a table's rows are updated through its flat view: row index i,
column j becomes i * width + j. Distinct indices skip even that: one fancy-indexed `-=`. Only
the rows named by `indices` are read or written: a 50000-row embedding updated by a batch of 128
costs the batch, not the table. The results are exactly np.add.at's (the same additions in the
same order).
"""
import numpy as np


def add_rows(target, indices, rows, subtract=False):
    """target[indices[k]] += rows[k] (or -=) for every k, repeated indices adding up.

    `indices` has any shape; `rows` has shape indices.shape + target.shape[1:]; the indices
    must already be checked to lie in [0, len(target)). Updates `target` in place."""
    indices = np.asarray(indices).reshape(-1)
    ufunc = np.subtract if subtract else np.add
    rows = np.asarray(rows).reshape(indices.shape + target.shape[1:])
    if not indices.size:
        return
    if target.ndim == 1 or rows.dtype != target.dtype or not target.flags.c_contiguous:
        ufunc.at(target, indices, rows)  # 1-D: NumPy's own fast loop
        return
    distinct = len(set(indices.tolist()))  # a set of a batch's ids: cheaper than a sort
    if distinct == indices.size:  # one vectorized read-modify-write
        target[indices] = ufunc(target[indices], rows)
        return
    if 4 * distinct > 3 * indices.size:  # mostly distinct: the rows of single ids at once
        indices, rows = _add_single_ids(ufunc, target, indices, rows)
    _flat_at(ufunc, target, indices, rows)


def _add_single_ids(ufunc, target, indices, rows):
    """Adds the rows whose index occurs once; returns the indices and rows left."""
    order = np.argsort(indices, kind="stable")
    ranked = indices[order]
    repeated = np.equal(ranked[1:], ranked[:-1])
    alone = np.ones(indices.size, bool)  # in sorted order: an index that occurs once
    alone[1:] &= ~repeated
    alone[:-1] &= ~repeated
    once = order[alone]
    target[indices[once]] = ufunc(target[indices[once]], rows[once])
    rest = order[~alone]
    return indices[rest], rows[rest]


# Float rows of even width are added as pairs through a complex view: complex addition adds
# real and imaginary parts separately, so the sums are bit for bit the same, with half the
# index entries and half the loop trips.
_PAIRS = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


def _flat_at(ufunc, target, indices, rows):
    """ufunc.at over the flat view of a C-contiguous `target`: NumPy's fast 1-D loop."""
    width = rows[0].size
    pair = _PAIRS.get(target.dtype)
    if pair is not None and target.shape[-1] % 2 == 0 and width:
        target = target.view(pair)
        rows = np.ascontiguousarray(rows).view(pair)
        width //= 2
    flat = (indices.astype(np.intp)[:, None] * width + np.arange(width)).reshape(-1)
    ufunc.at(target.reshape(-1), flat, rows.reshape(-1))
