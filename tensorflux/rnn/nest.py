"""Nested structures of tensors (tuples, lists, namedtuples such as LSTMStateTuple).

RNN states may be a tensor, a tuple of tensors, or tuples of tuples (MultiRNNCell of LSTM cells);
these helpers flatten such a structure to a list and rebuild it from a flat list.
"""


def is_sequence(value):
    """True for a tuple or list (a nested structure), False for a tensor, int or string."""
    return isinstance(value, (tuple, list))


def _children(value):
    return list(value)


def _rebuild(template, items):
    if isinstance(template, tuple) and hasattr(template, "_fields"):  # namedtuple
        return type(template)(*items)
    return type(template)(items)


def flatten(structure):
    """The leaves of `structure` in depth-first order; a leaf alone gives [leaf]."""
    if not is_sequence(structure):
        return [structure]
    flat = []
    for child in _children(structure):
        flat.extend(flatten(child))
    return flat


def _pack(template, flat, start):
    if not is_sequence(template):
        return flat[start], start + 1
    items = []
    for child in _children(template):
        item, start = _pack(child, flat, start)
        items.append(item)
    return _rebuild(template, items), start


def pack_sequence_as(structure, flat_sequence):
    """`flat_sequence` rebuilt with the nesting (and tuple types) of `structure`."""
    flat_sequence = list(flat_sequence)
    count = len(flatten(structure))
    if count != len(flat_sequence):
        raise ValueError(f"Could not pack sequence: the structure has {count} elements, but "
                         f"flat_sequence has {len(flat_sequence)}")
    packed, _ = _pack(structure, flat_sequence, 0)
    return packed


def map_structure(fn, *structures):
    """`fn` applied leaf by leaf to structures of the same shape, in that shape."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    leaves = [fn(*args) for args in zip(*(flatten(s) for s in structures))]
    return pack_sequence_as(structures[0], leaves)


def assert_same_structure(first, second):
    """ValueError unless both structures nest the same way with the same number of leaves."""
    if is_sequence(first) != is_sequence(second):
        raise ValueError(f"The two structures don't have the same nested structure: {first!r} "
                         f"and {second!r}")
    if is_sequence(first):
        if len(first) != len(second):
            raise ValueError(f"The two structures don't have the same number of elements: "
                             f"{len(first)} and {len(second)} ({first!r} and {second!r})")
        for a, b in zip(first, second):
            assert_same_structure(a, b)
