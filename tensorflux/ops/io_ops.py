"""Checkpoint I/O ops: SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename, ShardedFilespec.

The kernels read and write TensorFlow's V2 checkpoint format through
tensorflux.lib.io.tensor_bundle. `shape_and_slices` entries are "" for a whole tensor or
"d0 d1 ... start,length:start,length" (with "-" for a whole dimension) for a slice of a tensor
of full shape [d0, d1, ...], as TensorFlow writes them for partitioned variables.
"""
import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib.io import tensor_bundle
from tensorflux.lib.io import tensor_slice_v1

__all__ = [
    "save_v2",
    "restore_v2",
    "merge_v2_checkpoints",
    "sharded_filename",
    "sharded_filespec",
]


def _text(value):
    value = value.item() if isinstance(value, np.ndarray) else value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _texts(array, what, count=None):
    flat = np.asarray(array, dtype=object).reshape(-1)
    if np.ndim(array) != 1 or (count is not None and len(flat) != count):
        raise errors.InvalidArgumentError(
            None, None, f"{what} must be a vector of {count} strings, got shape "
                        f"{list(np.shape(array))}")
    return [_text(v) for v in flat]


_VARIABLE_TYPES = frozenset(("VariableV2", "Variable"))


def snapshot_variables(ctx, tensors, first_input):
    """`tensors` (the op's inputs from index `first_input` on), with each variable buffer
    replaced by a copy taken under the variable's lock: the lock the Assign* and Apply*
    kernels update under, so a save racing training steps writes every variable as some step
    left it, never half-updated. (Different variables may still come from different steps, as
    in TensorFlow.)"""
    out = list(tensors)
    inputs = ctx.op._inputs[first_input:first_input + len(out)]
    for k, tensor in enumerate(inputs):
        op = tensor.op
        if op.type not in _VARIABLE_TYPES or ctx.resources is None:
            continue
        ref = ctx.resources.lookup(op._attrs.get("container"),
                                   op._attrs.get("shared_name") or op.name)
        if ref is not None and ref.value is out[k]:
            with ref.lock:
                out[k] = np.array(out[k], copy=True)
    return out


def _scalar_text(value, what):
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(None, None, f"{what} must be a scalar string, got "
                                                      f"shape {list(np.shape(value))}")
    return _text(value)


def parse_shape_and_slice(spec):
    """("" -> (None, None)) or (full_shape list, TensorSlice) from a shape_and_slices entry."""
    if not spec:
        return None, None
    parts = spec.split(" ")
    try:
        full_shape = [int(d) for d in parts[:-1]]
        tensor_slice = tensor_bundle.TensorSlice.parse_spec(parts[-1])
        tensor_slice.resolved(full_shape)
    except ValueError as e:
        raise errors.InvalidArgumentError(
            None, None, f"Bad shape_and_slice spec {spec!r}: expected 'd0 d1 ... "
                        f"start,length:start,length' (- for a whole dimension): {e}") from None
    return full_shape, tensor_slice


def _vector_of(op, index, what):
    shape = op.inputs[index].get_shape()
    if shape.ndims is not None and shape.ndims != 1:
        raise ValueError(f"{what} must be a vector, got shape {shape}")
    return shape


# ---- SaveV2 -------------------------------------------------------------------------------------
SaveV2 = registry.register_op(
    "SaveV2", inputs=["prefix: string", "tensor_names: string", "shape_and_slices: string",
                      "tensors: dtypes"],
    attrs={"dtypes": "list(type)"}, stateful=True)
SaveV2.not_differentiable()


@SaveV2.shape
def _save_v2_shape(op):
    if op.inputs[0].get_shape().ndims not in (None, 0):
        raise ValueError(f"prefix must be a scalar, got shape {op.inputs[0].get_shape()}")
    _vector_of(op, 1, "tensor_names")
    _vector_of(op, 2, "shape_and_slices")
    return []


@SaveV2.kernel("CPU")
def _save_v2_kernel(ctx, prefix, tensor_names, shape_and_slices, *tensors):
    prefix = _scalar_text(prefix, "prefix")
    names = _texts(tensor_names, "tensor_names", len(tensors))
    specs = _texts(shape_and_slices, "shape_and_slices", len(tensors))
    tensors = snapshot_variables(ctx, tensors, 3)
    writer = tensor_bundle.BundleWriter(prefix)
    try:
        for name, spec, value, dtype in zip(names, specs, tensors, ctx.attrs["dtypes"]):
            full_shape, tensor_slice = parse_shape_and_slice(spec)
            if tensor_slice is None:
                writer.add(name, value, dtype)
            else:
                writer.add_slice(name, full_shape, tensor_slice, value, dtype)
    except BaseException:
        writer.abort()
        raise
    writer.finish()


def save_v2(prefix, tensor_names, shape_and_slices, tensors, name=None):
    """Saves `tensors` under `tensor_names` in the V2 checkpoint `prefix`; returns the op."""
    return apply_op("SaveV2", prefix, tensor_names, shape_and_slices, list(tensors), name=name)


# ---- RestoreV2 ----------------------------------------------------------------------------------
RestoreV2 = registry.register_op(
    "RestoreV2", inputs=["prefix: string", "tensor_names: string", "shape_and_slices: string"],
    outputs=["tensors: dtypes"], attrs={"dtypes": "list(type)"}, stateful=True)
RestoreV2.not_differentiable()


@RestoreV2.shape
def _restore_v2_shape(op):
    _vector_of(op, 1, "tensor_names")
    _vector_of(op, 2, "shape_and_slices")
    return [tensor_shape.unknown_shape() for _ in op.outputs]


def _restore_one(reader, name, spec, dtype):
    if not reader.has_tensor(name):
        raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint "
                                               f"{reader.prefix}")
    stored = reader.dtype(name)
    if stored != dtype:
        raise errors.InvalidArgumentError(
            None, None, f"tensor_name = {name}; expected dtype {dtype.name} does not equal "
                        f"restored dtype {stored.name} (checkpoint {reader.prefix})")
    full_shape, tensor_slice = parse_shape_and_slice(spec)
    if tensor_slice is None:
        return reader.lookup(name)
    if reader.shape(name) != full_shape:
        raise errors.InvalidArgumentError(
            None, None, f"tensor_name = {name}; shape in shape_and_slice spec {full_shape} does "
                        f"not match the shape stored in checkpoint: {reader.shape(name)}")
    return reader.lookup_slice(name, tensor_slice)


@RestoreV2.kernel("CPU")
def _restore_v2_kernel(ctx, prefix, tensor_names, shape_and_slices):
    wanted = ctx.attrs["dtypes"]
    names = _texts(tensor_names, "tensor_names", len(wanted))
    specs = _texts(shape_and_slices, "shape_and_slices", len(wanted))
    prefix = _scalar_text(prefix, "prefix")
    # As TensorFlow's RestoreV2: without a V2 index, a V1 checkpoint (TF 0.9's) is read.
    if tensor_slice_v1.is_v1_checkpoint(prefix):
        reader = tensor_slice_v1.V1Reader(prefix)
    else:
        reader = tensor_bundle.BundleReader(prefix)
    values = tuple(_restore_one(reader, n, s, d) for n, s, d in zip(names, specs, wanted))
    return values[0] if len(values) == 1 else values  # one output is returned bare


def restore_v2(prefix, tensor_names, shape_and_slices, dtypes, name=None):
    """The tensors `tensor_names` (of `dtypes`) read from V2 checkpoint `prefix`, as a list."""
    return apply_op("RestoreV2", prefix, tensor_names, shape_and_slices, dtypes=list(dtypes),
                    name=name)


# ---- MergeV2Checkpoints -------------------------------------------------------------------------
MergeV2Checkpoints = registry.register_op(
    "MergeV2Checkpoints", inputs=["checkpoint_prefixes: string", "destination_prefix: string"],
    attrs={"delete_old_dirs": True, "allow_missing_files": False}, stateful=True)
MergeV2Checkpoints.not_differentiable()
MergeV2Checkpoints.shape(lambda op: [])


@MergeV2Checkpoints.kernel("CPU")
def _merge_kernel(ctx, checkpoint_prefixes, destination_prefix):
    prefixes = _texts(np.reshape(checkpoint_prefixes, -1), "checkpoint_prefixes")
    tensor_bundle.merge_bundles(prefixes, _scalar_text(destination_prefix, "destination_prefix"),
                                ctx.attrs["delete_old_dirs"], ctx.attrs["allow_missing_files"])


def merge_v2_checkpoints(checkpoint_prefixes, destination_prefix, delete_old_dirs=True,
                         allow_missing_files=False, name=None):
    """Merges single-shard checkpoints into one multi-shard checkpoint; returns the op."""
    return apply_op("MergeV2Checkpoints", checkpoint_prefixes, destination_prefix,
                    delete_old_dirs=delete_old_dirs, allow_missing_files=allow_missing_files,
                    name=name)


# ---- file names of shards -----------------------------------------------------------------------
ShardedFilename = registry.register_op(
    "ShardedFilename", inputs=["basename: string", "shard: int32", "num_shards: int32"],
    outputs=["filename: string"])
ShardedFilename.not_differentiable()
ShardedFilename.shape(lambda op: tensor_shape.scalar())


@ShardedFilename.kernel("CPU")
def _sharded_filename_kernel(ctx, basename, shard, num_shards):
    name = f"{_scalar_text(basename, 'basename')}-{int(shard):05d}-of-{int(num_shards):05d}"
    return np.array(name.encode("utf-8"), dtype=object)


def sharded_filename(basename, shard, num_shards, name=None):
    """`basename-0000s-of-0000n`."""
    return apply_op("ShardedFilename", basename, shard, num_shards, name=name)


ShardedFilespec = registry.register_op(
    "ShardedFilespec", inputs=["basename: string", "num_shards: int32"],
    outputs=["filename: string"])
ShardedFilespec.not_differentiable()
ShardedFilespec.shape(lambda op: tensor_shape.scalar())


@ShardedFilespec.kernel("CPU")
def _sharded_filespec_kernel(ctx, basename, num_shards):
    name = f"{_scalar_text(basename, 'basename')}-?????-of-{int(num_shards):05d}"
    return np.array(name.encode("utf-8"), dtype=object)


def sharded_filespec(basename, num_shards, name=None):
    """`basename-?????-of-0000n`, a glob matching every shard."""
    return apply_op("ShardedFilespec", basename, num_shards, name=name)

