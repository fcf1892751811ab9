"""Harness entries and behaviour tests for the accumulator ops (ops/accumulator_ops.py)."""
import threading
import time

import numpy as np
import pytest
from op_harness import OpSpec, run_spec

import tensorflux as tf
from tensorflux.ops import accumulator_ops

pytestmark = pytest.mark.timeout(60)

FAST = tf.RunOptions(timeout_in_ms=300)


def _after(deps, fn):
    with tf.control_dependencies(deps):
        return fn()


def _run_in_thread(fn):
    """Starts fn in a thread; returns (thread, outcome dict with 'value' or 'error')."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except Exception as e:  # noqa: BLE001 - inspected by the test
            outcome["error"] = e
    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


# ---- harness entries --------------------------------------------------------------------------
def _apply_twice_take(x):
    acc = tf.ConditionalAccumulator(x.dtype, shape=x.get_shape())
    first = acc.apply_grad(x)
    second = _after([first], lambda: acc.apply_grad(x * 3))
    return _after([second], lambda: acc.take_grad(2))


def _stale_and_count(x):
    acc = tf.ConditionalAccumulator(x.dtype, shape=x.get_shape())
    set_step = acc.set_global_step(5)
    stale = _after([set_step], lambda: acc.apply_grad(x * 7, local_step=4))
    fresh = _after([stale], lambda: acc.apply_grad(x, local_step=5))
    count = _after([fresh], acc.num_accumulated)
    return [count, _after([count], lambda: acc.take_grad(1))]


def _sparse_rows(values):
    """Two sparse gradients over a [5, k] variable: rows 0, 2, 3, then row 2 again (x3)."""
    acc = tf.SparseConditionalAccumulator(values.dtype, shape=[5, None])
    dense_shape = tf.stack([tf.constant(5, tf.int64), tf.to_int64(tf.shape(values)[1])])
    first = acc.apply_grad([0, 2, 3], values, grad_shape=dense_shape)
    second = _after([first], lambda: acc.apply_grad([2], values[1:2] * 3, grad_shape=dense_shape))
    indices, averaged, shape = _after([second], lambda: acc.take_grad(2))
    indices.set_shape([3])  # three distinct rows were given
    averaged.set_shape(values.get_shape())
    shape.set_shape([2])
    return [indices, averaged, shape]


def _sparse_ref(values):
    return [np.array([0, 2, 3], np.int64), np.stack([values[0], values[1] * 2, values[2]]),
            np.array([5, values.shape[1]], np.int64)]


# ---- behaviour checks run from the harness entries (stateful ops) -----------------------------
def _check_take_waits_for_enough(spec):
    acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
    g = tf.placeholder(tf.float32, [2])
    apply, take = acc.apply_grad(g), acc.take_grad(2)
    with tf.Session() as sess:
        thread, outcome = _run_in_thread(
            lambda: sess.run(take, options=tf.RunOptions(timeout_in_ms=5000)))
        sess.run(apply, {g: [1.0, 2.0]})
        time.sleep(0.1)
        assert thread.is_alive() and not outcome  # one gradient of two: still waiting
        sess.run(apply, {g: [3.0, 6.0]})
        thread.join(5)
        assert outcome["value"].tolist() == [2.0, 4.0]
        assert sess.run(acc.num_accumulated()) == 0  # the take reset the sum


def _check_stale_drop_after_take(spec):
    acc = tf.ConditionalAccumulator(tf.float32, shape=[])
    g, step = tf.placeholder(tf.float32, []), tf.placeholder(tf.int64, [])
    apply, take, count = acc.apply_grad(g, local_step=step), acc.take_grad(1), \
        acc.num_accumulated()
    with tf.Session() as sess:
        sess.run(apply, {g: 1.0, step: 0})
        assert sess.run(take) == 1.0  # global step now 1
        sess.run(apply, {g: 100.0, step: 0})
        assert sess.run(count) == 0  # computed for step 0: stale
        sess.run(apply, {g: 2.0, step: 1})
        sess.run(apply, {g: 4.0, step: 9})  # from the future: kept
        assert sess.run(count) == 2
        assert sess.run(acc.take_grad(2)) == 3.0
        sess.run(acc.set_global_step(0))  # lower is allowed (and logged)
        sess.run(apply, {g: 5.0, step: 0})
        assert sess.run(count) == 1


def _check_sparse_sum_and_unknown_shape(spec):
    acc = tf.SparseConditionalAccumulator(tf.float32, reduction_type="SUM")
    apply1 = acc.apply_grad([1, 1, 4], [[1.0], [2.0], [3.0]])  # repeated index: summed
    apply2 = acc.apply_grad([4], [[10.0]])
    slices = acc.take_indexed_slices_grad(2)
    with tf.Session() as sess:
        sess.run(apply1)
        sess.run(apply2)
        indices, values, shape = sess.run([slices.indices, slices.values, slices.dense_shape])
    assert indices.tolist() == [1, 4] and values.tolist() == [[3.0], [13.0]]
    assert shape.tolist() == [-1, 1]  # no dense shape given: the unknown dimension is -1


EVERY_CLASS = [tf.float32, tf.float64, tf.int32, tf.float16, tf.bfloat16, tf.complex64]
SPECS = [
    OpSpec(("ConditionalAccumulator", "AccumulatorApplyGradient", "AccumulatorTakeGradient"),
           _apply_twice_take, lambda x: x * 2, [((3, 4),), ((),)],
           dtypes=EVERY_CLASS, grad=(),
           check=_check_take_waits_for_enough),
    OpSpec(("AccumulatorNumAccumulated", "AccumulatorSetGlobalStep"), _stale_and_count,
           lambda x: [np.int32(1), x], [((2, 3),), ((),)], dtypes=[tf.float32, tf.int64],
           grad=(), check=_check_stale_drop_after_take),
    OpSpec(("SparseConditionalAccumulator", "SparseAccumulatorApplyGradient",
            "SparseAccumulatorTakeGradient"), _sparse_rows, _sparse_ref, [((3, 2),), ((3, 1),)],
           dtypes=EVERY_CLASS, grad=(),
           check=_check_sparse_sum_and_unknown_shape),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- waiting takes end: deadlines, session close, cancellation ---------------------------------
def test_take_with_run_timeout_raises_deadline_exceeded_and_takes_nothing():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[])
    apply, take = acc.apply_grad(5.0), acc.take_grad(2)
    with tf.Session() as sess:
        sess.run(apply)
        start = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError, match="AccumulatorTakeGradient"):
            sess.run(take, options=FAST)
        assert 0.25 < time.monotonic() - start < 3.0
        assert sess.run(acc.num_accumulated()) == 1  # the withdrawn take left the gradient
        sess.run(acc.apply_grad(7.0))
        assert sess.run(take) == 6.0


def test_session_close_cancels_a_waiting_take_quickly():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[])
    take = acc.take_grad(1)
    sess = tf.Session()
    thread, outcome = _run_in_thread(lambda: sess.run(take))
    time.sleep(0.2)
    closed_at = time.monotonic()
    sess.close()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], tf.errors.CancelledError)
    assert time.monotonic() - closed_at < 2.0


def test_resource_close_fails_waiting_takers():
    from tensorflux.ops import accumulators
    acc = accumulators.ConditionalAccumulator("a", tf.float32, [])
    results = []
    assert acc.take(1, lambda error, value: results.append(error)) is not None
    acc.close_resource()
    assert isinstance(results[0], tf.errors.CancelledError)
    with pytest.raises(tf.errors.CancelledError, match="session has been closed"):
        acc.apply(0, np.float32(1.0))


def test_cancel_pending_takes_leaves_the_accumulator_usable():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[], shared_name="cancel_me")
    take = acc.take_grad(1)
    with tf.Session() as sess:
        thread, outcome = _run_in_thread(
            lambda: sess.run(take, options=tf.RunOptions(timeout_in_ms=5000)))
        time.sleep(0.1)
        error = tf.errors.CancelledError(None, None, "TakeGrad operation was cancelled")
        accumulator_ops.cancel_pending_takes(sess, acc, error)
        thread.join(5)
        assert isinstance(outcome["error"], tf.errors.CancelledError)
        sess.run(acc.apply_grad(2.0))
        assert sess.run(take) == 2.0


def test_takers_are_served_in_order_one_round_each():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[])
    g, step = tf.placeholder(tf.float32, []), tf.placeholder(tf.int64, [])
    apply, take = acc.apply_grad(g, local_step=step), acc.take_grad(1)
    slow = tf.RunOptions(timeout_in_ms=5000)
    with tf.Session() as sess:
        first, out1 = _run_in_thread(lambda: sess.run(take, options=slow))
        time.sleep(0.1)
        second, out2 = _run_in_thread(lambda: sess.run(take, options=slow))
        time.sleep(0.1)
        sess.run(apply, {g: 1.0, step: 0})
        first.join(5)
        assert out1["value"] == 1.0 and second.is_alive()
        sess.run(apply, {g: 2.0, step: 1})  # the take moved the global step to 1
        second.join(5)
        assert out2["value"] == 2.0


# ---- argument and shape errors ----------------------------------------------------------------
def test_num_required_must_be_positive():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="num_required must be positive, but was 0"):
        sess.run(acc.take_grad(0))


def test_dense_shape_errors():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
        acc.apply_grad(tf.zeros([3]))
    loose = tf.ConditionalAccumulator(tf.float32)  # the first gradient fixes the shape
    g = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        sess.run(loose.apply_grad(g), {g: np.zeros([2, 2])})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Shape mismatch: expected \[2,2\], got \[3\]"):
            sess.run(loose.apply_grad(g), {g: np.zeros([3])})


def test_sparse_errors():
    acc = tf.SparseConditionalAccumulator(tf.float32, shape=[4, 2])
    with pytest.raises(ValueError, match=r"Shapes \(1, 3\) and \(\?, 2\) are incompatible"):
        acc.apply_grad([0], tf.zeros([1, 3]))
    v = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Index out of range"):
            sess.run(acc.apply_grad([7], v, grad_shape=[4, 2]), {v: np.zeros([1, 2])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="gradient_indices has 2"):
            sess.run(acc.apply_grad([0, 1], v), {v: np.zeros([3, 2])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shape mismatch"):
            sess.run(acc.apply_grad([0], v, grad_shape=[5, 2]), {v: np.zeros([1, 2])})


def test_shared_name_shares_one_accumulator_and_checks_signature():
    a = tf.ConditionalAccumulator(tf.float32, shape=[2], shared_name="grads")
    b = tf.ConditionalAccumulator(tf.float32, shape=[2], shared_name="grads")
    c = tf.ConditionalAccumulator(tf.float64, shape=[2], shared_name="grads", name="c")
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(a.apply_grad([1.0, 1.0]))
        assert s1.run(b.num_accumulated()) == 1 and s2.run(b.num_accumulated()) == 0
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shared accumulator 'grads'"):
            s1.run(c.num_accumulated())


def test_mean_of_sparse_rows_counts_only_gradients_that_have_the_row():
    acc = tf.SparseConditionalAccumulator(tf.float64, shape=[3, 2])
    applies = [acc.apply_indexed_slices_grad(tf.IndexedSlices(
        tf.constant(values, tf.float64), tf.constant(rows), tf.constant([3, 2])))
        for rows, values in (([0], [[2.0, 2.0]]), ([0, 1], [[4.0, 4.0], [1.0, 3.0]]),
                             ([1], [[3.0, 5.0]]))]
    slices = acc.take_indexed_slices_grad(3)
    with tf.Session() as sess:
        for op in applies:
            sess.run(op)
        indices, values, shape = sess.run([slices.indices, slices.values, slices.dense_shape])
    assert indices.tolist() == [0, 1] and shape.tolist() == [3, 2]
    assert values.tolist() == [[3.0, 3.0], [2.0, 4.0]]  # each row over the 2 gradients with it


def test_python_api_names_and_attrs():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[2], shared_name="s", name="acc",
                                    reduction_type="SUM")
    op = acc.accumulator_ref.op
    assert op.type == "ConditionalAccumulator" and acc.accumulator_ref.dtype == tf.string_ref
    assert acc.name == "acc" and acc.dtype == tf.float32
    assert op.get_attr("reduction_type") in ("SUM", b"SUM")
    assert acc.num_accumulated().op.name == "acc_NumAccumulated"
    assert acc.take_grad(1).get_shape().as_list() == [2]
    assert acc.set_global_step(3).type == "AccumulatorSetGlobalStep"
    with pytest.raises(ValueError, match="reduction_type"):
        tf.ConditionalAccumulator(tf.float32, reduction_type="MAX")
    sparse = tf.SparseConditionalAccumulator(tf.float32, shape=[None, 4])
    _, values, shape = sparse.take_grad(1)
    assert values.get_shape().as_list() == [None, 4] and shape.get_shape().as_list() == [2]
    with tf.Session() as sess:
        sess.run(acc.apply_grad([1.0, 2.0]))
        sess.run(acc.apply_grad([1.0, 2.0]))
        assert sess.run(acc.take_grad(2)).tolist() == [2.0, 4.0]  # SUM: not divided
