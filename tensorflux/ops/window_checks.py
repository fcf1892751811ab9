"""TensorFlow's checks, in its wording, of the window attrs of convolutions and pooling.

The shape functions call `check_attrs` (ValueError at graph build, as TF 0.9's shape
functions did); the kernels call it again through `check_attrs_at_run` (for graphs whose shape
functions did not see the attrs, such as imported ones) with TF's kernel error classes.
"""
from tensorflux.framework import errors

BATCH_DEPTH_STRIDES = ("Current implementation does not yet support strides in the batch and "
                       "depth dimensions.")
POOL_BATCH = "Pooling is not yet supported on the batch dimension."


def problem(op_type, attrs, nhwc, pooling):
    """(error class, TF's message) for the first bad window attr, or None.

    `nhwc` puts a 4-vector in NHWC order (the op's data_format)."""
    return _length_problem(op_type, attrs, pooling) or _value_problem(attrs, nhwc, pooling)


def _length_problem(op_type, attrs, pooling):
    for name in ("ksize", "strides") if pooling else ("strides",):
        n = len(list(attrs[name]))
        if pooling and n < 4:  # the OpDef's minimum length, as TF's op_def_library says it
            return errors.InvalidArgumentError, (
                f"Attr '{name}' of '{op_type}' Op passed list of length {n} less than minimum 4.")
        if n != 4:
            what = "stride" if name == "strides" else name
            return errors.InvalidArgumentError, (
                f"{op_type} on data format {_s(attrs.get('data_format', 'NHWC'))} requires the "
                f"{what} attribute to contain 4 values, but got: {n}")
    return None


def _value_problem(attrs, nhwc, pooling):
    strides = nhwc(attrs["strides"])
    if pooling and (nhwc(attrs["ksize"])[0] != 1 or strides[0] != 1):
        return errors.UnimplementedError, POOL_BATCH
    if not pooling and (strides[0] != 1 or strides[3] != 1):
        return errors.UnimplementedError, BATCH_DEPTH_STRIDES
    for i, k in enumerate(attrs["ksize"] if pooling else ()):
        if k <= 0:
            return errors.InvalidArgumentError, f"Sliding window ksize for dimension {i} was zero."
    for s in strides:
        if s <= 0:
            return errors.InvalidArgumentError, f"Stride must be > 0, but got {s}"
    return None


def check_attrs(op, nhwc, pooling):
    """Build time: TF's ValueError for bad strides/ksize of `op`."""
    names = ("strides", "ksize", "data_format") if pooling else ("strides", "data_format")
    found = problem(op.type, {k: op.get_attr(k) for k in names}, nhwc, pooling)
    if found:
        raise ValueError(found[1])


def check_attrs_at_run(ctx, nhwc, pooling):
    found = problem(ctx.op.type, ctx.attrs, nhwc, pooling)
    if found:
        raise found[0](None, ctx.op, found[1])


def check_static_size(size, k_eff, padding):
    """Build time: a VALID window larger than the input, as TF's shape functions say it."""
    if size is not None and k_eff is not None and _s(padding) == "VALID" and size < k_eff:
        raise ValueError(f"Negative dimension size caused by subtracting {k_eff} from {size}")


def check_run_size(ctx, size, k_eff, stride, padding):
    """Run time: TF's kernel check, (size - k_eff + stride) / stride (C++ division) >= 0."""
    if _s(padding) != "VALID":
        return
    out = int((size - k_eff + stride) / stride)
    if out < 0:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Computed output size would be negative: {out} [input_size: {size}, "
                          f"effective_filter_size: {k_eff}, stride: {stride}]")


def _s(value):
    return value.decode() if isinstance(value, bytes) else value
