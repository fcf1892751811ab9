"""Harness entries and behaviour tests for the state ops (variables, assign, scatter, count)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.ops import state_ops


def fresh(x):
    """A new variable holding `x`: the ref output of its Assign, so ops on it run after."""
    var = state_ops.variable_op(x.get_shape(), x.dtype.base_dtype)
    return state_ops.assign(var, x, validate_shape=False)


def index_gen(n):
    """Distinct indices in [0, n) (int32), as many as the shape asks for."""
    def gen(rng, shape, dtype):
        size = int(np.prod(shape, dtype=np.int64))
        return rng.permutation(n)[:size].reshape(shape).astype(np.int32)
    gen.dtype = tf.int32
    return gen


def dup_index_gen(rng, shape, dtype):
    """Indices with repeats: [0, 0, 1, ...] clipped to the shape."""
    size = int(np.prod(shape, dtype=np.int64))
    return (np.arange(size) // 2).reshape(shape).astype(np.int32)


dup_index_gen.dtype = tf.int32


def _scatter_ref(kind):
    def ref(x, i, u):
        out = x.copy()
        if kind == "update":
            out[i] = u
        elif kind == "add":
            np.add.at(out, i, u)
        else:
            np.subtract.at(out, i, u)
        return out
    return ref


def _unique_uniform(rng, shape, dtype):
    return rng.uniform(-1, 1, size=shape).astype(tf.as_dtype(dtype).as_numpy_dtype)


def _check_count_up_to(spec):
    v = tf.Variable(3, dtype=tf.int32)
    c = tf.count_up_to(v, 5)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(c), sess.run(c)] == [3, 4]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 5"):
            sess.run(c)
        assert sess.run(v) == 5


SPECS = [
    OpSpec("Assign", lambda x, y: state_ops.assign(fresh(x), y), lambda x, y: y,
           [((3, 4), (3, 4)), ((), ())]),
    OpSpec("AssignAdd", lambda x, y: state_ops.assign_add(fresh(x), y), np.add,
           [((3, 4), (3, 4)), ((), ())]),
    OpSpec("AssignSub", lambda x, y: state_ops.assign_sub(fresh(x), y), np.subtract,
           [((3, 4), (3, 4)), ((), ())]),
    OpSpec("VariableV2", lambda x: fresh(x), lambda x: x, [((2, 3),), ((),)]),
    OpSpec("IsVariableInitialized", lambda x: state_ops.is_variable_initialized(fresh(x)),
           lambda x: np.array(True), [((2,),)]),
    OpSpec("ScatterUpdate", lambda x, i, u: state_ops.scatter_update(fresh(x), i, u),
           _scatter_ref("update"), [((5, 3), (2,), (2, 3)), ((4,), (3,), (3,)),
                                    ((5, 2), (), (2,)), ((4, 2), (2, 2), (2, 2, 2))],
           inputs=[_unique_uniform, index_gen(4), _unique_uniform]),
    OpSpec("ScatterAdd", lambda x, i, u: state_ops.scatter_add(fresh(x), i, u),
           _scatter_ref("add"), [((5, 3), (4,), (4, 3)), ((4,), (3,), (3,))],
           inputs=[_unique_uniform, dup_index_gen, _unique_uniform]),
    OpSpec("ScatterSub", lambda x, i, u: state_ops.scatter_sub(fresh(x), i, u),
           _scatter_ref("sub"), [((5, 3), (4,), (4, 3)), ((4, 2), (2, 2), (2, 2, 2))],
           inputs=[_unique_uniform, dup_index_gen, _unique_uniform]),
    OpSpec("CountUpTo", lambda x: state_ops.count_up_to(fresh(x), 100), lambda x: x,
           [((),)], dtypes=[tf.int32, tf.int64], check=_check_count_up_to),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_uninitialized_variable_names_itself():
    v = tf.Variable(tf.zeros([2]), name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="weights"):
            sess.run(v)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value weights"):
            sess.run(v + 1)


def test_scatter_bad_index_names_op_and_index():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    up = tf.scatter_update(v, [0, 7], np.ones((2, 2), np.float32), name="my_scatter")
    with tf.Session() as sess:
        sess.run(v.initializer)
        want = r"^indices\[1\] = 7 is not in \[0, 3\) \(ScatterUpdate 'my_scatter'\)"
        with pytest.raises(tf.errors.InvalidArgumentError, match=want):
            sess.run(up)
        neg = tf.scatter_add(v, [-1], np.ones((1, 2), np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1"):
            sess.run(neg)


def test_scatter_static_shape_error():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="updates"):
        tf.scatter_sub(v, [0, 1], np.ones((2, 3), np.float32))


def test_scatter_updates_variable_and_keeps_fetched_values():
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    add = tf.scatter_add(v, tf.constant([2, 2], tf.int64), np.ones((2, 2), np.float32))
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(v)
        after = sess.run(add)
        np.testing.assert_array_equal(before, np.arange(6).reshape(3, 2))
        np.testing.assert_array_equal(after, [[0, 1], [2, 3], [6, 7]])
        np.testing.assert_array_equal(sess.run(v), after)


def test_variable_scatter_sub_method():
    v = tf.Variable([1.0, 2.0, 3.0])
    op = v.scatter_sub(tf.IndexedSlices(tf.constant([0.5]), tf.constant([1])))
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run(op), [1.0, 1.5, 3.0])


def test_assign_add_keeps_earlier_fetch():
    v = tf.Variable([1.0, 2.0])
    inc = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        first = sess.run(v)
        sess.run(inc)
        np.testing.assert_array_equal(first, [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_count_up_to_requires_int_scalar():
    with pytest.raises(TypeError, match="^Value passed to parameter 'ref' has DataType float32 "
                                        "not in list of allowed values"):
        tf.count_up_to(tf.Variable([1.0]), 3)
    with pytest.raises(ValueError, match="scalar"):
        tf.count_up_to(tf.Variable([1, 2]), 3)
