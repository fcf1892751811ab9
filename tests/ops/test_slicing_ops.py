"""Harness entries and behaviour tests for tensorflux/ops/slicing_ops.py and Tensor.__getitem__."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, distinct, run_spec, run_in_session as run
from tensorflux.framework.op_def_library import apply_op


def ints(low, high, dtype=tf.int32):
    """An input generator of integers in [low, high), whatever the spec's dtype."""
    def gen(rng, shape, _):
        return rng.integers(low, high, size=shape).astype(dtype.as_numpy_dtype)
    gen.dtype = dtype
    return gen


def strided_slice_grad_ref(dy):
    out = np.zeros((3, 4), dy.dtype)
    out[1:3, 0:4:2] = dy
    return out


SPECS = [
    OpSpec("Slice", lambda x: tf.slice(x, [1, 0], [2, -1]), lambda x: x[1:3, :],
           [((3, 4),)]),
    OpSpec("Slice", lambda x: tf.slice(x, [], []), lambda x: x, [((),)], name="Slice_0d"),
    OpSpec("StridedSlice", lambda x: x[1, ::-2, tf.newaxis, 1:],
           lambda x: x[1, ::-2, None, 1:], [((3, 4, 5),)]),
    OpSpec("StridedSlice", lambda x: x[..., -1], lambda x: x[..., -1], [((3, 4, 5),), ((2,),)],
           name="StridedSlice_ellipsis"),
    OpSpec("StridedSlice", lambda x: x[tf.newaxis, ...], lambda x: x[None, ...], [((),)],
           name="StridedSlice_0d"),
    OpSpec("StridedSlice", lambda x, i: x[i, :2], lambda x, i: x[i, :2], [((4, 3), ())],
           inputs=[distinct, ints(0, 4)], name="StridedSlice_tensor_index"),
    OpSpec("StridedSliceGrad",
           lambda dy: apply_op("StridedSliceGrad", [3, 4], [1, 0], [3, 4], [1, 2], dy),
           strided_slice_grad_ref, [((2, 2),)]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



# ---- __getitem__ and strided_slice --------------------------------------------------------------
def test_getitem_matches_numpy():
    value = np.arange(60).reshape(3, 4, 5)
    x = tf.constant(value)
    keys = [(1,), (-1, 2), (slice(None, None, -1),), (Ellipsis, 1), (1, Ellipsis, None, 2),
            (slice(1, None), slice(None, -1, 2), slice(4, 0, -2)), (None, None, 0),
            (slice(-100, 100),), ()]
    for key in keys:
        t = x[key]
        assert t.get_shape().as_list() == list(value[key].shape), key
        np.testing.assert_array_equal(run(t), value[key], err_msg=str(key))


def test_getitem_tensor_indices_and_static_shape():
    x = tf.placeholder(tf.float32, [None, 4])
    i = tf.placeholder(tf.int64, [])
    row = x[i]
    assert row.get_shape().as_list() == [4]
    value = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(run(row, {x: value, i: 1}), value[1])
    assert x[i:, 1].get_shape().as_list() == [None]
    # a dim picked out of a partly known shape folds to a constant
    assert tf.reshape(x, [tf.shape(x)[0], 2, 2]).get_shape().as_list() == [None, 2, 2]
    assert tf.reshape(x, [-1, tf.shape(x)[1]]).get_shape().as_list() == [None, 4]


def test_getitem_rejects_bad_indices():
    x = tf.constant([1, 2, 3])
    with pytest.raises(TypeError, match="valid indices"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="valid indices"):
        x[tf.constant(1.0)]
    with pytest.raises(ValueError, match="zero"):
        x[::0]
    with pytest.raises(ValueError, match="out of range"):
        x[tf.constant(5)]
    i = tf.placeholder(tf.int32, [])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="slice index 5 of dimension 0 out of bounds"):
        run(x[i], {i: 5})


def test_strided_slice_masks():
    value = np.arange(24).reshape(2, 3, 4)
    t = tf.strided_slice(value, [0, 1, 0, 0], [0, 3, 0, 3], [1, 1, 1, 1], begin_mask=1,
                         end_mask=1, new_axis_mask=4, shrink_axis_mask=0)
    np.testing.assert_array_equal(run(t), value[:, 1:3, None, 0:3])
    t = tf.strided_slice(value, [1, 0], [0, 0], [1, 1], ellipsis_mask=2, shrink_axis_mask=1)
    np.testing.assert_array_equal(run(t), value[1, ...])


def test_getitem_gradient_scatters_back():
    x = tf.placeholder(tf.float64, [3, 4])
    g, = tf.gradients(tf.reduce_sum(x[1:, ::2] * 2.0), [x])
    want = np.zeros((3, 4))
    want[1:, ::2] = 2.0
    np.testing.assert_array_equal(run(g, {x: np.ones((3, 4))}), want)
