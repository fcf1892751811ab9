"""The Optimizer base class: compute_gradients, apply_gradients, minimize, slots.

Subclasses fill in TensorFlow's template methods: _create_slots, _prepare, _apply_dense,
_apply_sparse (and optionally _finish).
"""
from tensorflux.autodiff import gradients as gradients_lib
from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.ops import array_ops
from tensorflux.ops import control_flow_ops
from tensorflux.ops import math_ops
from tensorflux.ops import state_ops
from tensorflux.ops import variables


class Optimizer:
    """Base class for optimizers (`tf.train.Optimizer`)."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}

    def get_name(self):
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """compute_gradients then apply_gradients; ValueError if no variable gets a gradient."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(f"No gradients provided for any variable, check your graph for ops "
                             f"that do not support gradients, between variables "
                             f"{[v.name for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """A list of (gradient, variable) pairs for the trainable variables (or var_list)."""
        if gate_gradients not in (self.GATE_NONE, self.GATE_OP, self.GATE_GRAPH):
            raise ValueError(f"gate_gradients must be one of: Optimizer.GATE_NONE, "
                             f"Optimizer.GATE_OP, Optimizer.GATE_GRAPH. Not {gate_gradients}")
        loss = ops.convert_to_tensor(loss)
        if not loss.dtype.base_dtype.is_floating:
            raise ValueError(f"Invalid type {loss.dtype.name} for {loss.name}, expected: "
                             "float16, float32, float64.")
        if var_list is None:
            var_list = variables.trainable_variables() + ops.get_collection(
                ops.GraphKeys.TRAINABLE_RESOURCE_VARIABLES
                if hasattr(ops.GraphKeys, "TRAINABLE_RESOURCE_VARIABLES") else "_none")
        # a PartitionedVariable stands for its shards: each gets its own gradient and update
        var_list = [shard for v in var_list for shard in (
            v._get_variable_list() if hasattr(v, "_get_variable_list") else [v])]
        if not var_list:
            raise ValueError("No variables to optimize.")
        refs = [v._ref() if isinstance(v, variables.Variable) else v for v in var_list]
        grads = gradients_lib.gradients(
            loss, refs, grad_ys=grad_loss, gate_gradients=(gate_gradients == self.GATE_OP),
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == self.GATE_GRAPH:
            grads = control_flow_ops.tuple(grads)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """An op applying the gradients; increments `global_step` after if given."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        for g, v in grads_and_vars:
            if g is not None and not isinstance(g, (ops.Tensor, ops.IndexedSlices)):
                raise TypeError(f"Gradient must be a Tensor, IndexedSlices, or None: {g}")
        var_list = [v for g, v in grads_and_vars if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[str(v) for _, v in grads_and_vars]}.")
        with ops.control_dependencies(None):
            self._create_slots(var_list)
        update_ops = []
        with ops.name_scope(name, self._name) as scope_name:
            self._prepare()
            for grad, var in grads_and_vars:
                if grad is None:
                    continue
                with ops.name_scope("update_" + var.op.name), ops.colocate_with(var):
                    if isinstance(grad, ops.Tensor):
                        update_ops.append(self._apply_dense(grad, var))
                    else:
                        update_ops.append(self._apply_sparse_duplicate_indices(grad, var))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope_name)
            else:
                with ops.control_dependencies([self._finish(update_ops, "update")]):
                    with ops.colocate_with(global_step):
                        apply_updates = state_ops.assign_add(global_step, 1,
                                                             name=scope_name).op
        train_ops = ops.get_collection_ref(ops.GraphKeys.TRAIN_OP)
        if apply_updates not in train_ops:
            train_ops.append(apply_updates)
        return apply_updates

    # ---- template methods ----------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _apply_sparse(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} does not support sparse gradients")

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Sums the rows of repeated indices (TensorFlow 1.x), then calls _apply_sparse."""
        return self._apply_sparse(_deduplicate_indexed_slices(grad), var)

    def _finish(self, update_ops, name_scope):
        return control_flow_ops.group(*update_ops, name=name_scope)

    # ---- slots ---------------------------------------------------------------------------
    def get_slot(self, var, name):
        return self._slots.get(name, {}).get(var)

    def get_slot_names(self):
        return sorted(self._slots)

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _zeros_slot(self, var, slot_name, op_name):
        """A variable of zeros shaped like `var`, named `<var>/<op_name>`, created once."""
        slots = self._slot_dict(slot_name)
        if var not in slots:
            slots[var] = _create_slot(var, array_ops.zeros(var.get_shape(),
                                                           dtype=var.dtype.base_dtype), op_name)
        return slots[var]

    def _get_or_make_slot(self, var, val, slot_name, op_name):
        slots = self._slot_dict(slot_name)
        if var not in slots:
            slots[var] = _create_slot(var, val, op_name)
        return slots[var]

    def _call_if_callable(self, param):
        return param() if callable(param) else param


def _deduplicate_indexed_slices(grad):
    """IndexedSlices with unique indices, the values of repeated indices summed.

    Left as is when the graph ops it needs (Unique, UnsortedSegmentSum) are not available.
    """
    unique = getattr(array_ops, "unique", None)
    segment_sum = getattr(math_ops, "unsorted_segment_sum", None)
    if unique is None or segment_sum is None:
        return grad
    unique_indices, new_positions = unique(grad.indices)
    summed = segment_sum(grad.values, new_positions, array_ops.shape(unique_indices)[0])
    return ops.IndexedSlices(summed, unique_indices, grad.dense_shape)


def _create_slot(primary, initial_value, name):
    """A non-trainable variable colocated with `primary`, named `primary/name`.

    The name depends only on the primary's, not on the name scope the optimizer runs in.
    """
    with ops.name_scope(None), ops.colocate_with(primary.op if hasattr(primary, "op")
                                                 else primary):
        slot = variables.Variable(initial_value, trainable=False,
                                  name=primary.op.name + "/" + name,
                                  dtype=dtypes.as_dtype(primary.dtype).base_dtype)
    info = getattr(primary, "_save_slice_info", None)
    if info is not None:
        # A shard's slot is the same shard of the slot of the whole variable (`emb/Adagrad`),
        # so slots too are saved as slices and restore into another partitioning.
        slot._set_save_slice_info(variables.Variable.SaveSliceInfo(
            f"{info.full_name}/{name}", info.full_shape, info.var_offset, info.var_shape))
    return slot
