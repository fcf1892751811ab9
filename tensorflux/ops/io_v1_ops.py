"""TF 0.9's checkpoint ops, on the V1 format (tensorflux.lib.io.tensor_slice_v1):
Save, SaveSlices (write one V1 file), Restore, RestoreSlice (read one tensor from a V1 file or
from the shards a `-?????-of-N` pattern names).

A 0.9 Saver's graph is built from them; `Saver(write_version=V1)` builds them again. Entries
of `shapes_and_slices` are those of SaveV2 ("" or "d0 d1 start,length:-").
"""
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib.io import tensor_slice_v1
from tensorflux.ops import io_ops

__all__ = ["save", "save_slices", "restore", "restore_slice"]


def _write(filename, names, specs, tensors, dtypes):
    writer = tensor_slice_v1.V1Writer(io_ops._scalar_text(filename, "filename"))
    for name, spec, value, dtype in zip(names, specs, tensors, dtypes):
        full_shape, tensor_slice = io_ops.parse_shape_and_slice(spec)
        if tensor_slice is None:
            writer.add(name, value, dtype)
        else:
            writer.add_slice(name, full_shape, tensor_slice, value, dtype)
    writer.finish()


def _no_outputs_vectors(*vector_inputs):
    def shape(op):
        for index, what in vector_inputs:
            io_ops._vector_of(op, index, what)
        return []
    return shape


# ---- Save / SaveSlices ------------------------------------------------------------------------
Save = registry.register_op("Save", inputs=["filename: string", "tensor_names: string",
                                            "data: T"],
                            attrs={"T": "list(type)"}, stateful=True)
Save.not_differentiable()
Save.shape(_no_outputs_vectors((1, "tensor_names")))


@Save.kernel("CPU")
def _save_kernel(ctx, filename, tensor_names, *tensors):
    names = io_ops._texts(tensor_names, "tensor_names", len(tensors))
    tensors = io_ops.snapshot_variables(ctx, tensors, 2)
    _write(filename, names, [""] * len(names), tensors, ctx.attrs["T"])


SaveSlices = registry.register_op(
    "SaveSlices", inputs=["filename: string", "tensor_names: string",
                          "shapes_and_slices: string", "data: T"],
    attrs={"T": "list(type)"}, stateful=True)
SaveSlices.not_differentiable()
SaveSlices.shape(_no_outputs_vectors((1, "tensor_names"), (2, "shapes_and_slices")))


@SaveSlices.kernel("CPU")
def _save_slices_kernel(ctx, filename, tensor_names, shapes_and_slices, *tensors):
    names = io_ops._texts(tensor_names, "tensor_names", len(tensors))
    specs = io_ops._texts(shapes_and_slices, "shapes_and_slices", len(tensors))
    tensors = io_ops.snapshot_variables(ctx, tensors, 3)
    _write(filename, names, specs, tensors, ctx.attrs["T"])


def save(filename, tensor_names, tensors, name=None):
    """Writes `tensors` whole under `tensor_names` into the V1 file `filename`; the op."""
    return apply_op("Save", filename, tensor_names, list(tensors), name=name)


def save_slices(filename, tensor_names, shapes_and_slices, tensors, name=None):
    """Writes `tensors` (whole, or slices of bigger tensors) into the V1 file `filename`."""
    return apply_op("SaveSlices", filename, tensor_names, shapes_and_slices, list(tensors),
                    name=name)


# ---- Restore / RestoreSlice -------------------------------------------------------------------
def _read(ctx, file_pattern, tensor_name, spec):
    reader = tensor_slice_v1.V1Reader(io_ops._scalar_text(file_pattern, "file_pattern"))
    name = io_ops._scalar_text(tensor_name, "tensor_name")
    return io_ops._restore_one(reader, name, spec, ctx.attrs["dt"])


def _restored_shape(op):
    return [tensor_shape.unknown_shape()]


Restore = registry.register_op("Restore", inputs=["file_pattern: string", "tensor_name: string"],
                               outputs=["tensor: dt"], attrs={"dt": "type", "preferred_shard": -1},
                               stateful=True)
Restore.not_differentiable()
Restore.shape(_restored_shape)


@Restore.kernel("CPU")
def _restore_kernel(ctx, file_pattern, tensor_name):
    return _read(ctx, file_pattern, tensor_name, "")


RestoreSlice = registry.register_op(
    "RestoreSlice", inputs=["file_pattern: string", "tensor_name: string",
                            "shape_and_slice: string"],
    outputs=["tensor: dt"], attrs={"dt": "type", "preferred_shard": -1}, stateful=True)
RestoreSlice.not_differentiable()
RestoreSlice.shape(_restored_shape)


@RestoreSlice.kernel("CPU")
def _restore_slice_kernel(ctx, file_pattern, tensor_name, shape_and_slice):
    return _read(ctx, file_pattern, tensor_name,
                 io_ops._scalar_text(shape_and_slice, "shape_and_slice"))


def restore(file_pattern, tensor_name, dt, preferred_shard=-1, name=None):
    """Tensor `tensor_name` (of type `dt`) read from the V1 checkpoint `file_pattern`."""
    return apply_op("Restore", file_pattern, tensor_name, dt=dt,
                    preferred_shard=preferred_shard, name=name)


def restore_slice(file_pattern, tensor_name, shape_and_slice, dt, preferred_shard=-1,
                  name=None):
    """The slice `shape_and_slice` of tensor `tensor_name` from V1 checkpoint `file_pattern`."""
    return apply_op("RestoreSlice", file_pattern, tensor_name, shape_and_slice, dt=dt,
                    preferred_shard=preferred_shard, name=name)
