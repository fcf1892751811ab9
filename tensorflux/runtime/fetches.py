"""Turns the nested `fetches` of Session.run into flat tensors and targets, and back."""
import collections

import numpy as np

from tensorflux.framework import ops


class FetchHandler:
    """Flattens fetches: single elements, lists, tuples, namedtuples, dicts, nested."""

    __slots__ = ("tensors", "targets", "_template", "_positions")

    def __init__(self, graph, fetches):
        self._positions = {}
        tensors, targets = [], []
        self._template = self._flatten(graph, fetches, tensors, targets)
        self.tensors = tuple(tensors)
        self.targets = tuple(targets)

    def _flatten(self, graph, fetch, tensors, targets):
        if isinstance(fetch, (ops.Tensor, ops.Operation, str)) or hasattr(fetch,
                                                                         "_as_graph_element"):
            return self._leaf(graph, fetch, tensors, targets)
        if hasattr(fetch, "_fetch_components"):  # composites such as SparseTensor
            parts = [self._flatten(graph, p, tensors, targets)
                     for p in fetch._fetch_components()]
            return ("composite", fetch._fetch_rebuild, parts)
        if fetch is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        if isinstance(fetch, ops.IndexedSlices):
            parts = [self._flatten(graph, p, tensors, targets)
                     for p in (fetch.values, fetch.indices, fetch.dense_shape) if p is not None]
            return ("slices", parts)
        if isinstance(fetch, dict):
            return ("dict", type(fetch), [(k, self._flatten(graph, v, tensors, targets))
                                          for k, v in fetch.items()])
        if isinstance(fetch, (list, tuple)):
            kind = "namedtuple" if hasattr(fetch, "_fields") else type(fetch)
            return ("seq", kind, type(fetch),
                    [self._flatten(graph, f, tensors, targets) for f in fetch])
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a "
                        "string or Tensor. (Can not convert a "
                        f"{type(fetch).__name__} into a Tensor or Operation.)")

    def _leaf(self, graph, fetch, tensors, targets):
        try:
            element = graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
        except (KeyError, ValueError, TypeError) as e:
            msg = e.args[0] if e.args else str(e)
            raise type(e)(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                          f"({msg})") from None
        if not graph.is_fetchable(element):
            raise ValueError(f"Operation {element.name!r} has been marked as not fetchable.")
        if isinstance(element, ops.Operation):
            if element not in targets:
                targets.append(element)
            return None
        position = self._positions.get(element)
        if position is None:
            position = self._positions[element] = len(tensors)
            tensors.append(element)
        return position

    def build(self, values):
        """The fetched values arranged like the original `fetches`."""
        return _rebuild(self._template, values)


def _rebuild(template, values):
    if template is None:
        return None
    if isinstance(template, int):
        return _fetched(values[template])
    kind = template[0]
    if kind == "seq":
        _, seq_kind, cls, items = template
        built = [_rebuild(t, values) for t in items]
        if seq_kind == "namedtuple":
            return cls(*built)
        return built if cls is list else cls(built)
    if kind == "dict":
        _, cls, items = template
        result = cls() if cls is not collections.defaultdict else {}
        for k, t in items:
            result[k] = _rebuild(t, values)
        return result
    if kind == "composite":
        return template[1]([_rebuild(t, values) for t in template[2]])
    parts = [_rebuild(t, values) for t in template[1]]
    return ops.IndexedSlicesValue(*(parts + [None] * (3 - len(parts))))


def _fetched(value):
    """What Session.run hands out: 0-d results as NumPy scalars (bytes for strings), arrays as
    copies (a variable's buffer is updated in place by later steps)."""
    if isinstance(value, np.ndarray):
        return value[()] if value.ndim == 0 else value.copy()
    return value


def feed_pairs(graph, key, value):
    """(tensor, value) pairs for one feed_dict entry (tensors, names, IndexedSlices)."""
    if isinstance(key, ops.IndexedSlices) or hasattr(key, "_feed_pairs"):
        parts = key._feed_pairs() if hasattr(key, "_feed_pairs") else (
            key.values, key.indices, key.dense_shape)
        return [(graph.as_graph_element(k, allow_tensor=True, allow_operation=False), v)
                for k, v in zip(parts, value) if k is not None]
    try:
        tensor = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (KeyError, ValueError, TypeError) as e:
        msg = e.args[0] if e.args else str(e)
        raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
    return [(tensor, value)]
