"""plan_codegen: an inline plan's generated function computes what the step loop computes,
frees the same values, and raises the same errors (a kernel's as op_error naming its op, the
plan's own bookkeeping as InternalError)."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.runtime import executor, plan_codegen

pytestmark = pytest.mark.timeout(60)


def _plan(sess):
    plans = list(sess._plans.values())
    assert len(plans) == 1 and isinstance(plans[0], executor.Plan)
    return plans[0]


def _graph():
    x = tf.placeholder(tf.float32, [None])
    v = tf.Variable([1.0, 2.0, 3.0])
    uniq, idx = tf.unique(tf.floor(x))  # two outputs
    parts = tf.split(tf.concat([x, x], 0), 2)  # n outputs
    y = tf.reduce_sum(uniq) + tf.reduce_sum(parts[1]) * tf.cast(tf.size(idx), tf.float32)
    return x, v, [y, v, idx, parts[0]]


def test_the_generated_function_computes_what_the_loop_computes():
    x, v, fetches = _graph()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess._plans.clear()
        feed = {x: np.float32([1.5, 2.5, 1.2, 7.0])}
        got = sess.run(fetches, feed)
        plan = _plan(sess)
        assert plan._generated is not None
        looped = plan.run_loop([feed[x]])
    for a, b in zip(got, looped):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[1], [1.0, 2.0, 3.0])  # a variable fetched by value


def test_a_kernels_error_names_its_op_as_the_loop_does():
    a = tf.placeholder(tf.float32, [None, None])
    b = tf.placeholder(tf.float32, [None, None])
    y = tf.matmul(a * 2.0, b, name="the_product") + 1.0
    feed = {a: np.ones((2, 3), np.float32), b: np.ones((4, 5), np.float32)}
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as generated:
            sess.run(y, feed)
        with pytest.raises(errors.InvalidArgumentError) as looped:
            _plan(sess).run_loop([feed[a], feed[b]])
    assert "the_product" in str(generated.value) and "Matrix size-incompatible" in str(
        generated.value)
    assert str(generated.value) == str(looped.value)


def test_a_wrong_number_of_outputs_is_an_internal_error():
    x, _, fetches = _graph()
    with tf.Session() as sess:
        sess.run(fetches[2], {x: np.float32([1.0, 2.0])})
        plan = _plan(sess)
    steps = [list(s) for s in plan.steps]
    at = next(k for k, s in enumerate(steps) if s[4] == 2)  # Unique's step
    steps[at][0] = lambda ctx, *args: (np.zeros(1),)  # one output where two are due
    run = plan_codegen.generate([tuple(s) for s in steps], plan.template, plan.feed_slots,
                                plan.fetch_slots, plan.fetch_deref)
    with pytest.raises(errors.InternalError, match="Unique"):
        run([np.float32([1.0, 2.0])])


def test_big_plans_keep_the_loop(monkeypatch):
    monkeypatch.setattr(plan_codegen, "MAX_STEPS", 1)
    x, v, fetches = _graph()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess._plans.clear()
        got = sess.run(fetches[0], {x: np.float32([1.0, 2.0, 2.0])})
        assert _plan(sess)._generated is None
    assert got == 3.0 + 5.0 * 3  # sum(unique(floor(x))) + sum(x) * size(x)
