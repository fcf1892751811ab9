"""Bad shapes fed at run time through shape-less placeholders: the common kernels raise
InvalidArgumentError in TensorFlow's words, naming the op, never NumPy's own text."""
import re

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)

_NUMPY_TEXT = ("could not be broadcast", "gufunc", "AxisError", "IndexError", "ValueError",
               "out of bounds for axis", "cannot reshape", "too many indices",
               "array dimensions except")


def _p(dtype=tf.float32):
    return tf.placeholder(dtype)


def _expect(build, feeds, message):
    """Runs build(*placeholders) with `feeds` (one array per placeholder)."""
    dtypes = [tf.as_dtype(np.asarray(f).dtype) for f in feeds]
    with tf.Graph().as_default():
        holders = [_p(d) for d in dtypes]
        out = build(*holders)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.run(out, dict(zip(holders, feeds)))
    text = str(info.value)
    assert text.startswith(message), text
    assert f"'{out.op.name}'" in text and info.value.op is out.op, text
    assert not any(n in text for n in _NUMPY_TEXT), text


f23, f4, f5x3 = np.ones((2, 3), np.float32), np.ones(4, np.float32), np.ones((5, 3), np.float32)


@pytest.mark.parametrize("fn", [tf.add, tf.subtract, tf.multiply, tf.maximum, tf.pow,
                                tf.squared_difference, tf.floordiv, tf.truediv, tf.less,
                                tf.equal], ids=lambda f: f.__name__)
def test_broadcasting_binary_ops(fn):
    _expect(fn, [f23, f4], "Incompatible shapes: [2,3] vs. [4]")


def test_logical_binary_op():
    _expect(tf.logical_or, [np.ones((2, 3), bool), np.ones(4, bool)],
            "Incompatible shapes: [2,3] vs. [4]")


def test_matmul_inner_dimensions():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, None])
        b = tf.placeholder(tf.float32, [None, None])
        out = tf.matmul(a, b, transpose_b=True, name="mm")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="(?s)" + re.escape("Matrix size-incompatible: In[0]: "
                                                        "[2,3], In[1]: [2,4]") + ".*'mm'"):
                sess.run(out, {a: f23, b: np.ones((2, 4))})


def test_batch_matmul_inner_batch_and_rank():
    _expect(tf.matmul, [np.ones((2, 2, 3)), np.ones((2, 4, 2))],
            "In[0] mismatch In[1] shape: 3 vs. 4: [2,2,3] [2,4,2] 0 0")
    _expect(lambda x, y: tf.matmul(x, y, adjoint_a=True), [np.ones((2, 3, 2)),
                                                           np.ones((2, 4, 2))],
            "In[0] mismatch In[1] shape: 3 vs. 4: [2,3,2] [2,4,2] 1 0")
    _expect(tf.matmul, [np.ones((2, 2, 3)), np.ones((3, 3, 2))],
            "In[0].dim(0) and In[1].dim(0) must be the same: [2,2,3] vs [3,3,2]")
    _expect(tf.matmul, [np.ones((2, 3)), np.ones((2, 3, 4))],
            "In[0] and In[1] has different ndims: [2,3] vs. [2,3,4]")


def test_reshape():
    _expect(tf.reshape, [f23, np.array([4, 2], np.int32)],
            "Input to reshape is a tensor with 6 values, but the requested shape has 8")
    _expect(tf.reshape, [f23, np.array([4, -1], np.int32)],
            "Input to reshape is a tensor with 6 values, but the requested shape requires a "
            "multiple of 4")
    _expect(tf.reshape, [f23, np.array([-1, -1], np.int32)],
            "Only one input size may be -1, not both 0 and 1")


def test_gather():
    _expect(tf.gather, [f5x3, np.array([1, 7], np.int32)], "indices[1] = 7 is not in [0, 5)")
    _expect(tf.gather, [f5x3, np.array([[0, 1], [-1, 2]], np.int64)],
            "indices[1,0] = -1 is not in [0, 5)")
    _expect(lambda p, i: tf.gather(p, i, axis=1), [f5x3, np.array([3], np.int32)],
            "indices[0] = 3 is not in [0, 3)")


def test_concat():
    _expect(lambda a, b: tf.concat([a, b], 0), [f23, np.ones((2, 4), np.float32)],
            "ConcatOp : Dimensions of inputs should match: shape[0] = [2,3] vs. "
            "shape[1] = [2,4]")
    _expect(lambda a, b: tf.concat([a, b], 0), [f23, np.ones(2, np.float32)],
            "ConcatOp : Ranks of all input tensors should match: shape[0] = [2,3] vs. "
            "shape[1] = [2]")
    _expect(lambda a, b, k: tf.concat([a, b], k), [f23, f23, np.int32(3)],
            "ConcatOp : Expected concatenating dimensions in the range [-2, 2), but got 3")


def test_transpose():
    _expect(tf.transpose, [f23, np.array([0, 2], np.int32)], "2 is out of range [0 .. 2)")
    _expect(tf.transpose, [f23, np.array([0, 0], np.int32)], "1 is missing from {0,0}.")
    _expect(tf.transpose, [f23, np.array([2, 1, 0], np.int32)],
            "transpose expects a vector of size 2. But input(1) is a vector of size 3")


def test_slice_and_strided_slice():
    _expect(lambda x: tf.slice(x, [0, 0], [3, 1]), [f23], "Expected size[0] in [0, 2], but got 3")
    _expect(lambda x: tf.slice(x, [0, 4], [1, 1]), [f23], "Expected begin[1] in [0, 3], but got 4")
    _expect(lambda x: tf.slice(x, [0, 0], [1, 1]), [np.ones((2, 3, 4))],
            "Expected begin and size arguments to be 1-D tensors of size 3, but got shapes [2] "
            "and [2] instead.")
    _expect(lambda x: x[5], [f23], "slice index 5 of dimension 0 out of bounds.")
    _expect(lambda x: x[:, -4], [f23], "slice index -4 of dimension 1 out of bounds.")
    _expect(lambda x: x[:, 1, 2], [f23],
            "Index out of range using input dim 2; input has only 2 dims")


@pytest.mark.parametrize("fn", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_prod],
                         ids=lambda f: f.__name__)
def test_reductions_with_an_axis(fn):
    _expect(lambda x: fn(x, 3), [f23], "Invalid reduction dimension (3 for input with 2 "
                                       "dimension(s)")
    _expect(lambda x: fn(x, [-3]), [f23], "Invalid reduction dimension (-3 for input with 2 "
                                          "dimension(s)")
    _expect(lambda x: fn(x, [1, -1]), [f23], "Invalid reduction arguments: Axes contains "
                                             "duplicate dimension: 1")


def test_argmax_and_argmin():
    _expect(lambda x: tf.argmax(x, 2), [f23], "Expected dimension in the range [-2, 2), but got 2")
    _expect(lambda x: tf.argmin(x, -3), [f23],
            "Expected dimension in the range [-2, 2), but got -3")


def test_errors_that_are_not_about_shapes_keep_their_text():
    """Only broadcast failures are rewritten: another ValueError of the same kernel passes."""
    x, y = _p(tf.int32), _p(tf.int32)
    out = tf.pow(x, y)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="^ValueError: Integers to negative integer powers"):
            sess.run(out, {x: [2], y: [-1]})
