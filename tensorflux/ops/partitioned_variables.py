"""Partitioned variables: one logical variable stored as shards along one axis.

`tf.get_variable(name, shape, partitioner=p)` asks the partitioner how many shards each axis
gets (one axis at most may have more than one) and makes the shards `name/part_0`,
`name/part_1`, ... as ordinary Variables, the first `shape[axis] % n` shards one row longer
(TensorFlow's split). Each shard carries a SaveSliceInfo, so the Saver writes it as a slice of
the full variable `name` and a checkpoint restores into any other split. Placement is left to
device functions: under `replica_device_setter` the shards land on different ps tasks, and
`embedding_lookup` gathers from each shard where it lives.
"""
import collections.abc
import math

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import tensor_shape
from tensorflux.ops import array_ops

__all__ = [
    "PartitionedVariable",
    "create_partitioned_variables",
    "fixed_size_partitioner",
    "variable_axis_size_partitioner",
    "min_max_variable_partitioner",
]


class _PartitionInfo:
    """What an initializer learns about the shard it fills: the full shape and its offset."""

    def __init__(self, full_shape, var_offset):
        if len(full_shape) != len(var_offset):
            raise ValueError(f"Expected equal length, but `var_offset` is of length "
                             f"{len(var_offset)} while full_shape is of length "
                             f"{len(full_shape)}.")
        self.full_shape = list(full_shape)
        self.var_offset = list(var_offset)

    def single_slice_dim(self, shape):
        """The one axis along which `shape` is smaller than the full shape (None if none)."""
        dims = [i for i, (n, full) in enumerate(zip(shape, self.full_shape)) if n != full]
        if len(dims) > 1:
            raise ValueError(f"Cannot use single_slice_dim() with shape: {list(shape)} and "
                             f"full_shape: {self.full_shape} since slice dim could be either "
                             f"dimension {dims[0]} or {dims[1]}.")
        return dims[0] if dims else None

    def single_offset(self, shape):
        """The shard's offset along its slice axis (0 for an unsplit variable)."""
        dim = self.single_slice_dim(shape)
        return 0 if dim is None else self.var_offset[dim]


# ---- partitioners: fn(shape=TensorShape, dtype=DType) -> shards per axis -------------------------
def fixed_size_partitioner(num_shards, axis=0):
    """`num_shards` shards along `axis` (fewer when the axis is shorter)."""
    def _partitioner(shape, **unused_args):
        partitions = [1] * shape.ndims
        partitions[axis] = min(num_shards, shape[axis].value)
        return partitions
    return _partitioner


def _element_bytes(dtype, bytes_per_string_element):
    dtype = dtypes.as_dtype(dtype).base_dtype
    return bytes_per_string_element if dtype == dtypes.string else dtype.size


def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16,
                                   max_shards=None):
    """As many shards along `axis` as keep each under `max_shard_bytes` (whole rows per shard,
    at least one; at most `max_shards`)."""
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive.")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def _partitioner(shape, dtype):
        if not isinstance(shape, tensor_shape.TensorShape):
            raise ValueError(f"shape is not a TensorShape: {shape}")
        if not shape.is_fully_defined():
            raise ValueError(f"shape is not fully defined: {shape}")
        if not isinstance(dtype, dtypes.DType):
            raise ValueError(f"dtype is not a DType: {dtype}")
        element_size = _element_bytes(dtype, bytes_per_string_element)
        rows = shape[axis].value
        bytes_per_row = shape.num_elements() / rows * element_size if rows else element_size
        rows_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_row))
        shards = int(math.ceil(rows / rows_per_shard))
        if max_shards:
            shards = min(max_shards, shards)
        partitions = [1] * shape.ndims
        partitions[axis] = shards
        return partitions
    return _partitioner


def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10,
                                 bytes_per_string_element=16):
    """Shards of at least `min_slice_size` bytes each, at most `max_partitions` of them."""
    def _partitioner(shape, dtype):
        if axis >= shape.ndims:
            raise ValueError(f"Can not partition variable along axis {axis} when shape is only "
                             f"{shape}")
        total = shape.num_elements() * _element_bytes(dtype, bytes_per_string_element)
        partitions = [1] * shape.ndims
        partitions[axis] = max(1, min(shape[axis].value, max_partitions,
                                      int(math.ceil(total / min_slice_size))))
        return partitions
    return _partitioner


# ---- how a shape splits -------------------------------------------------------------------------
def check_partitions(name, shape, partitions):
    """The one split axis of `partitions` (0 when nothing is split); ValueError when invalid."""
    if not isinstance(partitions, collections.abc.Sequence):
        raise ValueError(f"Partitioner must return a sequence, but saw: {partitions}")
    if len(partitions) != shape.ndims:
        raise ValueError(f"Partitioner returned a partition list that does not match the "
                         f"Variable's rank: {list(partitions)} vs. {shape} (variable {name})")
    if any(p < 1 for p in partitions):
        raise ValueError(f"Partitioner returned zero partitions for some axes: "
                         f"{list(partitions)} (variable {name})")
    split = [i for i, p in enumerate(partitions) if p > 1]
    if len(split) > 1:
        raise ValueError(f"Can only slice a variable along one dimension: shape: {shape}, "
                         f"partitioning: {list(partitions)} (variable {name})")
    axis = split[0] if split else 0
    if partitions[axis] > shape[axis].value:
        raise ValueError(f"Cannot create {partitions[axis]} slices for size "
                         f"{shape[axis].value}. shape: {shape}, slicing: {list(partitions)}")
    return axis


def slices(full_shape, num_slices, axis):
    """[(offset, shape)] of each shard: the first `size % num_slices` one row longer."""
    size = full_shape[axis]
    base, longer = divmod(size, num_slices)
    offset, out = [0] * len(full_shape), []
    for i in range(num_slices):
        shape = list(full_shape)
        shape[axis] = base + (1 if i < longer else 0)
        out.append((list(offset), shape))
        offset[axis] += shape[axis]
    return out


def slice_initial_value(value, offset, shape):
    """The part [offset, offset + shape) of a full initial value (a tensor or array-like)."""
    if isinstance(value, ops.Tensor):
        return array_ops.slice(value, offset, shape)
    index = tuple(slice(o, o + n) for o, n in zip(offset, shape))
    return np.asarray(value)[index]


# ---- PartitionedVariable ------------------------------------------------------------------------
class PartitionedVariable:
    """A variable split into shards along one axis (what get_variable with a partitioner returns).

    Iterating gives the shards in order; converting to a tensor concatenates them.
    """

    def __init__(self, name, shape, dtype, variable_list, partitions):
        if not isinstance(variable_list, (list, tuple)) or not variable_list:
            raise ValueError(f"variable_list must be a non-empty list of Variables, got "
                             f"{variable_list!r:.80}")
        if not isinstance(partitions, (list, tuple)):
            raise TypeError(f"partitions is not a list: {partitions!r}")
        if int(np.prod(partitions)) != len(variable_list):
            raise ValueError(f"Partition shape ({list(partitions)}) must match the number of "
                             f"variables {len(variable_list)}")
        if any(getattr(v, "_save_slice_info", None) is None for v in variable_list):
            raise ValueError(f"All variables must have a save_slice_info available: "
                             f"{[v.name for v in variable_list]}")
        self._variable_list = sorted(variable_list, key=lambda v: v._save_slice_info.var_offset)
        self._name = name
        self._shape = tensor_shape.as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._partitions = list(partitions)

    name = property(lambda self: self._name)
    dtype = property(lambda self: self._dtype)
    shape = property(lambda self: self._shape)
    graph = property(lambda self: self._variable_list[0].graph)

    def get_shape(self):
        return self._shape

    def __iter__(self):
        return iter(self._variable_list)

    def _partition_axes(self):
        axes = [i for i, p in enumerate(self._partitions) if p > 1]
        return axes or [0]

    def __len__(self):
        if len(self._partition_axes()) > 1:
            raise ValueError(f"Cannot get a length of {len(self._partition_axes())} > 1 "
                             f"partitioned variable: {self._name}")
        return len(self._variable_list)

    def _get_variable_list(self):
        return self._variable_list

    def _get_partitions(self):
        return self._partitions

    def _concat(self):
        """The shards concatenated into one tensor (`name/concat`)."""
        if len(self._variable_list) == 1:
            with ops.name_scope(None):
                return array_ops.identity(self._variable_list[0], name=self._name)
        with ops.name_scope(self._name + "/ConcatPartitions/"):
            whole = array_ops.concat(list(self._variable_list), self._partition_axes()[0])
        with ops.name_scope(None):
            return array_ops.identity(whole, name=self._name + "/concat")

    def as_tensor(self):
        """The full value as a new tensor (outside any control-dependency scope).

        Not cached, as in TensorFlow: a conversion inside a cond or while_loop must not be
        reused outside it."""
        with ops.control_dependencies(None):
            return self._concat()

    def assign(self, value, use_locking=False):
        """An op assigning the matching part of `value` (full shape) to every shard."""
        value = ops.convert_to_tensor(value, dtype=self._dtype)
        updates = []
        for v in self._variable_list:
            info = v._save_slice_info
            part = array_ops.slice(value, info.var_offset, info.var_shape)
            updates.append(v.assign(part, use_locking=use_locking))
        from tensorflux.ops import control_flow_ops
        return control_flow_ops.group(*updates)

    def __repr__(self):
        return (f"<PartitionedVariable '{self._name}' shape={self._shape} dtype="
                f"{self._dtype.name} partitions={self._partitions}>")


def _partitioned_to_tensor(v, dtype=None, name=None, as_ref=False):
    if as_ref:
        raise NotImplementedError("PartitionedVariable doesn't support being used as a "
                                  f"reference ({v.name}).")
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(v.dtype):
        raise ValueError(f"Incompatible type conversion requested to type "
                         f"{dtypes.as_dtype(dtype).name} for variable of type {v.dtype.name} "
                         f"({v.name})")
    return v.as_tensor()


ops.register_tensor_conversion_function(PartitionedVariable, _partitioned_to_tensor, 0)


def create_partitioned_variables(shape, slicing, initializer, dtype=dtypes.float32,
                                 trainable=True, collections=None, name=None, reuse=None):
    """The shards (a list of Variables) of a variable of `shape` split as `slicing` says.

    `initializer` is an initializer function (called with each shard's shape) or the full
    initial value (a tensor or array), which is sliced. The shards are named
    `<name>/part_<i>` under the current variable scope (`name` defaults to
    "PartitionedVariable", made unique).
    """
    from tensorflux.ops import variable_scope
    if len(shape) != len(slicing):
        raise ValueError(f"The 'shape' and 'slicing' of a partitioned Variable must have the "
                         f"length: shape: {list(shape)}, slicing: {list(slicing)}")
    if len(shape) < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1: shape: "
                         f"{list(shape)}")
    slicing = list(slicing)
    with variable_scope.variable_scope(name, "PartitionedVariable", reuse=reuse):
        partitioned = variable_scope._get_partitioned_variable(
            None, shape=shape, dtype=dtype, initializer=initializer, trainable=trainable,
            partitioner=lambda **unused: slicing, collections=collections)
    return list(partitioned)
