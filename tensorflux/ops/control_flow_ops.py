"""Grouping and ordering: NoOp, group, tuple, with_dependencies.

(In-graph control flow — Switch/Merge/Enter/Exit/NextIteration, cond, while_loop — belongs
here too and arrives with the runtime issue.)
"""
import builtins

from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops

__all__ = [
    "no_op",
    "group",
    "tuple",
    "with_dependencies",
]

NoOp = registry.register_op("NoOp")
NoOp.not_differentiable()
NoOp.shape(lambda op: [])
NoOp.kernel("CPU")(lambda ctx: None)


def no_op(name=None):
    """An op that does nothing; useful as a target carrying control dependencies."""
    return apply_op("NoOp", name=name)


def group(*inputs, **kwargs):
    """An op that runs after all of `inputs` (tensors or ops) have run."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    deps = [_as_op(x) for x in _flatten(inputs)]
    graph = ops._graph_of(deps)
    with graph.as_default(), ops.name_scope(name, "group_deps", deps) as scope:
        with ops.control_dependencies(deps):
            return no_op(name=scope)


def _flatten(values):
    for v in values:
        if isinstance(v, (list, builtins.tuple)):
            yield from _flatten(v)
        elif isinstance(v, dict):
            yield from _flatten(list(v.values()))
        elif v is not None:
            yield v


def _as_op(x):
    if isinstance(x, ops.Operation):
        return x
    if hasattr(x, "op"):
        return x.op
    return ops.convert_to_tensor(x).op


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's name
    """Tensors with the same values as `tensors`, each available only after all are computed."""
    with ops.name_scope(name, "tuple", tensors) as scope:
        gating = group(*[t for t in tensors if t is not None] + list(control_inputs or []))
        result = []
        for t in tensors:
            if t is None:
                result.append(None)
            else:
                result.append(with_dependencies([gating], t))
        return result


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor`'s value, produced only after `dependencies` have run."""
    with ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as n:
        with ops.colocate_with(output_tensor), ops.control_dependencies(dependencies):
            if isinstance(output_tensor, ops.IndexedSlices):
                return ops.IndexedSlices(array_ops.identity(output_tensor.values, name=n),
                                         output_tensor.indices, output_tensor.dense_shape)
            return array_ops.identity(output_tensor, name=n)
