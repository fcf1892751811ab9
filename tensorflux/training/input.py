"""Input pipelines: producers that fill queues from tensors and batchers that group examples.

Every function here builds a queue and registers a QueueRunner in the QUEUE_RUNNERS
collection; `tf.train.start_queue_runners(sess, coord)` starts the threads that fill it.

    filenames = tf.train.string_input_producer(["a.bin", "b.bin"], num_epochs=2)
    key, value = tf.FixedLengthRecordReader(record_bytes=3073).read(filenames)
    ...
    images, labels = tf.train.shuffle_batch([image, label], batch_size=128,
                                            capacity=2000, min_after_dequeue=1000,
                                            num_threads=4)
"""
from tensorflux.framework import dtypes, ops, tensor_shape
from tensorflux.ops import (
    array_ops,
    data_flow_ops,
    indexing_ops,
    math_ops,
    random_ops,
    state_ops,
    summary_ops,
    variables,
)
from tensorflux.ops import parsing_ops, sparse_serialization_ops
from tensorflux.training import queue_runner

__all__ = [
    "batch",
    "batch_join",
    "input_producer",
    "limit_epochs",
    "match_filenames_once",
    "range_input_producer",
    "shuffle_batch",
    "shuffle_batch_join",
    "slice_input_producer",
    "string_input_producer",
]


def match_filenames_once(pattern, name=None):
    """A local variable holding the files matching glob `pattern` (local or any fsspec URL),
    listed once, when local variables are initialized."""
    with ops.name_scope(name, "matching_filenames", [pattern]) as scope:
        from tensorflux.ops import reader_ops  # input.py is imported before reader_ops is
        return variables.Variable(reader_ops.matching_files(pattern), trainable=False,
                                  name=scope, validate_shape=False,
                                  collections=[ops.GraphKeys.LOCAL_VARIABLES])


def limit_epochs(tensor, num_epochs=None, name=None):
    """Returns `tensor` `num_epochs` times, then raises OutOfRangeError (None: forever).

    Uses a local variable `epochs` (initialize it with tf.local_variables_initializer()).
    """
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    with ops.name_scope(name, "limit_epochs", [tensor]) as scope:
        zero64 = ops.convert_to_tensor(0, dtype=dtypes.int64)
        epochs = variables.Variable(zero64, name="epochs", trainable=False,
                                    collections=[ops.GraphKeys.LOCAL_VARIABLES])
        counter = state_ops.count_up_to(epochs, num_epochs)
        with ops.control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope)


def _fraction_summary(tag, numerator, denominator):
    fraction = math_ops.cast(numerator, dtypes.float32) * (1.0 / denominator)
    summary_ops.scalar_summary(tag, fraction)


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None,
                   capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """A queue filled with the rows of `input_tensor` (shuffled each epoch if `shuffle`)."""
    with ops.name_scope(name, "input_producer", [input_tensor]):
        input_tensor = ops.convert_to_tensor(input_tensor, name="input_tensor")
        shape = input_tensor.get_shape()
        rows = shape[1:] if shape.ndims is not None else tensor_shape.unknown_shape()
        element_shape = rows.merge_with(tensor_shape.as_shape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             f"`element_shape` must be specified; got {element_shape}")
        if shuffle:
            input_tensor = random_ops.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        queue = data_flow_ops.FIFOQueue(capacity, [input_tensor.dtype.base_dtype],
                                        shapes=[element_shape], shared_name=shared_name,
                                        name=name)
        enqueue = queue.enqueue_many([input_tensor])
        queue_runner.add_queue_runner(queue_runner.QueueRunner(queue, [enqueue],
                                                               cancel_op=cancel_op))
        if summary_name is not None:
            _fraction_summary(f"queue/{queue.name}/{summary_name}", queue.size(), capacity)
        return queue


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None, capacity=32,
                          shared_name=None, name=None, cancel_op=None):
    """A queue of the strings (e.g. filenames) in `string_tensor`, for readers."""
    if not isinstance(string_tensor, (ops.Tensor, variables.Variable)) and not len(string_tensor):
        raise ValueError("string_input_producer requires a non-null input tensor")
    with ops.name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = ops.convert_to_tensor(string_tensor, dtype=dtypes.string)
        first = string_tensor.get_shape().with_rank(1)[0]
        if first.value == 0:
            raise ValueError("string_input_producer requires a non-null input tensor")
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope, cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the int32 integers 0 .. limit-1."""
    with ops.name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """One row of each tensor in `tensor_list` (same row index for all), from a queue."""
    with ops.name_scope(name, "input_producer", list(tensor_list)):
        tensor_list = [ops.convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        size = array_ops.shape(tensor_list[0], out_type=dtypes.int32)[0]
        queue = range_input_producer(size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [indexing_ops.gather(t, index) for t in tensor_list]


# ---- batching -----------------------------------------------------------------------------
def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors)]
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    return [tensors]


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original))}
    return dequeued


def _validate(tensor_list, what):
    if not tensor_list:
        raise ValueError(f"Expected at least one tensor in {what}().")
    return [ops.convert_to_tensor(t) for t in tensor_list]


# ---- SparseTensors travel through the queue serialized (as TF 0.9 did) -------------------------
def _is_sparse(t):
    return isinstance(t, parsing_ops.SparseTensor)


def _serialize_sparse(tensor_list_list, enqueue_many):
    """Each SparseTensor replaced by its serialization (one string [3] per example);
    returns the new lists and, per position, the SparseTensor's (dtype, rank) or None."""
    first = tensor_list_list[0]
    kinds = [(t.dtype.base_dtype, _sparse_rank(t)) if _is_sparse(t) else None for t in first]
    for other in tensor_list_list[1:]:
        if [_is_sparse(t) for t in other] != [k is not None for k in kinds]:
            raise TypeError("All tensor lists must have SparseTensors at the same positions")
    serialize = (sparse_serialization_ops.serialize_many_sparse if enqueue_many
                 else sparse_serialization_ops.serialize_sparse)
    converted = [[serialize(t) if _is_sparse(t) else t for t in tl] for tl in tensor_list_list]
    return converted, kinds


def _sparse_rank(t):
    return t.dense_shape.get_shape().with_rank(1)[0].value


def _deserialize_sparse(dequeued, kinds, enqueue_many):
    """The dequeued batch with each serialized SparseTensor joined back into one, batched."""
    single = not isinstance(dequeued, (list, tuple))
    dequeued = [dequeued] if single else list(dequeued)
    for i, kind in enumerate(kinds):
        if kind is not None:
            dtype, rank = kind
            # A batch of examples adds a dimension; enqueue_many's rows already had it.
            batched_rank = None if rank is None else rank + (0 if enqueue_many else 1)
            dequeued[i] = sparse_serialization_ops.deserialize_many_sparse(
                dequeued[i], dtype, rank=batched_rank)
    return dequeued[0] if single else dequeued


def _dtypes(tensor_list_list):
    types = [t.dtype.base_dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        if [t.dtype.base_dtype for t in other] != types:
            raise TypeError(f"Expected types to be {[d.name for d in types]}, got "
                            f"{[t.dtype.base_dtype.name for t in other]}")
    return types


def _shapes(tensor_list_list, shapes, enqueue_many, kinds=()):
    if shapes is not None:
        # A SparseTensor's place in the queue holds its serialization, a string [3].
        return [tensor_shape.vector(3) if i < len(kinds) and kinds[i] is not None
                else tensor_shape.as_shape(s) for i, s in enumerate(shapes)]
    result = []
    for i in range(len(tensor_list_list[0])):
        merged = tensor_shape.unknown_shape()
        for tensor_list in tensor_list_list:
            shape = tensor_list[i].get_shape()
            if enqueue_many:
                shape = shape.with_rank_at_least(1)[1:]
            merged = merged.merge_with(shape)
        result.append(merged)
    return result


def _enqueue_ops(queue, tensor_list_list, enqueue_many):
    if enqueue_many:
        return [queue.enqueue_many(tl) for tl in tensor_list_list]
    return [queue.enqueue(tl) for tl in tensor_list_list]


def _batch_queue(tensor_list_list, enqueue_ops_for, make_queue, what):
    """Validates the inputs, makes the queue and its runner; returns the queue."""
    tensor_list_list = [_validate(tl, what) for tl in tensor_list_list]
    queue = make_queue(_dtypes(tensor_list_list), tensor_list_list)
    enqueue_ops = enqueue_ops_for(queue, tensor_list_list)
    queue_runner.add_queue_runner(queue_runner.QueueRunner(queue, enqueue_ops))
    return queue


def _dequeue(queue, batch_size, allow_smaller_final_batch, name):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _fifo_batch(tensors_lists, batch_size, capacity, enqueue_many, shapes, dynamic_pad,
                allow_smaller_final_batch, shared_name, name, what, copies):
    tensors_lists, kinds = _serialize_sparse(tensors_lists, enqueue_many)

    def make_queue(types, tll):
        queue_class = data_flow_ops.PaddingFIFOQueue if dynamic_pad else data_flow_ops.FIFOQueue
        return queue_class(capacity=capacity, dtypes=types,
                           shapes=_shapes(tll, shapes, enqueue_many, kinds),
                           shared_name=shared_name)

    def enqueue_ops_for(queue, tll):
        return _enqueue_ops(queue, tll, enqueue_many) * copies

    queue = _batch_queue(tensors_lists, enqueue_ops_for, make_queue, what)
    _fraction_summary(f"queue/{queue.name}/fraction_of_{capacity}_full", queue.size(),
                      capacity)
    dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
    return _deserialize_sparse(dequeued, kinds, enqueue_many)


def _shuffle_batch(tensors_lists, batch_size, capacity, min_after_dequeue, seed, enqueue_many,
                   shapes, allow_smaller_final_batch, shared_name, name, what, copies):
    tensors_lists, kinds = _serialize_sparse(tensors_lists, enqueue_many)

    def make_queue(types, tll):
        return data_flow_ops.RandomShuffleQueue(
            capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed, dtypes=types,
            shapes=_shapes(tll, shapes, enqueue_many, kinds), shared_name=shared_name)

    def enqueue_ops_for(queue, tll):
        return _enqueue_ops(queue, tll, enqueue_many) * copies

    queue = _batch_queue(tensors_lists, enqueue_ops_for, make_queue, what)
    full = math_ops.maximum(0, queue.size() - min_after_dequeue)
    _fraction_summary(f"queue/{queue.name}/fraction_over_{min_after_dequeue}_of_"
                      f"{capacity - min_after_dequeue}_full", full,
                      max(1, capacity - min_after_dequeue))
    dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
    return _deserialize_sparse(dequeued, kinds, enqueue_many)


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches `tensors` (a list or dict) through a FIFO queue filled by `num_threads` threads.

    Returns tensors like `tensors` with a new leading dimension of `batch_size` (None with
    allow_smaller_final_batch, whose last batch may be smaller). dynamic_pad=True pads
    elements of different shapes with zeros.
    """
    tensor_list = _as_tensor_list(tensors)
    with ops.name_scope(name, "batch", tensor_list) as scope:
        dequeued = _fifo_batch([tensor_list], batch_size, capacity, enqueue_many, shapes,
                               dynamic_pad, allow_smaller_final_batch, shared_name, scope,
                               "batch", num_threads)
        return _as_original_type(tensors, dequeued)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None,
               dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Like batch, with one enqueuing thread per entry of `tensors_list` (e.g. one per reader)."""
    tensor_list_list = [_as_tensor_list(t) for t in tensors_list]
    with ops.name_scope(name, "batch_join", _flat(tensor_list_list)) as scope:
        dequeued = _fifo_batch(tensor_list_list, batch_size, capacity, enqueue_many, shapes,
                               dynamic_pad, allow_smaller_final_batch, shared_name, scope,
                               "batch_join", 1)
        return _as_original_type(tensors_list[0], dequeued)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """Batches `tensors` in random order through a RandomShuffleQueue.

    The queue holds at least `min_after_dequeue` elements after a dequeue (until it is
    closed), so larger values mix better and start slower.
    """
    tensor_list = _as_tensor_list(tensors)
    with ops.name_scope(name, "shuffle_batch", tensor_list) as scope:
        dequeued = _shuffle_batch([tensor_list], batch_size, capacity, min_after_dequeue, seed,
                                  enqueue_many, shapes, allow_smaller_final_batch, shared_name,
                                  scope, "shuffle_batch", num_threads)
        return _as_original_type(tensors, dequeued)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                       shared_name=None, name=None):
    """Like shuffle_batch, with one enqueuing thread per entry of `tensors_list`."""
    tensor_list_list = [_as_tensor_list(t) for t in tensors_list]
    with ops.name_scope(name, "shuffle_batch_join", _flat(tensor_list_list)) as scope:
        dequeued = _shuffle_batch(tensor_list_list, batch_size, capacity, min_after_dequeue,
                                  seed, enqueue_many, shapes, allow_smaller_final_batch,
                                  shared_name, scope, "shuffle_batch_join", 1)
        return _as_original_type(tensors_list[0], dequeued)


def _flat(tensor_list_list):
    return [t for tl in tensor_list_list for t in tl]
