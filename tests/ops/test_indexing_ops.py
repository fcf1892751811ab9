"""Harness entries and behaviour tests for tensorflux/ops/indexing_ops.py."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, distinct, run_spec, run_in_session as run

I32 = [tf.int32]


def ints(low, high, dtype=tf.int32):
    """An input generator of integers in [low, high), whatever the spec's dtype."""
    def gen(rng, shape, _):
        return rng.integers(low, high, size=shape).astype(dtype.as_numpy_dtype)
    gen.dtype = dtype
    return gen


SPECS = [
    OpSpec("Gather", tf.gather, lambda p, i: p[i], [((5, 3), (2, 4)), ((4,), ()), ((4, 2), (6,))],
           inputs=[distinct, ints(0, 4)]),
    OpSpec("GatherV2", lambda p, i: tf.gather(p, i, axis=1), lambda p, i: np.take(p, i, 1),
           [((2, 5, 3), (4,)), ((2, 5), (2, 2))], inputs=[distinct, ints(0, 5)]),
    OpSpec("GatherV2", lambda p, i: tf.gather(p, i, axis=-1), lambda p, i: np.take(p, i, -1),
           [((2, 3), ())], inputs=[distinct, ints(0, 3)], name="GatherV2_last"),
    OpSpec("OneHot", lambda i: tf.one_hot(i, 4),
           lambda i: (i[..., None] == np.arange(4)).astype(np.float32), [((3,),), ((2, 2),)],
           inputs=[ints(-1, 4)], dtypes=[tf.float32]),
    OpSpec("OneHot", lambda i: tf.one_hot(i, 3, on_value=5, off_value=-1, axis=0),
           lambda i: np.where(np.arange(3)[:, None] == i, 5, -1).astype(np.int32), [((4,),)],
           inputs=[ints(0, 3, tf.int64)], dtypes=I32, name="OneHot_axis0"),
    OpSpec("Where", lambda: tf.where(tf.constant([[True, False], [True, True]])),
           lambda: np.array([[0, 0], [1, 0], [1, 1]], np.int64), [()], dtypes=I32,
           data_dependent_shape=True),
    OpSpec("DynamicPartition", lambda d: tf.dynamic_partition(d, [1, 0, 1, 2], 3),
           lambda d: [d[[1]], d[[0, 2]], d[[3]]], [((4,),), ((4, 2),)],
           data_dependent_shape=True),
    OpSpec("DynamicStitch", lambda a, b: tf.dynamic_stitch([[0, 3], [2, 1]], [a, b]),
           lambda a, b: np.stack([a[0], b[1], b[0], a[1]]), [((2,), (2,)), ((2, 3), (2, 3))]),
    OpSpec("DynamicStitch", lambda a, b: tf.dynamic_stitch([1, 0], [a, b]),
           lambda a, b: np.stack([b, a]), [((), ())], name="DynamicStitch_0d"),
    OpSpec("Unique", lambda: tf.unique(tf.constant([4, 1, 4, 7, 1])),
           lambda: [np.array([4, 1, 7], np.int32), np.array([0, 1, 0, 2, 1], np.int32)], [()],
           dtypes=I32),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



# ---- behaviour --------------------------------------------------------------------------------
def test_where_with_three_arguments_selects():
    got = run(tf.where([True, False], [1, 2], [3, 4]))
    np.testing.assert_array_equal(got, [1, 4])
    with pytest.raises(ValueError, match="both x and y"):
        tf.where([True], [1])


def test_where_coordinates_of_fed_values():
    c = tf.placeholder(tf.bool, [2, 3])
    where = tf.where(c)
    assert where.dtype == tf.int64 and where.get_shape().as_list() == [None, 2]
    value = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(run(where, {c: value}), np.argwhere(value))


def test_gather_gradient_is_indexed_slices():
    params = tf.placeholder(tf.float64, [4, 2])
    g, = tf.gradients(tf.reduce_sum(tf.gather(params, [3, 1, 3])), [params])
    assert isinstance(g, tf.IndexedSlices)
    values, indices, dense_shape = run([g.values, g.indices, g.dense_shape],
                                       {params: np.ones((4, 2))})
    assert indices.tolist() == [3, 1, 3] and dense_shape.tolist() == [4, 2]
    assert values.shape == (3, 2)


def test_gather_out_of_range_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"not in \[0, 3\)"):
        run(tf.gather([1, 2, 3], [0, 3]))


def test_boolean_mask_and_its_gradient():
    x = tf.placeholder(tf.float64, [3, 2])
    mask = tf.constant([True, False, True])
    masked = tf.boolean_mask(x, mask)
    value = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(run(masked, {x: value}), value[[0, 2]])
    g, = tf.gradients(tf.reduce_sum(masked * 3.0), [x])
    np.testing.assert_array_equal(run(tf.convert_to_tensor(g) if isinstance(g, tf.Tensor)
                                      else g, {x: value}), [[3, 3], [0, 0], [3, 3]])


def test_one_hot_defaults_and_dtype():
    t = tf.one_hot([0, 2], 3, dtype=tf.int32)
    assert t.dtype == tf.int32 and t.get_shape().as_list() == [2, 3]
    np.testing.assert_array_equal(run(t), [[1, 0, 0], [0, 0, 1]])
