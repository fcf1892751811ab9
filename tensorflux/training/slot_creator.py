"""TF's slot_creator: the variables an optimizer or moving average keeps beside a primary one.

Slots are made by Optimizer._create_slot (so optimizers and 2016 code that calls these agree on
names, colocation and partitioned-variable slices); this module gives TF's two entry points.
"""
from tensorflux.framework import dtypes
from tensorflux.ops import array_ops
from tensorflux.training.optimizer import _create_slot

__all__ = ["create_slot", "create_zeros_slot"]


def create_slot(primary, val, name, colocate_with_primary=True):
    """A non-trainable variable `primary/name` initialized to `val`, colocated with `primary`.

    `colocate_with_primary` is accepted for TF's signature; slots are always colocated here
    (TF's default; with False TF 0.9 left placement to the device functions).
    """
    del colocate_with_primary
    return _create_slot(primary, val, name)


def create_zeros_slot(primary, name, dtype=None, colocate_with_primary=True):
    """A slot of zeros with the primary's shape and `dtype` (default: the primary's)."""
    dtype = dtypes.as_dtype(dtype or primary.dtype).base_dtype
    shape = primary.get_shape()
    if shape.is_fully_defined():
        zeros = array_ops.zeros(shape.as_list(), dtype=dtype)
    else:
        zeros = array_ops.zeros(array_ops.shape(primary.initialized_value()), dtype=dtype)
    return create_slot(primary, zeros, name, colocate_with_primary)
