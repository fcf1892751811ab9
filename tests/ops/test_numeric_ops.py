"""Harness entry for LinSpace; tf.saturate_cast."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run


# num is a constant: the harness wants a fully known static shape from known input shapes.
SPECS = [
    OpSpec("LinSpace", lambda a, b: tf.linspace(a, b, 4),
           lambda a, b: np.linspace(a, b, 4).astype(a.dtype), [((), ())], grad=()),
    OpSpec("LinSpace", lambda a, b: tf.lin_space(a, b, tf.constant(1, tf.int64)),
           lambda a, b: np.linspace(a, b, 1).astype(a.dtype), [((), ())], grad=(),
           name="LinSpace_int64_num"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_linspace_values_and_static_shape():
    x = tf.linspace(10.0, 12.0, 3)
    assert x.get_shape().as_list() == [3]
    np.testing.assert_allclose(_run(x), [10.0, 11.0, 12.0])
    np.testing.assert_allclose(_run(tf.linspace(5.0, 9.0, 1)), [5.0])
    with pytest.raises(ValueError, match="num > 0"):
        tf.linspace(0.0, 1.0, 0)
    n = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires num > 0: -1"):
        _run(tf.linspace(0.0, 1.0, n), {n: -1})


def test_saturate_cast_clips_to_the_target_range():
    got = _run([tf.saturate_cast([-300.0, 1.5, 300.0], tf.uint8),
                tf.saturate_cast(tf.constant([3e9, -3e9], tf.float32), tf.int32),
                tf.saturate_cast(tf.constant([70000, -5], tf.int32), tf.int16),
                tf.saturate_cast(tf.constant([1 + 2j]), tf.float32)])
    np.testing.assert_array_equal(got[0], [0, 1, 255])
    assert got[0].dtype == np.uint8
    assert got[1][0] > 2147483000 and got[1][1] == -2147483648
    np.testing.assert_array_equal(got[2], [32767, -5])
    np.testing.assert_array_equal(got[3], [1.0])
