"""tf.contrib.training's ps strategy: the ps task with the least load so far.

    setter = tf.train.replica_device_setter(
        ps_tasks=3, ps_strategy=tf.contrib.training.GreedyLoadBalancingStrategy(
            3, tf.contrib.training.byte_size_load_fn))

Greedy is not optimal (variables are placed in creation order, one at a time), but it keeps a
few large embedding tables from landing on the same ps the way round-robin may.
"""
import numpy as np

from tensorflux.framework import tensor_shape

__all__ = ["GreedyLoadBalancingStrategy", "byte_size_load_fn"]


class GreedyLoadBalancingStrategy:
    """A ps strategy: each op goes to the task with the smallest load, then adds its load.

    Args:
      num_tasks: number of ps tasks.
      load_fn: callable(op) -> a number, the load the op puts on its task (e.g.
        byte_size_load_fn). Ties go to the lowest task index.
    """

    def __init__(self, num_tasks, load_fn):
        self._num_tasks = num_tasks
        self._load_fn = load_fn
        self._ps_loads = np.zeros(num_tasks)

    def __call__(self, op):
        task = int(np.argmin(self._ps_loads))
        self._ps_loads[task] += self._load_fn(op)
        return task


def byte_size_load_fn(op):
    """The size in bytes of the single output of `op` (a variable op: the variable's bytes).

    ValueError if the op has not exactly one output or its shape is not fully defined.
    """
    if len(op.outputs) != 1:
        raise ValueError(f"Op {op.name!r} ({op.type}) must have a single output, it has "
                         f"{len(op.outputs)}")
    output = op.outputs[0]
    shape = output.get_shape()
    if not shape.is_fully_defined() and "shape" in op._attrs:
        # a variable op carries its declared shape as an attr
        shape = shape.merge_with(tensor_shape.as_shape(op.get_attr("shape")))
    if not shape.is_fully_defined():
        raise ValueError(f"Op {op.name!r} ({op.type}) has output shape {shape}, which is not "
                         "fully defined: its size in bytes is unknown")
    return int(np.prod(shape.as_list(), dtype=np.int64)) * output.dtype.base_dtype.size
