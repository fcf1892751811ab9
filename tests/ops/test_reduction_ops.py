"""Harness entries and behaviour tests for tensorflux/ops/reduction_ops.py (Sum's are in
test_core_ops.py)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, distinct, positive, run_spec, uniform, run_in_session as _run

FHI = [tf.float32, tf.float64, tf.float16, tf.bfloat16, tf.int32]


def _mean(x, **kw):
    """np.mean; integer means divide as C does (truncating), as TF's kernel."""
    mean = np.mean(x, **kw)
    return np.trunc(mean).astype(x.dtype) if x.dtype.kind in "iu" else mean


def _reduce(op, fn, ref, inputs=uniform, dtypes=None, name=""):
    return [OpSpec(op, lambda x: fn(x, 1), lambda x: ref(x, axis=1), [((3, 4),), ((2, 3, 4),)],
                   dtypes=dtypes, inputs=inputs, name=name + "_axis"),
            OpSpec(op, lambda x: fn(x, [0, -1], keep_dims=True),
                   lambda x: ref(x, axis=(0, 2), keepdims=True), [((2, 3, 4),)], dtypes=dtypes,
                   inputs=inputs, name=name + "_keep"),
            OpSpec(op, fn, lambda x: np.asarray(ref(x)), [((),), ((3, 4),)], dtypes=dtypes,
                   inputs=inputs, name=name + "_all")]


SPECS = [
    *_reduce("Mean", tf.reduce_mean, _mean, name="Mean"),
    *_reduce("Max", tf.reduce_max, np.max, distinct, FHI, name="Max"),
    *_reduce("Min", tf.reduce_min, np.min, distinct, FHI, name="Min"),
    *_reduce("Prod", tf.reduce_prod, np.prod, positive, name="Prod"),
    *_reduce("All", tf.reduce_all, np.all, dtypes=[tf.bool], name="All"),
    *_reduce("Any", tf.reduce_any, np.any, dtypes=[tf.bool], name="Any"),
    OpSpec("ArgMax", lambda x: tf.argmax(x, 1), lambda x: np.argmax(x, 1).astype(np.int64),
           [((3, 4),), ((2, 3, 4),)], dtypes=FHI, inputs=distinct),
    OpSpec("ArgMax", lambda x: tf.argmax(x, -2), lambda x: np.argmax(x, -2).astype(np.int64),
           [((2, 3, 4),)], inputs=distinct, name="ArgMax_negative_axis"),
    OpSpec("ArgMin", lambda x: tf.argmin(x, 0), lambda x: np.argmin(x, 0).astype(np.int64),
           [((3, 4),), ((5,),)], dtypes=FHI, inputs=distinct),
    OpSpec("ArgMin", lambda x: tf.argmin(x, -1), lambda x: np.argmin(x, -1).astype(np.int64),
           [((3, 4),)], inputs=distinct, name="ArgMin_negative_axis"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_reduction_keywords_of_both_generations():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    got = _run([tf.reduce_mean(x, reduction_indices=[1], keep_dims=True),
                tf.reduce_mean(x, axis=1, keepdims=True), tf.reduce_max(x, 0),
                tf.reduce_min(x), tf.reduce_prod(x, reduction_indices=0)])
    np.testing.assert_allclose(got[0], [[1.5], [3.5]])
    np.testing.assert_allclose(got[1], [[1.5], [3.5]])
    np.testing.assert_allclose(got[2], [3, 4])
    assert got[3] == 1
    np.testing.assert_allclose(got[4], [3, 8])
    with pytest.raises(ValueError, match="both"):
        tf.reduce_mean(x, axis=0, reduction_indices=0)
    assert _run(tf.reduce_mean(tf.constant([1, 2]))) == 1  # integer mean truncates
    np.testing.assert_allclose(_run(tf.reduce_sum(x, [])), _run(x))


def test_max_gradient_is_shared_among_ties():
    x = tf.constant([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]])
    g = _run(tf.gradients(tf.reduce_max(x, 1), x)[0])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    g = _run(tf.gradients(tf.reduce_min(x), x)[0])
    np.testing.assert_allclose(g, [[1, 0, 0], [0, 0, 0]])


def test_mean_gradient_with_unknown_dimensions():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.reduce_mean(x, 0)
    g = tf.gradients(y, x)[0]
    value = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(_run(g, {x: value}), np.full((4, 3), 0.25))


def test_argmax_keywords_and_output_type():
    x = tf.constant([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    got = _run([tf.argmax(x, 1), tf.argmax(x, dimension=0), tf.argmin(x, axis=1),
                tf.argmax(x, 1, output_type=tf.int32)])
    np.testing.assert_array_equal(got[0], [1, 0])
    np.testing.assert_array_equal(got[1], [1, 0, 0])
    np.testing.assert_array_equal(got[2], [0, 1])
    assert got[0].dtype == np.int64 and got[3].dtype == np.int32
    assert tf.argmax(x, 1).get_shape().as_list() == [2]


def test_prod_gradient_is_exact_with_zeros():
    # Rows with no zero, one zero and two zeros: the gradient is the product of the others.
    value = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 5.0], [0.0, 0.0, 2.0]])
    x = tf.constant(value)
    grad = tf.gradients(tf.reduce_sum(tf.reduce_prod(x, 1)), x)[0]
    want = np.array([[np.prod(np.delete(row, j)) for j in range(3)] for row in value])
    np.testing.assert_array_equal(_run(grad), want)
