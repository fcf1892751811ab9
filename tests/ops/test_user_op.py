"""Acceptance: a user-defined op (kernel + shape + gradient registered from Python) trains
inside a model; RegisterGradient + gradient_override_map replace a built-in op's gradient."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common

# ---- the user's op, declared exactly as a library op would be ------------------------------
UserScaledTanh = registry.register_op("UserScaledTanh", inputs=["x: T"], outputs=["y: T"],
                                      attrs={"scale": 1.0, "T": common.FLOATS})


@UserScaledTanh.shape
def _user_scaled_tanh_shape(op):
    return op.inputs[0].get_shape()


@UserScaledTanh.gradient
def _user_scaled_tanh_grad(op, grad):
    # y = s * tanh(x)  =>  dy/dx = s * (1 - tanh(x)^2) = s - y^2 / s
    scale = op.get_attr("scale")
    y = op.outputs[0]
    return [grad * (scale - tf.square(y) * (1.0 / scale))]


@UserScaledTanh.kernel("CPU")
def _user_scaled_tanh_kernel(ctx, x):
    return (ctx.attrs["scale"] * np.tanh(x)).astype(ctx.attrs["T"].as_numpy_dtype)


def user_scaled_tanh(x, scale=1.0, name=None):
    """scale * tanh(x), computed by the user's kernel."""
    return apply_op("UserScaledTanh", x, scale=float(scale), name=name)


SPECS = [
    OpSpec("UserScaledTanh", lambda x: user_scaled_tanh(x, 2.5), lambda x: 2.5 * np.tanh(x),
           [((3, 4),), ((),)]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_user_op_records_attrs_and_shape():
    x = tf.placeholder(tf.float32, [None, 3])
    y = user_scaled_tanh(x, 3, name="squash")
    assert y.op.type == "UserScaledTanh" and y.op.name == "squash"
    assert y.op.get_attr("scale") == 3.0
    assert y.get_shape().as_list() == [None, 3]
    with pytest.raises(TypeError, match="int32"):
        user_scaled_tanh(tf.constant([1, 2]))


def test_user_op_trains_inside_a_model():
    rng = np.random.default_rng(0)
    true_w = np.array([[0.5], [-1.0], [0.25]], np.float32)
    inputs = rng.uniform(-1, 1, size=(64, 3)).astype(np.float32)
    targets = 2.0 * np.tanh(inputs @ true_w + 0.1)

    x = tf.placeholder(tf.float32, [None, 3])
    y_ = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(tf.zeros([1]))
    prediction = user_scaled_tanh(tf.matmul(x, w) + b, scale=2.0)
    loss = tf.reduce_sum(tf.square(prediction - y_)) * (1.0 / 64)
    # The bias direction has curvature 2 * scale**2 = 8, so plain gradient descent needs a
    # learning rate below 2 / 8; 0.1 converges steadily.
    train_step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feed = {x: inputs, y_: targets}
    with tf.Session() as sess:
        sess.run(tf.initialize_all_variables())
        first = sess.run(loss, feed)
        for _ in range(300):
            sess.run(train_step, feed)
        last = sess.run(loss, feed)
        learned = sess.run(w)
    assert last < 0.01 * first, (first, last)
    np.testing.assert_allclose(learned, true_w, atol=0.05)


def test_register_gradient_overrides_builtin_op_gradient():
    @tf.RegisterGradient("TestUserOpStraightThroughSquare")
    def _straight_through(op, grad):
        return [grad * 3.0]

    x = tf.constant([1.0, -2.0, 4.0])
    graph = tf.get_default_graph()
    with graph.gradient_override_map({"Square": "TestUserOpStraightThroughSquare"}):
        overridden = tf.square(x)
    plain = tf.square(x)
    with tf.Session() as sess:
        got_override, got_plain = sess.run([tf.gradients(overridden, x)[0],
                                            tf.gradients(plain, x)[0]])
    np.testing.assert_allclose(got_override, [3.0, 3.0, 3.0])
    np.testing.assert_allclose(got_plain, [2.0, -4.0, 8.0])
    assert overridden.op.get_attr("_gradient_op_type") == "TestUserOpStraightThroughSquare"


def test_registering_a_gradient_name_twice_is_an_error():
    @tf.RegisterGradient("TestUserOpOnce")
    def _first(op, grad):
        return [grad]
    with pytest.raises(KeyError, match="TestUserOpOnce"):
        tf.RegisterGradient("TestUserOpOnce")(_first)


def test_registering_the_op_type_twice_is_an_error():
    with pytest.raises(ValueError, match="UserScaledTanh is already registered"):
        registry.register_op("UserScaledTanh", inputs=["x: T"], outputs=["y: T"])
