"""Queues as stateful ops: FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue and their verbs.

A queue op (FIFOQueueV2, ...) outputs a resource handle: a 0-d object array holding the
queue (tensorflux/ops/queues.py), created on first run in the session's ResourceMgr under
its shared_name (or, unshared, under the op's name). Enqueue and dequeue ops are
asynchronous kernels: one that cannot finish at once leaves a waiter on the queue and holds
no thread; the step's cancellation (timeout, Session.close, an error elsewhere) withdraws it.

    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    enqueue = q.enqueue([x, label]); xs, labels = q.dequeue_many(4)
"""
import numpy as np

from tensorflux.framework import dtypes as dtypes_lib
from tensorflux.framework import errors, ops, random_seed, registry, tensor_shape, tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import queues

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "QueueBase", "RandomShuffleQueue"]

_QUEUE_ATTRS = {"component_types": registry.Attr("list(type)"),
                "shapes": registry.Attr("list(shape)", []), "capacity": -1,
                "container": "", "shared_name": ""}
_QUEUE_OPS = ("FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2")


# ---- handles ----------------------------------------------------------------------------------
def resource_handle(resource):
    """A 0-d object array carrying `resource` (how tensorflux represents a resource handle)."""
    handle = np.empty((), dtype=object)
    handle[()] = resource
    return handle


def lookup_resource(ctx, create, kind):
    """The session's resource for this op (by container/shared_name), created on first use.

    Returns (resource, handle), cached in ctx.state (made once however many steps race).
    """
    state = ctx.state
    if state is None:
        state = ctx.init_state(lambda: _find_or_create(ctx, create, kind))
    return state


def _find_or_create(ctx, create, kind):
    attrs = ctx.attrs
    shared = attrs.get("shared_name") or ""
    display = shared or ctx.op.name
    key = shared or f"_op:{ctx.op.name}"
    candidate = create(display)
    resource = ctx.resources.lookup_or_create(attrs.get("container") or "", key,
                                              lambda: candidate)
    if resource is not candidate and resource.signature() != candidate.signature():
        raise errors.InvalidArgumentError(
            None, None, f"Shared {kind} '{shared}' was created as {resource.signature()}; this op "
                        f"requests {candidate.signature()}")
    return resource, resource_handle(resource)


def _queue_of(handle):
    queue = handle[()] if isinstance(handle, np.ndarray) else handle
    if not isinstance(queue, queues.Queue):
        raise errors.InvalidArgumentError(
            None, None, f"Expected a queue handle, got {type(queue).__name__}")
    return queue


def _queue_shapes(handle_tensor):
    """The component shapes of the queue op that produced `handle_tensor` (None if unknown)."""
    op = handle_tensor.op
    if op.type not in _QUEUE_OPS:
        return None
    shapes = op.get_attr("shapes")
    n = len(op.get_attr("component_types"))
    return [tensor_shape.as_shape(s) for s in shapes] if shapes else [None] * n


# ---- queue ops ------------------------------------------------------------------------------
def _register_queue(name, extra_attrs, create):
    op_def = registry.register_op(name, outputs=["handle: resource"],
                                  attrs=dict(_QUEUE_ATTRS, **extra_attrs), stateful=True)
    op_def.not_differentiable()
    op_def.shape(lambda op: tensor_shape.scalar())

    @op_def.kernel("CPU")
    def _queue_kernel(ctx):
        return lookup_resource(ctx, lambda display: create(ctx, display), "queue")[1]
    return op_def


def _attrs_of(ctx):
    attrs = ctx.attrs
    shapes = [tensor_shape.as_shape(s) for s in attrs["shapes"]]
    return attrs["component_types"], shapes, attrs["capacity"]


FIFOQueueV2 = _register_queue(
    "FIFOQueueV2", {}, lambda ctx, display: queues.Queue(display, *_attrs_of(ctx)))
PaddingFIFOQueueV2 = _register_queue(
    "PaddingFIFOQueueV2", {},
    lambda ctx, display: queues.PaddingFIFOQueue(display, *_attrs_of(ctx)))
RandomShuffleQueueV2 = _register_queue(
    "RandomShuffleQueueV2", {"min_after_dequeue": 0, "seed": 0, "seed2": 0},
    lambda ctx, display: queues.RandomShuffleQueue(
        display, *_attrs_of(ctx), ctx.attrs["min_after_dequeue"], ctx.rng))


# ---- asynchronous verbs ---------------------------------------------------------------------
def run_async(call, queue, start, convert):
    """Starts a queue operation that finishes `call` through `convert(value)`.

    `start(callback)` returns the queue's Waiter when the operation has to wait; the step's
    cancellation then withdraws it and fails the call with the step's error.
    """
    def finished(error, value):
        if error is not None:
            call.fail(error)
            return
        try:
            outputs = convert(value)
        except Exception as e:  # noqa: BLE001 - reported against the op
            call.fail(e)
            return
        call.done(outputs)

    waiter = start(finished)
    if waiter is not None:
        def cancelled(error):
            if queue.cancel(waiter, error):
                call.fail(error)
        call.on_cancel(cancelled)


def _outputs(arrays):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _enqueue_verb(name, batched):
    op_def = registry.register_op(
        name, inputs=["handle: resource", "components: Tcomponents"],
        attrs={"Tcomponents": registry.Attr("list(type)"), "timeout_ms": -1}, stateful=True)
    op_def.not_differentiable()
    op_def.shape(lambda op: [])

    @op_def.kernel("CPU", is_async=True)
    def _enqueue_kernel(ctx, call, handle, *components):
        try:
            queue = _queue_of(handle)
            elements = queues.check_components(queue, components, batched)
        except errors.OpError as e:
            call.fail(e)
            return
        run_async(call, queue, lambda cb: queue.enqueue(elements, cb), lambda _: ())
    return op_def


QueueEnqueueV2 = _enqueue_verb("QueueEnqueueV2", batched=False)
QueueEnqueueManyV2 = _enqueue_verb("QueueEnqueueManyV2", batched=True)

QueueDequeueV2 = registry.register_op(
    "QueueDequeueV2", inputs=["handle: resource"], outputs=["components: component_types"],
    attrs={"component_types": registry.Attr("list(type)"), "timeout_ms": -1}, stateful=True)
QueueDequeueV2.not_differentiable()


@QueueDequeueV2.shape
def _dequeue_shape(op):
    shapes = _queue_shapes(op.inputs[0]) or [None] * len(op.outputs)
    return [s if s is not None else tensor_shape.unknown_shape() for s in shapes]


@QueueDequeueV2.kernel("CPU", is_async=True)
def _dequeue_kernel(ctx, call, handle):
    try:
        queue = _queue_of(handle)
    except errors.OpError as e:
        call.fail(e)
        return
    run_async(call, queue, lambda cb: queue.dequeue(1, cb),
              lambda elements: _outputs(elements[0]))


def _dequeue_many_verb(name, allow_small):
    op_def = registry.register_op(
        name, inputs=["handle: resource", "n: int32"], outputs=["components: component_types"],
        attrs={"component_types": registry.Attr("list(type)"), "timeout_ms": -1}, stateful=True)
    op_def.not_differentiable()

    @op_def.shape
    def _dequeue_many_shape(op):
        n = None if allow_small else tensor_util.constant_value(op.inputs[1])
        batch = tensor_shape.TensorShape([None if n is None else int(n)])
        shapes = _queue_shapes(op.inputs[0]) or [None] * len(op.outputs)
        return [batch.concatenate(s) if s is not None else tensor_shape.unknown_shape()
                for s in shapes]

    @op_def.kernel("CPU", is_async=True)
    def _dequeue_many_kernel(ctx, call, handle, n):
        try:
            queue = _queue_of(handle)
            n = int(n)
            if n < 0:
                raise errors.InvalidArgumentError(
                    None, None, f"{name} requires n >= 0, got n = {n}")
        except errors.OpError as e:
            call.fail(e)
            return
        run_async(call, queue, lambda cb: queue.dequeue(n, cb, allow_small=allow_small),
                  lambda elements: _outputs(queues.batch_components(queue, elements)))
    return op_def


QueueDequeueManyV2 = _dequeue_many_verb("QueueDequeueManyV2", allow_small=False)
QueueDequeueUpToV2 = _dequeue_many_verb("QueueDequeueUpToV2", allow_small=True)

# ---- synchronous verbs ----------------------------------------------------------------------
QueueCloseV2 = registry.register_op("QueueCloseV2", inputs=["handle: resource"],
                                    attrs={"cancel_pending_enqueues": False}, stateful=True)
QueueCloseV2.not_differentiable()
QueueCloseV2.shape(lambda op: [])


@QueueCloseV2.kernel("CPU")
def _close_kernel(ctx, handle):
    _queue_of(handle).close(ctx.attrs["cancel_pending_enqueues"])


QueueSizeV2 = registry.register_op("QueueSizeV2", inputs=["handle: resource"],
                                   outputs=["size: int32"], stateful=True)
QueueSizeV2.not_differentiable()
QueueSizeV2.shape(lambda op: tensor_shape.scalar())


@QueueSizeV2.kernel("CPU")
def _size_kernel(ctx, handle):
    return np.int32(_queue_of(handle).size())


QueueIsClosedV2 = registry.register_op("QueueIsClosedV2", inputs=["handle: resource"],
                                       outputs=["is_closed: bool"], stateful=True)
QueueIsClosedV2.not_differentiable()
QueueIsClosedV2.shape(lambda op: tensor_shape.scalar())


@QueueIsClosedV2.kernel("CPU")
def _is_closed_kernel(ctx, handle):
    return np.bool_(_queue_of(handle).closed)


# ---- Python classes -------------------------------------------------------------------------
def _as_type_list(dtypes):
    if isinstance(dtypes, (list, tuple)):
        return [dtypes_lib.as_dtype(d) for d in dtypes]
    return [dtypes_lib.as_dtype(dtypes)]


def _as_shape_list(shapes, dtypes, unknown_dim_allowed=False):
    """TF's reading of `shapes`: None, one shape (for one component), or one per component."""
    if shapes is None:
        return None
    if isinstance(shapes, tensor_shape.TensorShape) or not isinstance(shapes, (list, tuple)) \
            or not shapes or all(s is None or isinstance(s, int) for s in shapes):
        shapes = [shapes]
    shapes = [tensor_shape.as_shape(s) for s in shapes]
    if len(shapes) != len(dtypes):
        raise ValueError(f"shapes must have one entry per component: {len(dtypes)} dtypes, "
                         f"got {len(shapes)} shapes {shapes}")
    for s in shapes:
        if not unknown_dim_allowed and not s.is_fully_defined():
            raise ValueError(f"All shapes must be fully defined, got {s} in {shapes}")
        if s.ndims is None:
            raise ValueError(f"Every queue shape needs a known rank, got {s} in {shapes}")
    return shapes


def _as_name_list(names, dtypes):
    if names is None:
        return None
    names = list(names) if isinstance(names, (list, tuple)) else [names]
    if len(names) != len(dtypes):
        raise ValueError(f"names must have one entry per component: {len(dtypes)} dtypes, got "
                         f"{len(names)} names {names}")
    return names


class QueueBase:
    """Base class of the queues: enqueue/dequeue tuples of tensors (`tf.QueueBase`)."""

    def __init__(self, dtypes, shapes, names, queue_ref):
        self._dtypes = list(dtypes)
        self._shapes = list(shapes) if shapes else [tensor_shape.unknown_shape()
                                                   for _ in self._dtypes]
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index, queues):
        """The queue `queues[index]`, chosen when the graph runs (`index` may be a tensor).

        The queues must share dtypes and names; shapes are kept where all agree.
        """
        if not queues or not all(isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        first = queues[0]
        for i, q in enumerate(queues[1:], 1):
            if q.dtypes != first.dtypes:
                raise TypeError(f"Queue at index {i} has different component types: "
                                f"{[d.name for d in q.dtypes]} vs. "
                                f"{[d.name for d in first.dtypes]}")
            if q.names != first.names:
                raise TypeError(f"Queue at index {i} has different names: {q.names} vs. "
                                f"{first.names}")
        same_shapes = all(_same_shapes(q.shapes, first.shapes) for q in queues)
        shapes = first.shapes if same_shapes else None
        # Queue handles are resource tensors: stack them and pick one at run time.
        from tensorflux.ops import array_ops, indexing_ops
        refs = array_ops.stack([q.queue_ref for q in queues])
        selected = indexing_ops.gather(refs, index)
        return QueueBase(first.dtypes, shapes, first.names, selected)

    queue_ref = property(lambda self: self._queue_ref, doc="The queue's resource handle.")
    name = property(lambda self: self._queue_ref.op.name, doc="The queue op's name.")
    dtypes = property(lambda self: self._dtypes, doc="The component dtypes.")
    shapes = property(lambda self: self._shapes, doc="The component shapes.")
    names = property(lambda self: self._names, doc="The component names (or None).")

    def _check_enqueue_dtypes(self, vals):
        if self._names is not None:
            if not isinstance(vals, dict):
                raise TypeError(f"Queue with names {self._names} requires a dict to enqueue, got "
                                f"{type(vals).__name__}")
            if set(vals) != set(self._names):
                raise ValueError(f"Keys in dictionary to enqueue {sorted(vals)} do not match the "
                                 f"names of the queue {sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        elif isinstance(vals, dict):
            raise TypeError("Queue without names requires a list or tuple to enqueue, got a dict")
        elif not isinstance(vals, (list, tuple)):
            vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError(f"The queue has {len(self._dtypes)} components "
                             f"({[d.name for d in self._dtypes]}); got {len(vals)} values")
        return [ops.convert_to_tensor(v, dtype=d, name=f"component_{i}")
                for i, (v, d) in enumerate(zip(vals, self._dtypes))]

    def _scope(self, name, default, values=()):
        return ops.name_scope(name, f"{self._name}_{default}", [self._queue_ref] + list(values))

    def enqueue(self, vals, name=None):
        """An op enqueuing one element (a tensor, a list of tensors, or a dict by name)."""
        with self._scope(name, "enqueue") as scope:
            vals = self._check_enqueue_dtypes(vals)
            for i, (v, s) in enumerate(zip(vals, self._shapes)):
                _assert_compatible(v.get_shape(), s, i)
            return apply_op("QueueEnqueueV2", self._queue_ref, vals, name=scope)

    def enqueue_many(self, vals, name=None):
        """An op enqueuing the elements that make up dimension 0 of each component."""
        with self._scope(name, "EnqueueMany") as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch = tensor_shape.Dimension(None)
            for i, (v, s) in enumerate(zip(vals, self._shapes)):
                shape = v.get_shape().with_rank_at_least(1)
                batch = batch.merge_with(shape[0])
                _assert_compatible(shape[1:], s, i)
            return apply_op("QueueEnqueueManyV2", self._queue_ref, vals, name=scope)

    def _dequeue_return_value(self, tensors):
        tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
        if self._names is not None:
            return dict(zip(self._names, tensors))
        return tensors[0] if len(tensors) == 1 else tensors

    def _dequeue(self, op_type, name, default, n=None, batch_dim=None):
        with self._scope(name, default) as scope:
            args = (self._queue_ref,) if n is None else (self._queue_ref, n)
            tensors = apply_op(op_type, *args, component_types=self._dtypes, name=scope)
            tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
            for t, s in zip(tensors, self._shapes):
                t.set_shape(s if n is None else tensor_shape.TensorShape([batch_dim])
                            .concatenate(s))
            return self._dequeue_return_value(tensors)

    def dequeue(self, name=None):
        """Dequeues one element (blocks until one is there; OutOfRangeError once closed)."""
        return self._dequeue("QueueDequeueV2", name, "Dequeue")

    def dequeue_many(self, n, name=None):
        """Dequeues `n` elements, concatenated along a new dimension 0."""
        n_value = tensor_util.constant_value(n) if isinstance(n, ops.Tensor) else n
        batch = None if n_value is None else int(n_value)
        return self._dequeue("QueueDequeueManyV2", name, "DequeueMany", n, batch)

    def dequeue_up_to(self, n, name=None):
        """Like dequeue_many, but returns fewer (at least one) once the queue is closed."""
        return self._dequeue("QueueDequeueUpToV2", name, "DequeueUpTo", n, None)

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op closing the queue; pending enqueues are cancelled if asked."""
        if name is None:
            name = f"{self._name}_Close"
        return apply_op("QueueCloseV2", self._queue_ref,
                        cancel_pending_enqueues=cancel_pending_enqueues, name=name)

    def size(self, name=None):
        """An int32 scalar: the number of elements in the queue."""
        if name is None:
            name = f"{self._name}_Size"
        return apply_op("QueueSizeV2", self._queue_ref, name=name)

    def is_closed(self, name=None):
        """A bool scalar: whether the queue is closed."""
        if name is None:
            name = f"{self._name}_IsClosed"
        return apply_op("QueueIsClosedV2", self._queue_ref, name=name)


def _assert_compatible(got, want, index):
    if not got.is_compatible_with(want):
        raise ValueError(f"Shape mismatch in tuple component {index}: the queue has shape "
                         f"{want}, the value has shape {got}")


def _queue_op(op_type, dtypes, shapes, capacity, shared_name, name, **attrs):
    return apply_op(op_type, component_types=dtypes, shapes=shapes or [], capacity=capacity,
                    shared_name=shared_name or "", name=name, **attrs)


class FIFOQueue(QueueBase):
    """A queue that dequeues elements in first-in first-out order (`tf.FIFOQueue`)."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,
                 name="fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        ref = _queue_op("FIFOQueueV2", dtypes, shapes, capacity, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose shapes may have None dimensions; dequeue_many zero-pads the batch."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,
                 name="padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        if shapes is None:
            raise ValueError("PaddingFIFOQueue requires shapes (None for unknown dimensions)")
        names = _as_name_list(names, dtypes)
        ref = _queue_op("PaddingFIFOQueueV2", dtypes, shapes, capacity, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """A queue dequeuing elements in random order, keeping `min_after_dequeue` for mixing."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None,
                 shared_name=None, name="random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = random_seed.get_seed(seed)
        ref = _queue_op("RandomShuffleQueueV2", dtypes, shapes, capacity, shared_name, name,
                        min_after_dequeue=min_after_dequeue, seed=seed1 or 0, seed2=seed2 or 0)
        super().__init__(dtypes, shapes, names, ref)


def _same_shapes(a, b):
    return len(a) == len(b) and all(x.as_list() == y.as_list() if x.ndims is not None
                                    else y.ndims is None for x, y in zip(a, b))
