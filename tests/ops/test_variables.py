"""tf.Variable behaviour, initialization helpers and uninitialized-variable errors."""
import numpy as np
import pytest

import tensorflux as tf


def test_variable_ops_names_and_collections():
    v = tf.Variable([1.0, 2.0], name="v")
    assert v.op.type == "VariableV2" and v.op.name == "v"
    assert v.initializer.name == "v/Assign" and v.value().op.name == "v/read"
    assert v.dtype == tf.float32_ref and v.get_shape().as_list() == [2]
    assert tf.global_variables() == [v] and tf.trainable_variables() == [v]
    n = tf.Variable(0, trainable=False)
    assert n not in tf.trainable_variables() and n.op.name == "Variable"


def test_uninitialized_error_names_variable():
    v = tf.Variable(tf.zeros([3]), name="my_var")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value my_var"):
            sess.run(v * 2.0)
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [0, 0, 0])


def test_initialized_value_runs_initializer_first():
    a = tf.Variable(tf.constant([1.0, 2.0]), name="a")
    b = tf.Variable(a.initialized_value() * 2.0, name="b")
    with tf.Session() as sess:
        sess.run(b.initializer)
        np.testing.assert_array_equal(sess.run(b), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])


def test_is_variable_initialized_and_report():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        assert not sess.run(tf.is_variable_initialized(a))
        assert list(sess.run(report)) == [b"a", b"b"]
        sess.run(a.initializer)
        assert sess.run(tf.is_variable_initialized(a))
        assert list(sess.run(report)) == [b"b"]
        sess.run(b.initializer)
        assert sess.run(report).shape == (0,)
        assert sess.run(tf.report_uninitialized_variables([])).shape == (0,)


def test_assert_variables_initialized():
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(np.zeros((2, 2)), name="b")
    check = tf.assert_variables_initialized()
    with tf.Session() as sess:
        sess.run(a.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value b"):
            sess.run(check)
        sess.run(b.initializer)
        sess.run(check)


def test_variable_updates_and_initializers():
    v = tf.Variable([1, 2], name="v")
    inc = v.assign_add([10, 10])
    with tf.Session() as sess:
        sess.run(tf.initialize_all_variables())  # 0.9 name
        np.testing.assert_array_equal(sess.run(inc), [11, 12])
        sess.run(v.assign([0, 0]))
        np.testing.assert_array_equal(sess.run(v.assign_sub([1, 1])), [-1, -1])
        sess.run(tf.variables_initializer([v]))
        np.testing.assert_array_equal(sess.run(v), [1, 2])
        v.load([5, 6], sess)
        np.testing.assert_array_equal(v.eval(sess), [5, 6])


def test_count_up_to_on_variable():
    v = tf.Variable(0, name="counter")
    c = v.count_up_to(2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(c), sess.run(c)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(c)


def test_variable_validate_shape_false():
    p = tf.placeholder(tf.float32)
    v = tf.Variable(p, validate_shape=False)
    assert v.get_shape().ndims is None
    with tf.Session() as sess:
        sess.run(v.initializer, {p: np.ones((2, 3))})
        assert sess.run(v).shape == (2, 3)


def test_variable_errors():
    with pytest.raises(ValueError, match="initial_value must be specified"):
        tf.Variable()
    v = tf.Variable(0.0)
    assert bool(v) is True  # TF 0.9-1.x: a Variable is truthy (Keras 1.x writes `if b:`)
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        bool(v.value())  # a Tensor still refuses
    with pytest.raises(TypeError, match="not iterable"):
        iter(v)


def test_variable_created_in_a_while_loop_initializes_outside_it():
    def body(i, acc):
        w = tf.get_variable("w_in_loop", [], initializer=tf.constant_initializer(2.0))
        return i + 1, acc * w

    _, result = tf.while_loop(lambda i, acc: i < 3, body, [tf.constant(0), tf.constant(1.0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(result) == 8.0
