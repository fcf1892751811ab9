"""tf.train.ExponentialMovingAverage and assign_moving_average against NumPy recurrences."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.training import moving_averages
from tensorflux.training.moving_averages import ExponentialMovingAverage


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_assign_moving_average_without_debias():
    var = tf.Variable([10.0, 20.0])
    update = moving_averages.assign_moving_average(var, [0.0, 40.0], 0.75, zero_debias=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = np.array([10.0, 20.0])
        for _ in range(3):
            expected = expected - 0.25 * (expected - [0.0, 40.0])
            np.testing.assert_allclose(sess.run(update), expected, rtol=1e-6)
        np.testing.assert_allclose(sess.run(var), expected, rtol=1e-6)


def test_assign_moving_average_zero_debias_is_exact_for_a_constant():
    # A zero-started average of a constant value is biased towards 0; debiasing removes it.
    var = tf.Variable(tf.zeros([2]), trainable=False, name="avg")
    update = moving_averages.assign_moving_average(var, [3.0, -1.0], 0.9, zero_debias=True)
    names = {v.op.name for v in tf.global_variables()}
    assert {"avg/biased", "avg/local_step"} <= names
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            np.testing.assert_allclose(sess.run(update), [3.0, -1.0], rtol=1e-5)


def test_apply_averages_variables_with_fixed_decay():
    w = tf.Variable([1.0, 2.0], name="w")
    b = tf.Variable(5.0, name="b")
    ema = ExponentialMovingAverage(0.5)
    maintain = ema.apply([w, b])
    assert ema.average(w).op.name == "w/ExponentialMovingAverage"
    assert ema.average_name(b) == "b/ExponentialMovingAverage"
    assert ema.average(w) not in tf.trainable_variables()
    assert tf.moving_average_variables() == [w, b]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(ema.average(w)), [1.0, 2.0])  # starts at w
        sess.run(w.assign([3.0, 6.0]))
        sess.run(maintain)
        np.testing.assert_allclose(sess.run(ema.average(w)), [2.0, 4.0])
        sess.run(maintain)
        np.testing.assert_allclose(sess.run(ema.average(w)), [2.5, 5.0])
        assert sess.run(ema.average(b)) == pytest.approx(5.0)


def test_num_updates_caps_the_decay():
    step = tf.Variable(0, trainable=False, name="step")
    w = tf.Variable(0.0, name="w")
    ema = ExponentialMovingAverage(0.99, num_updates=step)
    maintain = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(10.0))
        sess.run(maintain)  # decay = min(0.99, 1/10) = 0.1: average = 0 + 0.9 * 10
        assert sess.run(ema.average(w)) == pytest.approx(9.0, rel=1e-6)
        sess.run([w.assign(20.0), step.assign(90)])
        sess.run(maintain)  # decay = min(0.99, 91/100) = 0.91
        assert sess.run(ema.average(w)) == pytest.approx(9.0 + 0.09 * 11.0, rel=1e-6)


def test_tensor_averages_start_at_zero_and_are_debiased():
    x = tf.placeholder(tf.float32, [], name="x")
    loss = tf.identity(x * 2.0, name="loss")
    ema = ExponentialMovingAverage(0.9, name="avg")
    maintain = ema.apply([loss])
    assert ema.average(loss).op.name == "loss/avg"
    assert tf.moving_average_variables() == []
    values, biased = [4.0, 8.0, 2.0], 0.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(ema.average(loss)) == 0.0
        for t, value in enumerate(values, 1):
            sess.run(maintain, feed_dict={x: value / 2.0})
            biased = 0.9 * biased + 0.1 * value
            assert sess.run(ema.average(loss)) == pytest.approx(biased / (1 - 0.9 ** t), rel=1e-5)


def test_default_var_list_is_trainable_variables_and_names_ignore_scopes():
    with tf.name_scope("model"):
        w = tf.Variable(1.0, name="w")
        tf.Variable(0, name="counter", trainable=False)
    with tf.name_scope("train"):
        ema = ExponentialMovingAverage(0.9)
        op = ema.apply()
    assert ema.average(w).op.name == "model/w/ExponentialMovingAverage"
    assert op.name == "train/ExponentialMovingAverage"


def test_apply_inside_control_dependencies_keeps_initializers_free():
    w = tf.Variable(1.0, name="w")
    x = tf.placeholder(tf.float32, [], name="x")
    side = tf.assign_add(w, x)
    loss = tf.identity(x, name="loss")
    ema = ExponentialMovingAverage(0.5)
    with tf.control_dependencies([side]):
        ema.apply([w, loss])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())  # would need x fed if the deps leaked


def test_errors_name_the_offending_value():
    ema = ExponentialMovingAverage(0.9)
    counter = tf.Variable(0, name="counter")
    with pytest.raises(TypeError, match="counter.*int32"):
        ema.apply([counter])
    w = tf.Variable(1.0, name="w")
    ema.apply([w])
    with pytest.raises(ValueError, match="already computed for: w"):
        ema.apply([w])


def test_variables_to_restore_maps_average_names():
    w = tf.Variable(1.0, name="w")
    step = tf.Variable(0, name="global_step", trainable=False)
    ema = ExponentialMovingAverage(0.9)
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": w, "global_step": step}
    ema.apply([w])
    restore = ema.variables_to_restore()
    assert restore == {"w/ExponentialMovingAverage": w, "global_step": step}


def test_saver_restores_the_averages_into_the_model(tmp_path):
    path = str(tmp_path / "model.ckpt")
    with tf.Graph().as_default():
        w = tf.Variable([0.0, 0.0], name="w")
        ema = ExponentialMovingAverage(0.5)
        maintain = ema.apply([w])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign([4.0, 8.0]))
            sess.run(maintain)
            tf.train.Saver().save(sess, path)
    with tf.Graph().as_default():
        w = tf.Variable([0.0, 0.0], name="w")
        saver = tf.train.Saver(ExponentialMovingAverage(0.5).variables_to_restore())
        with tf.Session() as sess:
            saver.restore(sess, path)
            np.testing.assert_allclose(sess.run(w), [2.0, 4.0])
