"""matmul_bias.py: MatMul + bias runs as one step, bit for bit the unfused plan's values."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both
from tensorflux.runtime.optimizer import Settings

pytestmark = pytest.mark.timeout(60)


def _feed(rng, *pairs):
    return {p: rng.standard_normal(p.get_shape().as_list()).astype(np.float32) for p in pairs}


@pytest.mark.parametrize("add", [tf.add, lambda p, b: b + p, tf.nn.bias_add])
def test_matmul_plus_bias_is_one_step(add):
    rng = np.random.default_rng(0)
    a, w = tf.placeholder(tf.float32, [3, 4]), tf.placeholder(tf.float32, [4, 5])
    bias = tf.placeholder(tf.float32, [5])
    y = add(tf.matmul(a, w), bias)
    feed = _feed(rng, a, w, bias)
    plain, optimized, on = run_both(y, feed)
    assert_same(plain, optimized)  # bit for bit
    np.testing.assert_array_equal(optimized[0], (feed[a] @ feed[w]) + feed[bias])
    assert on["matmul_bias"] == 1 and on["nodes"] == 1
    _, _, off = run_both(y, feed, cfg=config(remapping=OFF))
    assert off.get("matmul_bias", 0) == 0 and off["nodes"] == 2


def test_fed_and_variable_operands_are_left_unchanged_over_steps():
    rng = np.random.default_rng(1)
    w = tf.Variable(rng.standard_normal((4, 5)).astype(np.float32))
    b = tf.Variable(rng.standard_normal(5).astype(np.float32))
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.nn.relu(tf.matmul(x, w) + b)
    x_value = rng.standard_normal((3, 4)).astype(np.float32)
    kept = x_value.copy()
    init = tf.global_variables_initializer()
    plain, optimized, on = run_both(y, {x: x_value}, init=init, steps=3)
    assert_same(plain, optimized)
    assert on["matmul_bias"] == 1
    np.testing.assert_array_equal(x_value, kept)


def test_what_is_not_rewritten():
    rng = np.random.default_rng(2)
    a, w = tf.placeholder(tf.float32, [3, 4]), tf.placeholder(tf.float32, [4, 5])
    product = tf.matmul(a, w)
    fetched = product + tf.ones([5])                    # the product is fetched too
    wider = tf.matmul(a, w * 2.0) + tf.ones([2, 3, 5])  # the sum is larger than the product
    twice = tf.matmul(a, w * 3.0)
    read_twice = (twice + 1.0) * twice
    one_bias = tf.placeholder(tf.float32, [1])
    ints = tf.matmul(tf.ones([2, 2], tf.int32), tf.ones([2, 2], tf.int32)) + 1
    fetches = [fetched, product, wider, read_twice, tf.matmul(a, w * 4.0) + one_bias, ints]
    feed = _feed(rng, a, w, one_bias)
    plain, optimized, on = run_both(fetches, feed)
    assert_same(plain, optimized)
    assert on["matmul_bias"] == 1  # only the [1] bias: Add broadcasts it like the product


def test_a_failing_product_names_the_matmul():
    a, w = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, 5])
    y = tf.add(tf.matmul(a, w, name="the_product"), tf.ones([5]), name="the_sum")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"
                           ) as info:
            sess.run(y, {a: np.ones((2, 3), np.float32), w: np.ones((4, 5), np.float32)})
        assert list(sess._plans.values())[-1].optimizer_stats["matmul_bias"] == 1
    assert info.value.op.name == "the_product"


def test_settings_switch():
    assert Settings.from_config(None).matmul_bias
    assert not Settings.from_config(config(remapping=OFF)).matmul_bias
    assert Settings(matmul_bias=False).any and not Settings(matmul_bias=False).matmul_bias
