"""views.py: Reshape, ExpandDims, Squeeze and Slice with constant arguments and fully known
static shapes run specialized kernels (the same views of the same data); an input of another
shape goes to the op's own kernel; the switch is arithmetic_optimization."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from opt_util import OFF, assert_same, config, plan_of, run_both

pytestmark = pytest.mark.timeout(60)


def _view_graph():
    x = tf.placeholder(tf.float32, [4, 6])
    y = tf.exp(x)
    parts = [tf.reshape(y, [3, 8]), tf.expand_dims(y, 1), tf.squeeze(tf.reshape(y, [4, 1, 6]),
                                                                  [1]),
             tf.slice(y, [1, 2], [2, -1]), tf.slice(y, [0, 0], [4, 6])]
    total = tf.add_n([tf.reduce_sum(p * float(k + 1)) for k, p in enumerate(parts)])
    return x, parts, total


def test_specialized_views_give_the_same_values_and_the_switch_turns_them_off():
    x, parts, total = _view_graph()
    feed = {x: np.linspace(-2, 2, 24, dtype=np.float32).reshape(4, 6)}
    plain, optimized, on = run_both([total] + [p * 1.5 for p in parts], feed)
    assert_same(plain, optimized)
    assert on["views"] == 6  # five views and the Reshape the Squeeze reads
    _, off_values, off = run_both([total] + [p * 1.5 for p in parts], feed,
                                  cfg=config(arithmetic_optimization=OFF))
    assert_same(plain, off_values)
    assert off.get("views", 0) == 0


def test_unknown_shapes_or_computed_arguments_keep_their_kernels():
    x = tf.placeholder(tf.float32, [None, 6])
    shape = tf.placeholder(tf.int32, [2])
    known = tf.placeholder(tf.float32, [2, 6])
    fetches = [tf.reshape(x * 2.0, [-1, 3]), tf.reshape(known * 2.0, shape)]
    feed = {x: np.ones((2, 6), np.float32), known: np.ones((2, 6), np.float32), shape: [3, 4]}
    plain, optimized, on = run_both(fetches, feed)
    assert_same(plain, optimized)
    assert on["views"] == 0


def _view_step(sess, op_type):
    return next(s for s in plan_of(sess).steps if s[1].op.type == op_type)


def test_a_specialized_view_is_a_view_and_another_shape_gets_the_kernels_error():
    x = tf.placeholder(tf.float32, [4, 6])
    sliced = tf.slice(x * 1.0, [1, 2], [2, 3])
    reshaped = tf.reshape(x * 1.0, [6, 4])
    with tf.Session() as sess:
        sess.run([sliced, reshaped], {x: np.ones((4, 6), np.float32)})
        for op_type, want in (("Slice", (2, 3)), ("Reshape", (6, 4))):
            fn, ctx, ins = _view_step(sess, op_type)[:3]
            assert fn.__name__ == "view"
            data = np.arange(24, dtype=np.float32).reshape(4, 6)
            params = [plan_of(sess).template[i] for i in ins[1:]]
            out = fn(ctx, data, *params)
            assert out.shape == want and np.shares_memory(out, data)
            np.testing.assert_array_equal(out, data[1:3, 2:5] if op_type == "Slice"
                                          else data.reshape(6, 4))
            with pytest.raises(errors.InvalidArgumentError):
                fn(ctx, np.ones((1, 5), np.float32), *params)  # the op's own kernel speaks
