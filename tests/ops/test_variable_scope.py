"""tf.variable_scope / tf.get_variable: naming, reuse, inheritance, errors."""
import numpy as np
import pytest

import tensorflux as tf


def test_get_variable_names_and_default_initializer():
    with tf.variable_scope("foo"):
        w = tf.get_variable("w", [3, 4])
        c = tf.get_variable("c", [2], dtype=tf.int32)
    assert w.op.name == "foo/w" and w.get_shape().as_list() == [3, 4]
    assert w.dtype.base_dtype == tf.float32 and c.dtype.base_dtype == tf.int32
    assert w in tf.trainable_variables() and w in tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(w)
        np.testing.assert_array_equal(sess.run(c), [0, 0])
    limit = np.sqrt(6.0 / 7)  # glorot uniform
    assert np.all(np.abs(value) <= limit) and np.std(value) > 0


def test_reuse_returns_same_variable():
    with tf.variable_scope("foo"):
        w = tf.get_variable("w", [2])
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("w", [2]) is w
        assert tf.get_variable("w") is w
    with tf.variable_scope("foo") as scope:
        scope.reuse_variables()
        assert scope.reuse and tf.get_variable_scope().reuse
        assert tf.get_variable("w") is w
        with tf.variable_scope("inner"):
            assert tf.get_variable_scope().reuse  # inherited


def test_reuse_errors():
    with tf.variable_scope("foo"):
        tf.get_variable("w", [2])
        with pytest.raises(ValueError, match=r"Variable foo/w already exists, disallowed\. "
                                             r"Did you mean to set reuse=True in VarScope\?"):
            tf.get_variable("w", [2])
    with tf.variable_scope("foo", reuse=True):
        with pytest.raises(ValueError, match=r"Variable foo/v does not exist, or was not "
                                             r"created with tf.get_variable\(\)"):
            tf.get_variable("v", [2])
        with pytest.raises(ValueError, match=r"Trying to share variable foo/w, but specified "
                                             r"shape \(3,\)"):
            tf.get_variable("w", [3])
        with pytest.raises(ValueError, match="specified dtype float64"):
            tf.get_variable("w", [2], dtype=tf.float64)
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("x", [None, 2])
    with pytest.raises(ValueError, match="name_or_scope is required"):
        with tf.variable_scope(None):
            pass


def test_plain_variable_is_not_reusable():
    tf.Variable(1.0, name="v")
    with tf.variable_scope("", reuse=True):
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("v", [])


def test_variable_scope_opens_name_scope():
    with tf.variable_scope("foo") as scope:
        assert scope.name == "foo" and scope.original_name_scope == "foo/"
        x = tf.constant(1.0, name="x")
        v = tf.get_variable("v", [])
    with tf.variable_scope("foo", reuse=True):
        y = tf.constant(1.0, name="y")
        assert tf.get_variable("v") is v
    assert x.op.name == "foo/x"
    assert y.op.name == "foo_1/y"  # name scopes are unique; variable names are not
    with tf.name_scope("outer"):
        with tf.variable_scope("vs"):
            u = tf.get_variable("u", [])
            z = tf.constant(0.0, name="z")
    assert u.op.name == "vs/u"  # variable names ignore name scopes
    assert z.op.name == "outer/vs/z"


def test_reenter_scope_object():
    with tf.variable_scope("foo") as foo:
        pass
    with tf.variable_scope("bar"):
        with tf.variable_scope(foo) as again:
            assert again.name == "foo"
            w = tf.get_variable("w", [])
            c = tf.constant(0.0, name="c")
        with tf.variable_scope(foo, reuse=True):
            assert tf.get_variable("w") is w
    assert w.op.name == "foo/w"
    assert c.op.name == "foo/c"  # the original name scope is re-entered


def test_default_name_uniquified():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="layer"):
            names.append(tf.get_variable("w", []).op.name)
    assert names == ["layer/w", "layer_1/w", "layer_2/w"]
    with pytest.raises(ValueError, match="reuse=True cannot be used"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass


def test_initializer_and_dtype_inheritance():
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5)):
        a = tf.get_variable("a", [2])
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [2])
            c = tf.get_variable("c", [2], initializer=tf.ones_initializer())
        d = tf.get_variable("d", [2], initializer=tf.zeros_initializer)  # TF 0.9 style
    with tf.variable_scope("t", dtype=tf.float64):
        e = tf.get_variable("e", [1], initializer=tf.constant_initializer(2.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run([a, b, c, d]),
                                      [[0.5, 0.5], [0.5, 0.5], [1, 1], [0, 0]])
        assert sess.run(e).dtype == np.float64


def test_initializer_value_or_tensor():
    v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0]))
    u = tf.get_variable("u", initializer=np.arange(3, dtype=np.int64))
    assert v.get_shape().as_list() == [2] and u.dtype.base_dtype == tf.int64
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_old_style_initializer_without_partition_info():
    def init(shape, dtype=tf.float32):
        return tf.fill(shape, tf.cast(3.0, dtype))
    v = tf.get_variable("v", [2], initializer=init)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [3.0, 3.0])


def test_regularizer_and_collections():
    def reg(v):
        return tf.reduce_sum(v) * 0.5
    with tf.variable_scope("r", regularizer=reg):
        v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
        tf.get_variable("n", [2], regularizer=tf.no_regularizer)
    local = tf.get_local_variable("loc", [1])
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1 and losses[0].op.name.startswith("r/v/Regularizer/")
    assert local in tf.local_variables() and local not in tf.trainable_variables()
    nt = tf.get_variable("nt", [1], trainable=False, collections=["mine"])
    assert tf.get_collection("mine") == [nt] and nt not in tf.global_variables()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(losses[0]) == 1.0


def test_custom_getter():
    seen = []

    def getter(next_getter, name, *args, **kwargs):
        seen.append(name)
        return next_getter(name, *args, **kwargs)
    with tf.variable_scope("g", custom_getter=getter):
        tf.get_variable("w", [1])
    assert seen == ["g/w"]


def test_scope_state_is_per_graph_and_api_names():
    with tf.variable_scope("foo"):
        tf.get_variable("w", [1])
    with tf.Graph().as_default():
        assert tf.get_variable_scope().name == ""
        with tf.variable_scope("foo"):
            tf.get_variable("w", [1])  # no clash: another graph's store
    assert isinstance(tf.get_variable_scope(), tf.VariableScope)
    with tf.variable_op_scope([], "old", "default"):
        assert tf.get_variable_scope().name == "old"
