"""Validation TensorFlow 0.9/1.0 does, with its wording: non-matrix matmul, bad fill dims,
negative pads, casts to and from strings, scalar concat, one_hot dtypes, in_top_k targets."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


def test_matmul_of_vectors_raises_instead_of_a_dot_product():
    with pytest.raises(ValueError, match=r"^Shape must be rank 2 but is rank 1 for 'MatMul' "
                                         r"\(op: 'MatMul'\) with input shapes: \[2\], \[2\]\."):
        tf.matmul([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="^Shape must be rank 2 but is rank 0 for 'mm'"):
        tf.matmul([[1.0]], 2.0, name="mm")


def test_matmul_of_fed_vectors_fails_at_run_time():
    a, b = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="^In\\[0\\] ndims must be >= 2: 1"):
        _run(tf.matmul(a, b), {a: [1.0, 2.0], b: [1.0, 2.0]})
    np.testing.assert_allclose(_run(tf.matmul(a, b), {a: [[1.0, 2.0]], b: [[3.0], [4.0]]}),
                               [[11.0]])


def test_fill_refuses_negative_or_non_vector_dims():
    with pytest.raises(ValueError, match=r"^Fill dimensions must be >= 0 for 'Fill' "
                                         r"\(op: 'Fill'\) with input shapes: \[2\], \[\]\."):
        tf.fill([-1, 2], 1.0)
    with pytest.raises(ValueError, match=r"^Shape must be rank 1 but is rank 2 for 'f' "
                                         r"\(op: 'Fill'\) with input shapes: \[1,2\], \[\]"):
        tf.fill([[1, 2]], 1.0, name="f")
    dims = tf.placeholder(tf.int32)
    out = tf.fill(dims, 1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Dimension -1 must be >= 0"):
        _run(out, {dims: [2, -1]})
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^dims must be a vector, got shape \[1,2\]"):
        _run(out, {dims: [[1, 2]]})
    assert _run(out, {dims: [2, 0]}).shape == (2, 0)


def test_pad_refuses_negative_paddings():
    with pytest.raises(ValueError, match="^Paddings must be non-negative: 0 -1 for 'Pad'"):
        tf.pad(tf.ones([2, 2]), [[0, 0], [0, -1]])
    paddings = tf.placeholder(tf.int32)
    padded = tf.pad(tf.ones([2, 2]), paddings)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="^Paddings must be non-negative: -2 1"):
        _run(padded, {paddings: [[-2, 1], [0, 0]]})
    assert _run(padded, {paddings: [[1, 0], [0, 2]]}).shape == (3, 4)


@pytest.mark.parametrize("value,dtype,wording", [
    ([1, 2], tf.string, "Cast int32 to string is not supported"),
    ([1.5], tf.string, "Cast float to string is not supported"),
    (np.array([b"1"], object), tf.int32, "Cast string to int32 is not supported"),
])
def test_cast_between_numbers_and_strings_is_unimplemented(value, dtype, wording):
    with pytest.raises(tf.errors.UnimplementedError, match="^" + wording):
        _run(tf.cast(value, dtype))


def test_concat_of_scalars_is_refused():
    with pytest.raises(ValueError, match=r"^Can't concatenate scalars \(use tf.stack instead\) "
                                         r"for 'concat' \(op: 'ConcatV2'\)"):
        tf.concat([tf.constant(1.0), tf.constant(2.0)], 0)
    with pytest.raises(ValueError, match=r"^Can't concatenate scalars"):
        tf.concat(0, [1.0, 2.0])
    x = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^ConcatOp : Expected concatenating dimensions in the range "
                             r"\[0, 0\), but got 0"):
        _run(tf.concat([x, x], 0), {x: 1.0})
    np.testing.assert_array_equal(_run(tf.concat([x, x], 0), {x: [1.0]}), [1.0, 1.0])


def test_one_hot_dtype_mismatches_are_type_errors():
    with pytest.raises(TypeError, match="^dtype <dtype: 'int32'> of off_value does not match "
                                        "dtype parameter <dtype: 'float32'>"):
        tf.one_hot([0, 1], 3, on_value=1.0, off_value=0, dtype=tf.float32)
    with pytest.raises(TypeError, match="^dtype <dtype: 'float32'> of on_value does not match "
                                        "dtype <dtype: 'int32'> of off_value"):
        tf.one_hot([0, 1], 3, on_value=1.0, off_value=0)
    ints = tf.one_hot([0, 2], 3, on_value=5, off_value=-1)
    assert ints.dtype == tf.int32
    np.testing.assert_array_equal(_run(ints), [[5, -1, -1], [-1, -1, 5]])
    assert tf.one_hot([1], 2, off_value=tf.constant(0.5, tf.float64)).dtype == tf.float64
    assert tf.one_hot([1], 2).dtype == tf.float32


def test_in_top_k_refuses_targets_outside_the_classes():
    predictions = np.array([[0.1, 0.9], [0.8, 0.2]], np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"^targets\[1\] is out of range"):
        _run(tf.nn.in_top_k(predictions, [1, 2], 1))
    np.testing.assert_array_equal(_run(tf.nn.in_top_k(predictions, [1, 1], 1)), [True, False])
