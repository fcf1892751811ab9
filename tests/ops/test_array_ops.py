"""Harness entries and behaviour tests for tensorflux/ops/array_ops.py and constant_op.py.

The families split out of array_ops have their own files: test_slicing_ops.py,
test_joining_ops.py and test_indexing_ops.py."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as run

I32 = [tf.int32]

SPECS = [
    OpSpec("Const", lambda: tf.constant([[1.5, 2.0]]), lambda: np.array([[1.5, 2.0]], np.float32),
           [()], dtypes=[tf.float32]),
    OpSpec("Placeholder", lambda x: x, lambda x: x, [((2, 3),), ((),)]),
    OpSpec("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, x.get_shape()),
           lambda x: x, [((2, 3),), ((),)]),
    OpSpec("StopGradient", tf.stop_gradient, lambda x: x, [((2, 3),), ((),)]),
    OpSpec("Size", tf.size, lambda x: np.array(x.size, np.int32), [((2, 3),), ((),)]),
    OpSpec("Rank", tf.rank, lambda x: np.array(x.ndim, np.int32), [((2, 3),), ((),)]),
    OpSpec("ShapeN", lambda x, y: tf.shape_n([x, y]),
           lambda x, y: [np.array(x.shape, np.int32), np.array(y.shape, np.int32)],
           [((2, 3), ()), ((1,), (4, 5, 6))]),
    OpSpec("ExpandDims", lambda x: tf.expand_dims(x, -1), lambda x: np.expand_dims(x, -1),
           [((2, 3),), ((),)]),
    OpSpec("ExpandDims", lambda x: tf.expand_dims(x, dim=1), lambda x: np.expand_dims(x, 1),
           [((2, 3),)], name="ExpandDims_dim"),
    OpSpec("Squeeze", tf.squeeze, np.squeeze, [((1, 3, 1),), ((),), ((2, 3),)]),
    OpSpec("Squeeze", lambda x: tf.squeeze(x, squeeze_dims=[2]), lambda x: np.squeeze(x, 2),
           [((1, 3, 1),)], name="Squeeze_dims"),
    OpSpec("Range", lambda: tf.range(2, 11, 3), lambda: np.arange(2, 11, 3, dtype=np.int32),
           [()], dtypes=I32),
    OpSpec("Range", lambda: tf.range(1.0, 0.0, -0.25), lambda: np.arange(1, 0, -0.25, np.float32),
           [()], dtypes=[tf.float32], name="Range_float"),
    OpSpec("Reverse", lambda x: tf.reverse(x, [True, False, True]),
           lambda x: x[::-1, :, ::-1], [((2, 3, 2),)]),
    OpSpec("ReverseV2", lambda x: tf.reverse(x, [1]), lambda x: x[:, ::-1], [((2, 3),)]),
    OpSpec("ReverseV2", lambda x: tf.reverse(x, [-1, 0]), lambda x: x[::-1, ::-1], [((2, 3),)],
           name="ReverseV2_negative_axis"),
    OpSpec("ReverseV2", lambda x: tf.reverse_v2(x, []), lambda x: x, [((),)],
           name="ReverseV2_0d"),
    OpSpec("Transpose", tf.transpose, np.transpose, [((2, 3, 4),), ((),)]),
    OpSpec("Transpose", lambda x: tf.transpose(x, [1, 2, 0]),
           lambda x: np.transpose(x, [1, 2, 0]), [((2, 3, 4),)], name="Transpose_perm"),
    OpSpec("InvertPermutation", tf.invert_permutation, np.argsort, [((5,),)],
           inputs=[lambda rng, shape, _: rng.permutation(shape[0]).astype(np.int32)],
           dtypes=I32),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



# ---- API generations ------------------------------------------------------------------------
def test_expand_dims_and_squeeze_keywords():
    x = tf.zeros([2, 1, 3])
    assert tf.expand_dims(x, axis=0).get_shape().as_list() == [1, 2, 1, 3]
    assert tf.squeeze(x, axis=1).get_shape().as_list() == [2, 3]
    assert tf.squeeze(x, [1]).op.get_attr("squeeze_dims") == [1]
    with pytest.raises(ValueError, match="axis"):
        tf.expand_dims(x)
    with pytest.raises(ValueError, match="dimension of 1, got 2"):
        tf.squeeze(x, [0])


def test_reverse_dispatches_on_dtype():
    x = tf.constant([[1, 2], [3, 4]])
    assert tf.reverse(x, [False, True]).op.type == "Reverse"
    assert tf.reverse(x, [1]).op.type == "ReverseV2"
    np.testing.assert_array_equal(run(tf.reverse(x, [0])), [[3, 4], [1, 2]])


# ---- other behaviour ------------------------------------------------------------------------
def test_range_argument_handling():
    assert run(tf.range(4)).tolist() == [0, 1, 2, 3]
    assert run(tf.range(2, 5)).tolist() == [2, 3, 4]
    assert tf.range(3.0).dtype == tf.float32
    assert tf.range(0, 3, dtype=tf.int64).dtype == tf.int64
    assert tf.range(1, 10, 4).get_shape().as_list() == [3]
    n = tf.placeholder(tf.int32, [])
    assert run(tf.range(n, 0, -2), {n: 5}).tolist() == [5, 3, 1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="delta"):
        run(tf.range(0, n, 0), {n: 3})


def test_transpose_unknown_rank_reverses():
    x = tf.placeholder(tf.float32)
    value = np.zeros((2, 3, 4), np.float32)
    assert run(tf.transpose(x), {x: value}).shape == (4, 3, 2)


def test_zeros_and_fill_with_tensor_dims():
    n = tf.placeholder(tf.int32, [])
    assert run(tf.zeros([n, 2]), {n: 3}).shape == (3, 2)
    assert run(tf.ones(tf.stack([2, n]), tf.int32), {n: 1}).tolist() == [[1], [1]]


def test_placeholder_with_default_can_be_fed():
    p = tf.placeholder_with_default(tf.constant([1, 2]), [None])
    assert p.get_shape().as_list() == [None]
    assert run(p).tolist() == [1, 2]
    assert run(p, {p: [5, 6, 7]}).tolist() == [5, 6, 7]


def test_stop_gradient_blocks():
    x = tf.placeholder(tf.float32, [2])
    assert tf.gradients(tf.reduce_sum(tf.stop_gradient(x)), [x]) == [None]


def test_constant_folding_of_shape_arithmetic():
    x = tf.zeros([2, 3])
    from tensorflux.framework import tensor_util
    assert tensor_util.constant_value(tf.size(x)) == 6
    assert tensor_util.constant_value(tf.rank(x)) == 2
    assert tensor_util.constant_value(tf.concat([tf.shape(x), [4]], 0)).tolist() == [2, 3, 4]
    assert tensor_util.constant_value(tf.stack([1, 2])).tolist() == [1, 2]
    assert tensor_util.constant_value(tf.slice(tf.shape(x), [1], [1])).tolist() == [3]


# ---- tf.constant ------------------------------------------------------------------------------
def test_constant_arguments():
    assert run(tf.constant(7, shape=[2, 2])).tolist() == [[7, 7], [7, 7]]
    assert run(tf.constant([1, 2, 3, 4], shape=[2, 2])).tolist() == [[1, 2], [3, 4]]
    assert tf.constant(1, dtype=tf.float64).dtype == tf.float64
    assert tf.constant(1.0, name="c").op.name == "c"
    with pytest.raises(TypeError, match="shape"):
        tf.constant([1, 2], shape=[3], verify_shape=True)
    with pytest.raises(TypeError, match="Expected int32, got 1.5"):
        tf.constant(1.5, dtype=tf.int32)
