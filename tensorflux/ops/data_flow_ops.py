"""Queues as stateful ops: FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue and their verbs.

Every queue op and verb is registered twice with one kernel: TF 0.9/1.0's V1 op (FIFOQueue,
QueueEnqueue, ...) whose handle is a `Ref(string)`, and TF >= 1.2's V2 op (FIFOQueueV2,
QueueEnqueueV2, ...) whose handle is a resource. Both find the same queue
(tensorflux/ops/queues.py), created on first run in the session's ResourceMgr under its
shared_name (or, unshared, a name made from the op's): a V2 handle is a 0-d object array
holding the queue, a V1 handle TF's string vector [container, name] in a reference, which
the verbs look up in the ResourceMgr. The Python classes build the V1 ops, as TF 0.9 did.
Enqueue and dequeue ops are asynchronous kernels: one that cannot finish at once leaves a
waiter on the queue and holds no thread; the step's cancellation (timeout, Session.close, an
error elsewhere) withdraws it.

    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    enqueue = q.enqueue([x, label]); xs, labels = q.dequeue_many(4)
"""
import numpy as np

from tensorflux.framework import dtypes as dtypes_lib
from tensorflux.framework import errors, ops, random_seed, registry, tensor_shape, tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.framework.variable_ref import VariableRef
from tensorflux.ops import queues

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]

_QUEUE_ATTRS = {"component_types": registry.Attr("list(type)"),
                "shapes": registry.Attr("list(shape)", []), "capacity": -1,
                "container": "", "shared_name": ""}
_QUEUE_OPS = ("FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue",
              "FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2")
# (op type suffix, handle type): TF 0.9's reference handles, TF >= 1.2's resource handles.
HANDLE_VERSIONS = (("", "Ref(string)"), ("V2", "resource"))
# The container TF names in a handle when the op's `container` attr is empty.
DEFAULT_CONTAINER = "localhost"


# ---- handles ----------------------------------------------------------------------------------
def resource_handle(resource):
    """A 0-d object array carrying `resource` (how tensorflux represents a resource handle)."""
    handle = np.empty((), dtype=object)
    handle[()] = resource
    return handle


def string_handle(container, name):
    """TF's V1 handle value: the string vector [container, name]."""
    return np.array([(container or DEFAULT_CONTAINER).encode(), name.encode()], dtype=object)


def ref_handle(name, value):
    """`value` as a reference: V1 consumers declare `Ref(string)` inputs, a fetch reads it."""
    ref = VariableRef(name)
    ref.value = value
    return ref


def _container_key(container):
    """The ResourceMgr container: TF's default container 'localhost' is the empty one."""
    return "" if container in ("", DEFAULT_CONTAINER) else container


def lookup_resource(ctx, create, kind, as_ref=False):
    """The session's resource for this op (by container/shared_name), created on first use.

    Returns (resource, handle), cached in ctx.state (made once however many steps race); the
    handle is a resource handle, or with `as_ref` TF's V1 string handle in a reference.
    """
    state = ctx.state
    if state is None:
        state = ctx.init_state(lambda: _find_or_create(ctx, create, kind, as_ref))
    return state


def _find_or_create(ctx, create, kind, as_ref):
    attrs = ctx.attrs
    shared = _text(attrs.get("shared_name") or "")
    container = _container_key(_text(attrs.get("container") or ""))
    display = shared or ctx.op.name
    key = shared or f"_op:{ctx.op.name}"
    candidate = create(display)
    resource = ctx.resources.lookup_or_create(container, key, lambda: candidate)
    if resource is not candidate and resource.signature() != candidate.signature():
        raise errors.InvalidArgumentError(
            None, None, f"Shared {kind} '{shared}' was created as {resource.signature()}; this op "
                        f"requests {candidate.signature()}")
    if as_ref:
        return resource, ref_handle(ctx.op.name, string_handle(container, key))
    return resource, resource_handle(resource)


def resource_of(ctx, handle, kind="resource"):
    """The resource behind `handle`: a resource handle, or a V1 string handle (possibly in a
    reference) looked up in the session's ResourceMgr (NotFoundError if absent)."""
    if isinstance(handle, VariableRef):
        handle = handle.get()
    if isinstance(handle, np.ndarray) and handle.shape == (2,) and handle.dtype == object:
        container, name = (_text(v) for v in handle)
        found = ctx.resources.lookup(_container_key(container), name)
        if found is None:
            raise errors.NotFoundError(
                None, None, f"Resource {container}/{name}/{kind} does not exist.")
        return found
    return handle[()] if isinstance(handle, np.ndarray) else handle


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def queue_of(ctx, handle):
    """The queue behind a V1 or V2 queue handle."""
    queue = resource_of(ctx, handle, "queue")
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
def handle_shape_fn(handle_type):
    """TF's shape of a handle: a V1 handle is the vector [container, name], a resource a
    scalar."""
    shape = tensor_shape.scalar() if handle_type == "resource" else tensor_shape.vector(2)
    return lambda op: shape


def resource_kernel(create, kind, as_ref):
    """The kernel of an op making a `kind` resource with `create(ctx, display_name)`; its
    output is TF's V1 handle in a reference if `as_ref`, else a resource handle."""
    def kernel(ctx):
        return lookup_resource(ctx, lambda display: create(ctx, display), kind, as_ref)[1]
    return kernel


def _register_queue(name, extra_attrs, create):
    """Registers queue op `name` in both handle versions; returns the V2 op's definition."""
    for suffix, handle_type in HANDLE_VERSIONS:
        op_def = registry.register_op(name + suffix, outputs=[f"handle: {handle_type}"],
                                      attrs=dict(_QUEUE_ATTRS, **extra_attrs), stateful=True)
        op_def.not_differentiable()
        op_def.shape(handle_shape_fn(handle_type))
        op_def.kernel("CPU")(resource_kernel(create, "queue", as_ref=not suffix))
    return op_def


def _attrs_of(ctx):
    attrs = ctx.attrs
    shapes = [tensor_shape.as_shape(s) for s in attrs["shapes"]]
    return attrs["component_types"], shapes, attrs["capacity"]


FIFOQueueV2 = _register_queue(
    "FIFOQueue", {}, lambda ctx, display: queues.Queue(display, *_attrs_of(ctx)))
PaddingFIFOQueueV2 = _register_queue(
    "PaddingFIFOQueue", {},
    lambda ctx, display: queues.PaddingFIFOQueue(display, *_attrs_of(ctx)))
RandomShuffleQueueV2 = _register_queue(
    "RandomShuffleQueue", {"min_after_dequeue": 0, "seed": 0, "seed2": 0},
    lambda ctx, display: queues.RandomShuffleQueue(
        display, *_attrs_of(ctx), ctx.attrs["min_after_dequeue"], ctx.rng))



def _priority_queue(ctx, display):
    """A PriorityQueue's components are an int64 priority scalar, then the op's components."""
    types, shapes, capacity = _attrs_of(ctx)
    shapes = [tensor_shape.scalar()] + shapes if shapes else None
    return queues.PriorityQueue(display, [dtypes_lib.int64] + list(types), shapes, capacity)


PriorityQueueV2 = _register_queue(
    "PriorityQueue", {"component_types": registry.Attr("list(type)", []),
                      "shapes": registry.Attr("list(shape)")}, _priority_queue)

FakeQueue = registry.register_op("FakeQueue", inputs=["resource: resource"],
                                 outputs=["handle: Ref(string)"], stateful=True)
FakeQueue.not_differentiable()
FakeQueue.shape(lambda op: tensor_shape.vector(2))


@FakeQueue.kernel("CPU")
def _fake_queue_kernel(ctx, resource):
    """A V2 queue's V1 handle (TF made it for V1 readers): the queue's name in the manager."""
    queue = queue_of(ctx, resource)
    key = ctx.resources.key_of(queue)
    if key is None:
        raise errors.NotFoundError(None, None, f"{queue.kind} '{queue.name}' is not in this "
                                               "session's resource manager")
    return ref_handle(ctx.op.name, string_handle(*key))


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


def _register_verb(name, inputs, outputs=(), attrs=None, shape=None, kernel=None,
                   is_async=False):
    """Registers verb `name` (V1) and `name`V2 with one kernel and shape function; the first
    input is the queue handle. Returns the V2 op's definition."""
    for suffix, handle_type in HANDLE_VERSIONS:
        op_def = registry.register_op(name + suffix, inputs=[f"handle: {handle_type}"] + inputs,
                                      outputs=list(outputs), attrs=dict(attrs or {}),
                                      stateful=True)
        op_def.not_differentiable()
        op_def.shape(shape)
        op_def.kernel("CPU", is_async=is_async)(kernel)
    return op_def


def _enqueue_verb(name, batched):
    def _enqueue_kernel(ctx, call, handle, *components):
        try:
            queue = queue_of(ctx, handle)
            elements = queues.check_components(queue, components, batched)
        except errors.OpError as e:
            call.fail(e)
            return
        run_async(call, queue, lambda cb: queue.enqueue(elements, cb), lambda _: ())
    return _register_verb(name, ["components: Tcomponents"],
                          attrs={"Tcomponents": registry.Attr("list(type)"), "timeout_ms": -1},
                          shape=lambda op: [], kernel=_enqueue_kernel, is_async=True)


QueueEnqueueV2 = _enqueue_verb("QueueEnqueue", batched=False)
QueueEnqueueManyV2 = _enqueue_verb("QueueEnqueueMany", batched=True)


def _dequeue_shape(op):
    shapes = _queue_shapes(op.inputs[0]) or [None] * len(op.outputs)
    return [s if s is not None else tensor_shape.unknown_shape() for s in shapes]


def _dequeue_kernel(ctx, call, handle):
    try:
        queue = queue_of(ctx, handle)
    except errors.OpError as e:
        call.fail(e)
        return
    run_async(call, queue, lambda cb: queue.dequeue(1, cb),
              lambda elements: _outputs(elements[0]))


_DEQUEUE_ATTRS = {"component_types": registry.Attr("list(type)"), "timeout_ms": -1}
QueueDequeueV2 = _register_verb("QueueDequeue", [], ["components: component_types"],
                                _DEQUEUE_ATTRS, _dequeue_shape, _dequeue_kernel, is_async=True)


def _dequeue_many_verb(name, allow_small):
    def _dequeue_many_shape(op):
        n = None if allow_small else tensor_util.constant_value(op.inputs[1])
        batch = tensor_shape.TensorShape([None if n is None else int(n)])
        shapes = _queue_shapes(op.inputs[0]) or [None] * len(op.outputs)
        return [batch.concatenate(s) if s is not None else tensor_shape.unknown_shape()
                for s in shapes]

    def _dequeue_many_kernel(ctx, call, handle, n):
        try:
            queue = queue_of(ctx, handle)
            n = int(n)
            if n < 0:
                raise errors.InvalidArgumentError(
                    None, None, f"{ctx.op.type} requires n >= 0, got n = {n}")
        except errors.OpError as e:
            call.fail(e)
            return
        run_async(call, queue, lambda cb: queue.dequeue(n, cb, allow_small=allow_small),
                  lambda elements: _outputs(queues.batch_components(queue, elements)))
    return _register_verb(name, ["n: int32"], ["components: component_types"], _DEQUEUE_ATTRS,
                          _dequeue_many_shape, _dequeue_many_kernel, is_async=True)


QueueDequeueManyV2 = _dequeue_many_verb("QueueDequeueMany", allow_small=False)
QueueDequeueUpToV2 = _dequeue_many_verb("QueueDequeueUpTo", allow_small=True)


# ---- synchronous verbs ----------------------------------------------------------------------
def _close_kernel(ctx, handle):
    queue_of(ctx, handle).close(ctx.attrs["cancel_pending_enqueues"])


QueueCloseV2 = _register_verb("QueueClose", [], attrs={"cancel_pending_enqueues": False},
                              shape=lambda op: [], kernel=_close_kernel)
QueueSizeV2 = _register_verb(
    "QueueSize", [], ["size: int32"], shape=lambda op: tensor_shape.scalar(),
    kernel=lambda ctx, handle: np.int32(queue_of(ctx, handle).size()))
QueueIsClosedV2 = _register_verb(
    "QueueIsClosed", [], ["is_closed: bool"], shape=lambda op: tensor_shape.scalar(),
    kernel=lambda ctx, handle: np.bool_(queue_of(ctx, handle).closed))


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
        return QueueBase(first.dtypes, shapes, first.names,
                         _select_handle(index, [q.queue_ref for q in queues]))

    queue_ref = property(lambda self: self._queue_ref,
                         doc="The queue's handle (a string_ref; a resource for V2 queues).")
    name = property(lambda self: self._queue_ref.op.name, doc="The queue op's name.")
    dtypes = property(lambda self: self._dtypes, doc="The component dtypes.")
    shapes = property(lambda self: self._shapes, doc="The component shapes.")
    names = property(lambda self: self._names, doc="The component names (or None).")

    def _verb(self, op_type):
        """`op_type` for this queue's handle: V1 for a reference, V2 for a resource."""
        return op_type + ("V2" if self._queue_ref.dtype == dtypes_lib.resource else "")

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
            return apply_op(self._verb("QueueEnqueue"), self._queue_ref, vals, name=scope)

    def enqueue_many(self, vals, name=None):
        """An op enqueuing the elements that make up dimension 0 of each component."""
        with self._scope(name, "EnqueueMany") as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch = tensor_shape.Dimension(None)
            for i, (v, s) in enumerate(zip(vals, self._shapes)):
                shape = v.get_shape().with_rank_at_least(1)
                batch = batch.merge_with(shape[0])
                _assert_compatible(shape[1:], s, i)
            return apply_op(self._verb("QueueEnqueueMany"), self._queue_ref, vals, name=scope)

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
        return self._dequeue(self._verb("QueueDequeue"), name, "Dequeue")

    def dequeue_many(self, n, name=None):
        """Dequeues `n` elements, concatenated along a new dimension 0."""
        n_value = tensor_util.constant_value(n) if isinstance(n, ops.Tensor) else n
        batch = None if n_value is None else int(n_value)
        return self._dequeue(self._verb("QueueDequeueMany"), name, "DequeueMany", n, batch)

    def dequeue_up_to(self, n, name=None):
        """Like dequeue_many, but returns fewer (at least one) once the queue is closed."""
        return self._dequeue(self._verb("QueueDequeueUpTo"), name, "DequeueUpTo", n, None)

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op closing the queue; pending enqueues are cancelled if asked."""
        if name is None:
            name = f"{self._name}_Close"
        return apply_op(self._verb("QueueClose"), self._queue_ref,
                        cancel_pending_enqueues=cancel_pending_enqueues, name=name)

    def size(self, name=None):
        """An int32 scalar: the number of elements in the queue."""
        if name is None:
            name = f"{self._name}_Size"
        return apply_op(self._verb("QueueSize"), self._queue_ref, name=name)

    def is_closed(self, name=None):
        """A bool scalar: whether the queue is closed."""
        if name is None:
            name = f"{self._name}_IsClosed"
        return apply_op(self._verb("QueueIsClosed"), self._queue_ref, name=name)


def _select_handle(index, handles):
    """The handle `handles[index]`, picked at run time. V1 references go through RefSelect (TF
    0.9's from_list); resource handles are stacked and gathered (TF >= 1.2's)."""
    if all(h.dtype._is_ref_dtype for h in handles):
        from tensorflux.ops import control_flow_primitives
        return control_flow_primitives.ref_select(index, handles)
    from tensorflux.ops import array_ops, indexing_ops
    return indexing_ops.gather(array_ops.stack(handles), index)


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
        ref = _queue_op("FIFOQueue", dtypes, shapes, capacity, shared_name, name)
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
        ref = _queue_op("PaddingFIFOQueue", dtypes, shapes, capacity, shared_name, name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """A queue dequeuing elements in random order, keeping `min_after_dequeue` for mixing."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None,
                 shared_name=None, name="random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = random_seed.get_seed(seed)
        ref = _queue_op("RandomShuffleQueue", dtypes, shapes, capacity, shared_name, name,
                        min_after_dequeue=min_after_dequeue, seed=seed1 or 0, seed2=seed2 or 0)
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """A queue dequeuing elements by priority, smallest first (`tf.PriorityQueue`).

    Every element starts with an int64 scalar priority, then the components of `types`:
    enqueue (priority, *values), dequeue gives (priority, *values).
    """

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None,
                 name="priority_queue"):
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes, types)
        ref = _queue_op("PriorityQueue", types, shapes, capacity, shared_name, name)
        names = _as_name_list(names, [dtypes_lib.int64] + types)
        super().__init__([dtypes_lib.int64] + types,
                         [tensor_shape.scalar()] + shapes if shapes else None, names, ref)


def _same_shapes(a, b):
    return len(a) == len(b) and all(x.as_list() == y.as_list() if x.ndims is not None
                                    else y.ndims is None for x, y in zip(a, b))
