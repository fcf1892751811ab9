"""Harness entries and behaviour tests for the queue ops (tensorflux/ops/data_flow_ops.py)."""
import functools
import threading
import time

import numpy as np
import pytest
from op_harness import OpSpec, run_spec

import tensorflux as tf
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import data_flow_ops

pytestmark = pytest.mark.timeout(60)

FAST = tf.RunOptions(timeout_in_ms=300)


def _after(deps, fn):
    with tf.control_dependencies(deps):
        return fn()


def _known(x):
    """x's shape as the queue's shape when it is known (so the harness sees static shapes)."""
    return [x.get_shape()] if x.get_shape().is_fully_defined() else None


def _same(q):
    return q


def as_v2(q):
    """`q` rebuilt as TF >= 1.2's V2 op (a resource handle) with the V1 op's attrs."""
    op = q.queue_ref.op
    ref = apply_op(op.type + "V2", name=op.name + "_v2",
                   **{k: op.get_attr(k) for k in op.node_def.attr})
    return data_flow_ops.QueueBase(q.dtypes, q.shapes, q.names, ref)


def _enqueue_dequeue(x, wrap=_same):
    q = wrap(data_flow_ops.FIFOQueue(2, [x.dtype], shapes=_known(x)))
    return _after([q.enqueue(x)], q.dequeue)


def _enqueue_many_dequeue_many(x, wrap=_same):
    q = wrap(data_flow_ops.FIFOQueue(10, [x.dtype], shapes=[[4]]))
    return _after([q.enqueue_many(x)], lambda: q.dequeue_many(3))


def _dequeue_up_to(x, wrap=_same):
    q = wrap(data_flow_ops.FIFOQueue(10, [x.dtype], shapes=[[2]]))
    close = _after([q.enqueue_many(x)], q.close)
    out = _after([close], lambda: q.dequeue_up_to(5))
    out.set_shape(x.get_shape())  # 3 elements were there
    return out


def _shuffled_sum(x, wrap=_same):
    q = wrap(data_flow_ops.RandomShuffleQueue(10, 0, [x.dtype], shapes=[[4]], seed=3))
    return tf.reduce_sum(_after([q.enqueue_many(x)], lambda: q.dequeue_many(3)), 0)


def _padded(x, wrap=_same):
    q = wrap(data_flow_ops.PaddingFIFOQueue(4, [x.dtype], shapes=[[None]]))
    second = _after([q.enqueue(x)], lambda: q.enqueue(x[:2]))
    out = _after([second], lambda: q.dequeue_many(2))
    out.set_shape(tf.TensorShape([2]).concatenate(x.get_shape()))  # padded to x's length
    return out


def _by_priority(x, wrap=_same):
    row = x.get_shape()[1:]
    q = wrap(data_flow_ops.PriorityQueue(10, [x.dtype],
                                         shapes=[row] if row.is_fully_defined() else None))
    priorities = tf.constant([2, 0, 1], tf.int64)
    return _after([q.enqueue_many([priorities, x])], lambda: q.dequeue_many(3))[1]


def _check_priority_order_ties_and_errors(spec):
    q = data_flow_ops.PriorityQueue(5, [tf.string], shapes=[[]])
    assert q.dtypes == [tf.int64, tf.string] and q.queue_ref.op.type == "PriorityQueue"
    p = tf.placeholder(tf.int64)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[3, 1, 3, -2], [b"c", b"a", b"d", b"z"]]))
        sess.run(q.enqueue([1, b"b"]))
        got = [sess.run(q.dequeue()) for _ in range(5)]
        assert [(int(k), v) for k, v in got] == [(-2, b"z"), (1, b"a"), (1, b"b"), (3, b"c"),
                                                 (3, b"d")]
        with pytest.raises(tf.errors.InvalidArgumentError, match="priority element to be a "
                                                                 "scalar"):
            sess.run(q.enqueue([p, b"x"]), {p: [1, 2]})


def _pad_ref(x):
    short = np.zeros_like(x)
    short[:2] = x[:2]
    return np.stack([x, short])


def _size_and_closed(x, wrap=_same):
    q = wrap(data_flow_ops.FIFOQueue(10, [x.dtype], shapes=[[2]]))
    size = _after([q.enqueue_many(x)], q.size)
    close = _after([size], q.close)
    return [size, _after([close], q.is_closed)]


# ---- behaviour checks run from the harness entries (stateful ops) -----------------------------
def _check_fifo_order_and_blocking(spec):
    q = data_flow_ops.FIFOQueue(2, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enqueue, dequeue = q.enqueue(x), q.dequeue()
    with tf.Session() as sess:
        sess.run(enqueue, {x: 1})
        sess.run(enqueue, {x: 2})
        with pytest.raises(tf.errors.DeadlineExceededError, match=r"\(QueueEnqueue\)"):
            sess.run(enqueue, {x: 3}, options=FAST)  # full
        assert [sess.run(dequeue), sess.run(dequeue)] == [1, 2]
        with pytest.raises(tf.errors.DeadlineExceededError, match=r"\(QueueDequeue\)"):
            sess.run(dequeue, options=FAST)  # empty
        sess.run(enqueue, {x: 4})  # the timed-out waiters were withdrawn
        assert sess.run(dequeue) == 4


def _check_dequeue_many_larger_than_capacity(spec):
    q = data_flow_ops.FIFOQueue(2, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enqueue, batch = q.enqueue(x), q.dequeue_many(5)
    with tf.Session() as sess:
        feeder = threading.Thread(target=lambda: [sess.run(enqueue, {x: i}) for i in range(5)])
        feeder.start()
        assert sess.run(batch).tolist() == [0, 1, 2, 3, 4]
        feeder.join()


def _check_up_to_and_restore(spec):
    q = data_flow_ops.FIFOQueue(10, tf.int32, shapes=[[]])
    fill = q.enqueue_many([[1, 2, 3]])
    with tf.Session() as sess:
        sess.run(fill)
        sess.run(q.close())
        with pytest.raises(tf.errors.OutOfRangeError, match="requested 4, current size 3"):
            sess.run(q.dequeue_many(4))
        assert sess.run(q.dequeue_up_to(2)).tolist() == [1, 2]  # put back in order
        assert sess.run(q.dequeue_up_to(2)).tolist() == [3]
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed"):
            sess.run(q.dequeue_up_to(2))


def _check_random_shuffle(spec):
    def draw(seed):
        tf.reset_default_graph()
        q = data_flow_ops.RandomShuffleQueue(20, 0, tf.int32, shapes=[[]], seed=seed)
        with tf.Session() as sess:
            sess.run(q.enqueue_many([list(range(20))]))
            return sess.run(q.dequeue_many(20)).tolist()
    first = draw(7)
    assert sorted(first) == list(range(20)) and first != list(range(20))
    assert draw(7) == first


def _check_min_after_dequeue(spec):
    q = data_flow_ops.RandomShuffleQueue(10, 2, tf.int32, shapes=[[]], seed=1)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[5, 6, 7]]))
        assert sess.run(q.dequeue()) in (5, 6, 7)
        with pytest.raises(tf.errors.DeadlineExceededError,
                           match="Timed out.*random_shuffle_queue_Dequeue"):
            sess.run(q.dequeue(), options=FAST)  # would leave fewer than 2
        sess.run(q.close())
        assert sorted(sess.run(q.dequeue_many(2)).tolist()) in ([5, 6], [5, 7], [6, 7])
        with pytest.raises(tf.errors.OutOfRangeError, match="RandomShuffleQueue"):
            sess.run(q.dequeue())


def _check_padding_strings(spec):
    q = data_flow_ops.PaddingFIFOQueue(4, [tf.string, tf.int32], shapes=[[None], [None, 2]])
    s = tf.placeholder(tf.string, [None])
    i = tf.placeholder(tf.int32, [None, 2])
    enqueue = q.enqueue([s, i])
    words, numbers = q.dequeue_many(2)
    assert words.get_shape().as_list() == [2, None]
    with tf.Session() as sess:
        sess.run(enqueue, {s: [b"a"], i: [[1, 2], [3, 4]]})
        sess.run(enqueue, {s: [b"b", b"c"], i: np.zeros([0, 2], np.int32)})
        w, n = sess.run([words, numbers])
    assert w.tolist() == [[b"a", b""], [b"b", b"c"]]
    assert n.tolist() == [[[1, 2], [3, 4]], [[0, 0], [0, 0]]]


def _check_close_and_size(spec):
    q = data_flow_ops.FIFOQueue(1, tf.float32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue(1.0))
        blocked = {}

        def push():
            try:
                sess.run(q.enqueue(2.0))
                blocked["result"] = "done"
            except tf.errors.CancelledError as e:
                blocked["result"] = e
        thread = threading.Thread(target=push)
        thread.start()
        time.sleep(0.1)
        sess.run(q.close())  # without cancel: the pending enqueue stays
        assert sess.run([q.size(), q.is_closed()]) == [1, True]
        assert sess.run(q.dequeue()) == 1.0
        thread.join(5)
        assert blocked["result"] == "done"
        assert sess.run(q.dequeue()) == 2.0
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(q.enqueue(3.0))


SPECS = [
    OpSpec(("FIFOQueue", "QueueEnqueue", "QueueDequeue"), _enqueue_dequeue, lambda x: x,
           [((3, 4),), ((),)], dtypes=[tf.float32, tf.int32, tf.bool], grad=(),
           check=_check_fifo_order_and_blocking),
    OpSpec(("QueueEnqueueMany", "QueueDequeueMany"), _enqueue_many_dequeue_many,
           lambda x: x, [((3, 4),)], dtypes=[tf.float32, tf.int64], grad=(),
           check=_check_dequeue_many_larger_than_capacity),
    OpSpec("QueueDequeueUpTo", _dequeue_up_to, lambda x: x, [((3, 2),)], grad=(),
           check=_check_up_to_and_restore),
    OpSpec("RandomShuffleQueue", _shuffled_sum, lambda x: x.sum(0), [((3, 4),)],
           dtypes=[tf.float64, tf.int32], grad=(), check=_check_random_shuffle),
    OpSpec("RandomShuffleQueue", _shuffled_sum, lambda x: x.sum(0), [((3, 4),)],
           dtypes=[tf.int32], grad=(), check=_check_min_after_dequeue,
           name="RandomShuffleQueue_min_after_dequeue"),
    OpSpec("PaddingFIFOQueue", _padded, _pad_ref, [((4,),)], dtypes=[tf.float32, tf.int32],
           grad=(), check=_check_padding_strings),
    OpSpec(("QueueSize", "QueueClose", "QueueIsClosed"), _size_and_closed,
           lambda x: [np.int32(len(x)), np.bool_(True)], [((3, 2),)], grad=(),
           check=_check_close_and_size),
    OpSpec("PriorityQueue", _by_priority, lambda x: x[[1, 2, 0]], [((3, 2),), ((3,),)],
           dtypes=[tf.float32, tf.int32], grad=(), check=_check_priority_order_ties_and_errors),
    # TF >= 1.2's V2 ops (resource handles): the same kernels, built from gen ops.
    OpSpec("PriorityQueueV2", functools.partial(_by_priority, wrap=as_v2), lambda x: x[[1, 2, 0]],
           [((3, 2),)], dtypes=[tf.float32, tf.int32], grad=()),
    OpSpec(("FIFOQueueV2", "QueueEnqueueV2", "QueueDequeueV2"),
           functools.partial(_enqueue_dequeue, wrap=as_v2), lambda x: x, [((3, 4),), ((),)],
           dtypes=[tf.float32, tf.int32, tf.bool], grad=()),
    OpSpec(("QueueEnqueueManyV2", "QueueDequeueManyV2"),
           functools.partial(_enqueue_many_dequeue_many, wrap=as_v2), lambda x: x,
           [((3, 4),)], dtypes=[tf.float32, tf.int64], grad=()),
    OpSpec("QueueDequeueUpToV2", functools.partial(_dequeue_up_to, wrap=as_v2), lambda x: x,
           [((3, 2),)], grad=()),
    OpSpec("RandomShuffleQueueV2", functools.partial(_shuffled_sum, wrap=as_v2),
           lambda x: x.sum(0), [((3, 4),)], dtypes=[tf.float64, tf.int32], grad=()),
    OpSpec("PaddingFIFOQueueV2", functools.partial(_padded, wrap=as_v2), _pad_ref, [((4,),)],
           dtypes=[tf.float32, tf.int32], grad=()),
    OpSpec(("QueueSizeV2", "QueueCloseV2", "QueueIsClosedV2"),
           functools.partial(_size_and_closed, wrap=as_v2),
           lambda x: [np.int32(len(x)), np.bool_(True)], [((3, 2),)], grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- the acceptance cases: no silent hangs ----------------------------------------------------
def test_closed_exhausted_queue_raises_out_of_range_not_hang():
    q = data_flow_ops.FIFOQueue(5, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        sess.run(q.close())
        assert sess.run(q.dequeue_many(2)).tolist() == [1, 2]
        start = time.monotonic()
        with pytest.raises(tf.errors.OutOfRangeError,
                           match="FIFOQueue '.*' is closed and has insufficient elements"):
            sess.run(q.dequeue())
        assert time.monotonic() - start < 1.0


def test_unfed_dequeue_with_run_timeout_raises_deadline_exceeded():
    q = data_flow_ops.FIFOQueue(5, tf.float32, shapes=[[]])
    with tf.Session() as sess:
        start = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError, match="fifo_queue_Dequeue"):
            sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=200))
        assert 0.15 < time.monotonic() - start < 2.0


def test_unfed_dequeue_with_config_timeout_raises_deadline_exceeded():
    q = data_flow_ops.FIFOQueue(5, tf.float32, shapes=[[]])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=200)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out.*fifo_queue_Dequeue"):
            sess.run(q.dequeue())
        sess.run(q.enqueue(1.5))
        assert sess.run(q.dequeue()) == 1.5  # the timed-out dequeue took nothing


def test_session_close_cancels_blocked_dequeue_quickly():
    q = data_flow_ops.FIFOQueue(5, tf.float32, shapes=[[]])
    dequeue = q.dequeue()
    sess = tf.Session()
    outcome = {}

    def consume():
        try:
            sess.run(dequeue)
        except Exception as e:  # noqa: BLE001 - inspected below
            outcome["error"] = e
            outcome["at"] = time.monotonic()
    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.2)
    closed_at = time.monotonic()
    sess.close()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], tf.errors.CancelledError)
    assert outcome["at"] - closed_at < 1.0


def test_cancel_pending_enqueues():
    q = data_flow_ops.FIFOQueue(1, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue(1))
        outcome = {}

        def push():
            try:
                sess.run(q.enqueue(2))
            except tf.errors.CancelledError as e:
                outcome["error"] = e
        thread = threading.Thread(target=push)
        thread.start()
        time.sleep(0.1)
        sess.run(q.close(cancel_pending_enqueues=True))
        thread.join(5)
        assert "is closed" in str(outcome["error"])
        assert sess.run(q.dequeue()) == 1


def test_many_producers_and_consumers_lose_nothing():
    q = data_flow_ops.FIFOQueue(8, [tf.int32], shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enqueue, dequeue = q.enqueue(x), q.dequeue_up_to(3)
    got, lock = [], threading.Lock()
    with tf.Session() as sess:
        def produce(k):
            for i in range(50):
                sess.run(enqueue, {x: k * 1000 + i})

        def consume():
            while True:
                try:
                    values = sess.run(dequeue)
                except tf.errors.OutOfRangeError:
                    return
                with lock:
                    got.extend(values.tolist())
        producers = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
        consumers = [threading.Thread(target=consume) for _ in range(3)]
        for t in producers + consumers:
            t.start()
        for t in producers:
            t.join()
        sess.run(q.close())
        for t in consumers:
            t.join(10)
    assert sorted(got) == sorted(k * 1000 + i for k in range(4) for i in range(50))


# ---- graph-level API --------------------------------------------------------------------------
def test_names_give_dicts():
    q = data_flow_ops.FIFOQueue(3, [tf.int32, tf.float32], shapes=[[], [2]], names=["a", "b"])
    enqueue = q.enqueue({"a": 1, "b": [2.0, 3.0]})
    out = q.dequeue()
    assert sorted(out) == ["a", "b"] and out["b"].get_shape().as_list() == [2]
    with pytest.raises(ValueError, match="do not match the names"):
        q.enqueue({"a": 1})
    with tf.Session() as sess:
        sess.run(enqueue)
        value = sess.run(out)
    assert value["a"] == 1 and value["b"].tolist() == [2.0, 3.0]


def test_static_shapes_and_shape_errors():
    q = data_flow_ops.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2, 3], []])
    images, labels = q.dequeue_many(5)
    assert images.get_shape().as_list() == [5, 2, 3] and labels.get_shape().as_list() == [5]
    up_to, _ = q.dequeue_up_to(5)
    assert up_to.get_shape().as_list() == [None, 2, 3]
    with pytest.raises(ValueError, match="component 0"):
        q.enqueue([tf.zeros([3, 3]), 1])
    with pytest.raises(ValueError, match="fully defined"):
        data_flow_ops.FIFOQueue(3, tf.float32, shapes=[[None]])
    with pytest.raises(ValueError, match="one entry per component"):
        data_flow_ops.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[1]])
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match=r"Expected \(2, 3\)"):
        sess.run(q.enqueue([x, 1]), {x: np.zeros([3])})


def test_shared_name_shares_one_queue_and_checks_signature():
    a = data_flow_ops.FIFOQueue(3, tf.int32, shapes=[[]], shared_name="shared")
    b = data_flow_ops.FIFOQueue(3, tf.int32, shapes=[[]], shared_name="shared")
    c = data_flow_ops.FIFOQueue(3, tf.float32, shapes=[[]], shared_name="shared", name="c")
    with tf.Session() as sess:
        sess.run(a.enqueue(7))
        assert sess.run(b.dequeue()) == 7
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shared queue 'shared'"):
            sess.run(c.size())


def test_queues_are_per_session_and_attrs_are_tensorflow_s():
    q = data_flow_ops.FIFOQueue(3, tf.int32, shapes=[[]])
    node = q.queue_ref.op.node_def
    assert q.queue_ref.op.type == "FIFOQueue" and q.queue_ref.dtype == tf.string_ref
    assert set(node.attr) == {"component_types", "shapes", "capacity", "container",
                              "shared_name"}
    assert q.enqueue(1).type == "QueueEnqueue"
    assert q.close(cancel_pending_enqueues=True).get_attr("cancel_pending_enqueues") is True
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(q.enqueue(1))
        assert s1.run(q.size()) == 1 and s2.run(q.size()) == 0


def test_dequeue_many_rejects_negative_n():
    q = data_flow_ops.FIFOQueue(3, tf.int32, shapes=[[]])
    n = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="n >= 0"):
            sess.run(q.dequeue_many(n), {n: -1})
        assert sess.run(q.dequeue_many(n), {n: 0}).shape == (0,)
