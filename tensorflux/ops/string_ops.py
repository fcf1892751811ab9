"""String ops: StringJoin (`tf.string_join`) and StaticRegexFullMatch, which TensorFlow's
sharded Saver graphs use to build checkpoint file names (SavedModels TF writes hold both)."""
import re

import numpy as np

from tensorflux.framework import errors, registry, tensor_shape
from tensorflux.framework.op_def_library import apply_op

__all__ = ["string_join"]


# ---- StringJoin ---------------------------------------------------------------------------
StringJoin = registry.register_op("StringJoin", inputs=["inputs: N * string"],
                                  outputs=["output: string"],
                                  attrs={"N": "int", "separator": registry.Attr("string", "")})
StringJoin.not_differentiable()


@StringJoin.shape
def _string_join_shape(op):
    """Scalars broadcast; every non-scalar input must have the same shape."""
    out = tensor_shape.scalar()
    for t in op.inputs:
        shape = t.get_shape()
        if shape.ndims == 0:
            continue
        out = shape if out.ndims == 0 else out.merge_with(shape)
    return out


@StringJoin.kernel("CPU")
def _string_join_kernel(ctx, *inputs):
    separator = ctx.op.get_attr("separator")
    separator = separator.encode() if isinstance(separator, str) else separator
    arrays = [np.asarray(a, dtype=object) for a in inputs]
    shapes = {a.shape for a in arrays if a.ndim}
    if len(shapes) > 1:
        raise errors.InvalidArgumentError(
            None, None, f"Input shapes do not match: {sorted(shapes)} (StringJoin)")
    shape = shapes.pop() if shapes else ()
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = separator.join(a[index] if a.ndim else a.item() for a in arrays)
    return out


def string_join(inputs, separator="", name=None):
    """Joins the strings of `inputs` elementwise (scalars broadcast) with `separator`."""
    return apply_op("StringJoin", list(inputs), separator=separator, name=name)


# ---- StaticRegexFullMatch ------------------------------------------------------------------
StaticRegexFullMatch = registry.register_op(
    "StaticRegexFullMatch", inputs=["input: string"], outputs=["output: bool"],
    attrs={"pattern": "string"})
StaticRegexFullMatch.not_differentiable()
StaticRegexFullMatch.shape(lambda op: op.inputs[0].get_shape())


@StaticRegexFullMatch.kernel("CPU")
def _static_regex_full_match_kernel(ctx, strings):
    # RE2 and Python agree on the patterns TF's own graphs use ("^s3://.*"); RE2-only syntax
    # fails here as an invalid pattern rather than matching differently.
    pattern = ctx.op.get_attr("pattern")
    try:
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
    except re.error as e:
        raise errors.InvalidArgumentError(None, None, f"Invalid pattern {pattern!r}: {e}")
    strings = np.asarray(strings, dtype=object)
    out = np.zeros(strings.shape, dtype=bool)
    for index in np.ndindex(*strings.shape):
        out[index] = regex.fullmatch(strings[index]) is not None
    return out


def static_regex_full_match(input, pattern, name=None):  # noqa: A002 (TF's argument name)
    """Whether each string matches `pattern` entirely (a graph-time constant pattern)."""
    return apply_op("StaticRegexFullMatch", input, pattern=pattern, name=name)
