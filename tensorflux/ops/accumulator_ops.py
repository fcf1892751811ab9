"""Conditional accumulators as stateful ops: gradients in, their average out once enough came.

A ConditionalAccumulator op outputs TensorFlow's `Ref(string)` handle (so its GraphDefs import
into TensorFlow): a VariableRef whose value is a 0-d object array holding the
accumulator of tensorflux/ops/accumulators.py, created on first run in the session's
ResourceMgr under its shared_name. AccumulatorApplyGradient adds a gradient unless it is stale
(its local_step is older than the accumulator's global step); AccumulatorTakeGradient is an
asynchronous kernel: it waits, holding no thread, until `num_required` gradients are there,
then returns their average, resets the accumulator and advances its global step. The step's
cancellation (RunOptions deadline, Session.close) withdraws a waiting take.

    acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
    apply = acc.apply_grad(grad, local_step=step); average = acc.take_grad(num_replicas)
"""
import numpy as np

from tensorflux.framework import dtypes as dtypes_lib
from tensorflux.framework import errors, ops, registry, tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.framework.variable_ref import VariableRef
from tensorflux.ops import accumulators, math_ops
from tensorflux.ops.common import NUMBERS
from tensorflux.ops.data_flow_ops import lookup_resource, run_async

__all__ = ["ConditionalAccumulator", "ConditionalAccumulatorBase",
           "SparseConditionalAccumulator"]

_ACCUMULATOR_ATTRS = {"dtype": NUMBERS, "shape": registry.Attr("shape"), "container": "",
                      "shared_name": "", "reduction_type": registry.Attr(
                          "string", "MEAN", allowed=accumulators.REDUCTION_TYPES)}
_ACCUMULATOR_OPS = ("ConditionalAccumulator", "SparseConditionalAccumulator")


# ---- accumulator ops --------------------------------------------------------------------------
def _register_accumulator(name, cls):
    op_def = registry.register_op(name, outputs=["handle: Ref(string)"],
                                  attrs=dict(_ACCUMULATOR_ATTRS), stateful=True)
    op_def.not_differentiable()
    op_def.shape(lambda op: tensor_shape.scalar())

    @op_def.kernel("CPU")
    def _accumulator_kernel(ctx):
        attrs = ctx.attrs

        def create(display):
            return cls(display, attrs["dtype"], attrs["shape"], _text(attrs["reduction_type"]))
        return _handle_ref(ctx.op.name, lookup_resource(ctx, create, "accumulator")[1])
    return op_def


def _handle_ref(name, handle):
    """The handle as a reference: consumers declare `Ref(string)` inputs, and a fetch reads it."""
    ref = VariableRef(name)
    ref.value = handle
    return ref


def _unwrap(handle):
    if isinstance(handle, VariableRef):
        handle = handle.get()
    return handle[()] if isinstance(handle, np.ndarray) else handle


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


ConditionalAccumulatorOp = _register_accumulator("ConditionalAccumulator",
                                                 accumulators.ConditionalAccumulator)
SparseConditionalAccumulatorOp = _register_accumulator(
    "SparseConditionalAccumulator", accumulators.SparseConditionalAccumulator)


def _accumulator_of(handle, sparse, dtype=None):
    """The accumulator behind `handle`; InvalidArgumentError for another resource or dtype."""
    acc = _unwrap(handle)
    cls = accumulators.SparseConditionalAccumulator if sparse else \
        accumulators.ConditionalAccumulator
    if type(acc) is not cls:
        raise errors.InvalidArgumentError(
            None, None, f"Expected a {cls.kind} handle, got {type(acc).__name__}")
    if dtype is not None and dtype != acc.dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Accumulator '{acc.name}' holds gradients of type {acc.dtype.name}, "
                        f"got {dtype.name}")
    return acc


def _declared_shape(handle_tensor):
    """The `shape` attr of the accumulator op behind `handle_tensor` (unknown if not visible)."""
    op = handle_tensor.op
    if op.type not in _ACCUMULATOR_OPS:
        return tensor_shape.unknown_shape()
    return op.get_attr("shape")


def cancel_pending_takes(session, accumulator, error):
    """Fails the takes waiting on `accumulator` (a ConditionalAccumulatorBase) in `session`.

    For a caller that must end a take no more gradients will come for (the SyncReplicas
    hook's end) while the session stays open. The resource is found under the key
    data_flow_ops.lookup_resource files it under; nothing happens if it was never created.
    """
    resources = getattr(session, "resources", None)
    op = accumulator.accumulator_ref.op
    shared = op.get_attr("shared_name")
    shared = shared.decode() if isinstance(shared, bytes) else shared
    container = op.get_attr("container")
    container = container.decode() if isinstance(container, bytes) else container
    acc = None if resources is None else resources.lookup(container or "",
                                                          shared or f"_op:{op.name}")
    if isinstance(acc, accumulators.ConditionalAccumulator):
        acc.cancel_takers(error)
        return
    cancel_steps = getattr(session, "cancel_running_steps", None)
    if cancel_steps is not None:  # the accumulator lives on another task: end the steps
        cancel_steps(error)


# ---- verbs shared by both kinds -------------------------------------------------------------
AccumulatorNumAccumulated = registry.register_op(
    "AccumulatorNumAccumulated", inputs=["handle: Ref(string)"],
    outputs=["num_accumulated: int32"],
    stateful=True)
AccumulatorNumAccumulated.not_differentiable()
AccumulatorNumAccumulated.shape(lambda op: tensor_shape.scalar())


@AccumulatorNumAccumulated.kernel("CPU")
def _num_accumulated_kernel(ctx, handle):
    return np.int32(_any_accumulator(handle).num_accumulated())


AccumulatorSetGlobalStep = registry.register_op(
    "AccumulatorSetGlobalStep", inputs=["handle: Ref(string)", "new_global_step: int64"],
    stateful=True)
AccumulatorSetGlobalStep.not_differentiable()
AccumulatorSetGlobalStep.shape(lambda op: [])


@AccumulatorSetGlobalStep.kernel("CPU")
def _set_global_step_kernel(ctx, handle, new_global_step):
    _any_accumulator(handle).set_global_step(int(new_global_step))


def _any_accumulator(handle):
    acc = _unwrap(handle)
    if not isinstance(acc, accumulators.ConditionalAccumulator):
        raise errors.InvalidArgumentError(
            None, None, f"Expected an accumulator handle, got {type(acc).__name__}")
    return acc


def _take_async(call, acc, num_required, convert):
    """Starts a take on `acc` that finishes `call` with `convert(value)`."""
    def start(callback):
        return acc.take(int(num_required), callback)
    try:
        run_async(call, acc, start, convert)
    except errors.OpError as e:  # num_required < 1
        call.fail(e)


# ---- dense verbs ------------------------------------------------------------------------------
AccumulatorApplyGradient = registry.register_op(
    "AccumulatorApplyGradient",
    inputs=["handle: Ref(string)", "local_step: int64", "gradient: dtype"],
    attrs={"dtype": NUMBERS}, stateful=True)
AccumulatorApplyGradient.not_differentiable()
AccumulatorApplyGradient.shape(lambda op: [])


@AccumulatorApplyGradient.kernel("CPU")
def _apply_gradient_kernel(ctx, handle, local_step, gradient):
    _accumulator_of(handle, False, ctx.attrs["dtype"]).apply(int(local_step), gradient)


AccumulatorTakeGradient = registry.register_op(
    "AccumulatorTakeGradient", inputs=["handle: Ref(string)", "num_required: int32"],
    outputs=["average: dtype"], attrs={"dtype": NUMBERS}, stateful=True)
AccumulatorTakeGradient.not_differentiable()
AccumulatorTakeGradient.shape(lambda op: _declared_shape(op.inputs[0]))


@AccumulatorTakeGradient.kernel("CPU", is_async=True)
def _take_gradient_kernel(ctx, call, handle, num_required):
    try:
        acc = _accumulator_of(handle, False, ctx.attrs["dtype"])
    except errors.OpError as e:
        call.fail(e)
        return
    _take_async(call, acc, num_required, lambda value: value)


# ---- sparse verbs -----------------------------------------------------------------------------
SparseAccumulatorApplyGradient = registry.register_op(
    "SparseAccumulatorApplyGradient",
    inputs=["handle: Ref(string)", "local_step: int64", "gradient_indices: int64",
            "gradient_values: dtype", "gradient_shape: int64"],
    attrs={"dtype": NUMBERS, "has_known_shape": registry.Attr("bool")}, stateful=True)
SparseAccumulatorApplyGradient.not_differentiable()
SparseAccumulatorApplyGradient.shape(lambda op: [])


@SparseAccumulatorApplyGradient.kernel("CPU")
def _sparse_apply_kernel(ctx, handle, local_step, indices, values, shape):
    acc = _accumulator_of(handle, True, ctx.attrs["dtype"])
    acc.apply(int(local_step), indices, values,
              shape if ctx.attrs["has_known_shape"] else None)


SparseAccumulatorTakeGradient = registry.register_op(
    "SparseAccumulatorTakeGradient", inputs=["handle: Ref(string)", "num_required: int32"],
    outputs=["indices: int64", "values: dtype", "shape: int64"], attrs={"dtype": NUMBERS},
    stateful=True)
SparseAccumulatorTakeGradient.not_differentiable()


@SparseAccumulatorTakeGradient.shape
def _sparse_take_shape(op):
    declared = _declared_shape(op.inputs[0])
    if not declared.ndims:  # unknown, or TF's shape=() that says nothing
        return [tensor_shape.vector(None), tensor_shape.unknown_shape(),
                tensor_shape.vector(None)]
    values = tensor_shape.TensorShape([None]).concatenate(declared[1:])
    return [tensor_shape.vector(None), values, tensor_shape.vector(declared.ndims)]


@SparseAccumulatorTakeGradient.kernel("CPU", is_async=True)
def _sparse_take_kernel(ctx, call, handle, num_required):
    try:
        acc = _accumulator_of(handle, True, ctx.attrs["dtype"])
    except errors.OpError as e:
        call.fail(e)
        return
    _take_async(call, acc, num_required, tuple)


# ---- Python classes ---------------------------------------------------------------------------
class ConditionalAccumulatorBase:
    """What the dense and sparse accumulators share (`tf.ConditionalAccumulatorBase`)."""

    def __init__(self, dtype, shape, accumulator_ref):
        self._dtype = dtypes_lib.as_dtype(dtype)
        self._shape = tensor_shape.as_shape(shape)
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name.split("/")[-1]

    accumulator_ref = property(lambda self: self._accumulator_ref,
                               doc="The accumulator's handle (a string_ref, as TF's).")
    name = property(lambda self: self._accumulator_ref.op.name, doc="The accumulator op's name.")
    dtype = property(lambda self: self._dtype, doc="The dtype of the gradients.")

    def num_accumulated(self, name=None):
        """An int32 scalar: how many gradients have been accumulated since the last take."""
        if name is None:
            name = f"{self._name}_NumAccumulated"
        return apply_op("AccumulatorNumAccumulated", self._accumulator_ref, name=name)

    def set_global_step(self, new_global_step, name=None):
        """An op setting the accumulator's global step (gradients older than it are dropped)."""
        step = ops.convert_to_tensor(new_global_step, name="new_global_step")
        return apply_op("AccumulatorSetGlobalStep", self._accumulator_ref,
                        _to_int64(step), name=name)


def _to_int64(tensor):
    tensor = ops.convert_to_tensor(tensor)
    return tensor if tensor.dtype.base_dtype == dtypes_lib.int64 else \
        math_ops.cast(tensor, dtypes_lib.int64)


def _accumulator_op(op_type, dtype, shape, shared_name, name, reduction_type):
    return apply_op(op_type, dtype=dtype, shape=shape, shared_name=shared_name or "",
                    reduction_type=reduction_type, name=name)


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """Averages dense gradients, dropping stale ones (`tf.ConditionalAccumulator`).

    Args:
      dtype: the gradients' dtype.
      shape: the gradients' shape (None: any, fixed by the first gradient of each round).
      shared_name: share one accumulator among the ops (and sessions' graphs) using the name.
      name: the op's name.
      reduction_type: "MEAN" (default) or "SUM".
    """

    def __init__(self, dtype, shape=None, shared_name=None, name="conditional_accumulator",
                 reduction_type="MEAN"):
        dtype = dtypes_lib.as_dtype(dtype)
        shape = tensor_shape.as_shape(shape)
        ref = _accumulator_op("ConditionalAccumulator", dtype, shape, shared_name, name,
                              reduction_type)
        super().__init__(dtype, shape, ref)

    def apply_grad(self, grad, local_step=0, name=None):
        """An op adding `grad`, computed at `local_step`; dropped there if stale.

        Raises:
          ValueError: if grad's shape is incompatible with the accumulator's.
        """
        grad = ops.convert_to_tensor(grad, dtype=self._dtype)
        grad.get_shape().assert_is_compatible_with(self._shape)
        return apply_op("AccumulatorApplyGradient", self._accumulator_ref,
                        _to_int64(local_step), grad, name=name)

    def take_grad(self, num_required, name=None):
        """The average of `num_required` gradients, once there (blocks until then).

        Raises (when run): InvalidArgumentError if num_required < 1.
        """
        out = apply_op("AccumulatorTakeGradient", self._accumulator_ref, num_required,
                       dtype=self._dtype, name=name)
        out.set_shape(self._shape)
        return out


class SparseConditionalAccumulator(ConditionalAccumulatorBase):
    """Averages sparse gradients (IndexedSlices) per index (`tf.SparseConditionalAccumulator`).

    Each row of the average is the sum of that row over the gradients that had it, divided
    by how many did (MEAN), or the plain sum (SUM).
    """

    def __init__(self, dtype, shape=None, shared_name=None,
                 name="sparse_conditional_accumulator", reduction_type="MEAN"):
        dtype = dtypes_lib.as_dtype(dtype)
        shape = tensor_shape.as_shape(shape)
        ref = _accumulator_op("SparseConditionalAccumulator", dtype, shape, shared_name, name,
                              reduction_type)
        super().__init__(dtype, shape, ref)

    def apply_indexed_slices_grad(self, grad, local_step=0, name=None):
        """An op adding the IndexedSlices `grad`, computed at `local_step`."""
        return self.apply_grad(grad.indices, grad.values, grad.dense_shape,
                               local_step=local_step, name=name)

    def apply_grad(self, grad_indices, grad_values, grad_shape=None, local_step=0, name=None):
        """An op adding a sparse gradient given as indices, values and (optional) dense shape."""
        values = ops.convert_to_tensor(grad_values, dtype=self._dtype)
        if self._shape.ndims:
            values.get_shape().assert_is_compatible_with(
                tensor_shape.TensorShape([None]).concatenate(self._shape[1:]))
        has_known_shape = grad_shape is not None
        shape = _to_int64(grad_shape) if has_known_shape else \
            ops.convert_to_tensor([], dtype=dtypes_lib.int64)
        return apply_op("SparseAccumulatorApplyGradient", self._accumulator_ref,
                        _to_int64(local_step), _to_int64(grad_indices), values, shape,
                        has_known_shape=has_known_shape, name=name)

    def take_grad(self, num_required, name=None):
        """(indices, values, shape) of the per-index average of `num_required` gradients."""
        return apply_op("SparseAccumulatorTakeGradient", self._accumulator_ref, num_required,
                        dtype=self._dtype, name=name)

    def take_indexed_slices_grad(self, num_required, name=None):
        """The per-index average of `num_required` gradients as IndexedSlices."""
        indices, values, shape = self.take_grad(num_required, name=name)
        return ops.IndexedSlices(values, indices, shape)
