"""Harness entries for MaxPoolWithArgmax and MaxPoolGradWithArgmax (reference: a loop over
windows); TF 0.9's argmax layout; tf.nn.depthwise_conv2d_native_backprop_input/filter."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, distinct, run_spec, run_in_session as _run

TYPES = [tf.float32, tf.float64, tf.float16, tf.bfloat16, tf.int32]


def _pad_amounts(size, k, s, padding):
    if padding == "VALID":
        return (size - k) // s + 1, 0
    out = -(-size // s)
    return out, max((out - 1) * s + k - size, 0) // 2


def ref_pool_argmax(x, ks, st, padding, include_batch=True):
    n, h, w, c = x.shape
    oh, pt = _pad_amounts(h, ks[1], st[1], padding)
    ow, pl = _pad_amounts(w, ks[2], st[2], padding)
    out = np.zeros((n, oh, ow, c), x.dtype)
    arg = np.zeros((n, oh, ow, c), np.int64)
    for b, i, j, ch in np.ndindex(n, oh, ow, c):
        best = None
        for di, dj in np.ndindex(ks[1], ks[2]):
            y, xx = i * st[1] + di - pt, j * st[2] + dj - pl
            if 0 <= y < h and 0 <= xx < w and (best is None or x[b, y, xx, ch] > best):
                best = x[b, y, xx, ch]
                flat = (y * w + xx) * c + ch
                arg[b, i, j, ch] = flat + (b * h * w * c if include_batch else 0)
        out[b, i, j, ch] = best
    return out, arg


def ref_grad(x, dy, ks, st, padding):
    _, arg = ref_pool_argmax(x, ks, st, padding)
    dx = np.zeros(x.size)
    np.add.at(dx, arg.reshape(-1), dy.reshape(-1))
    return dx.reshape(x.shape).astype(x.dtype)


CASES = [((2, 4, 4, 3), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
         ((1, 5, 4, 2), [1, 3, 2, 1], [1, 2, 1, 1], "SAME"),
         ((2, 3, 3, 1), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")]


def _specs():
    specs = []
    for k, (xs, ks, st, pad) in enumerate(CASES):
        ys = ref_pool_argmax(np.zeros(xs), ks, st, pad)[0].shape
        specs += [
            OpSpec("MaxPoolWithArgmax",
                   lambda x, ks=ks, st=st, pad=pad: list(tf.nn.max_pool_with_argmax(x, ks, st,
                                                                                     pad)),
                   lambda x, ks=ks, st=st, pad=pad: list(ref_pool_argmax(x, ks, st, pad)),
                   [(xs,)], dtypes=TYPES, inputs=distinct, name=f"MaxPoolWithArgmax_{k}_{pad}"),
            OpSpec("MaxPoolGradWithArgmax",
                   lambda x, dy, ks=ks, st=st, pad=pad: tf.gradients(
                       tf.nn.max_pool_with_argmax(x, ks, st, pad)[0], x, dy)[0],
                   lambda x, dy, ks=ks, st=st, pad=pad: ref_grad(x, dy, ks, st, pad),
                   [(xs, ys)], dtypes=TYPES, inputs=distinct, grad=(1,),
                   name=f"MaxPoolGradWithArgmax_{k}_{pad}"),
        ]
    return specs


SPECS = _specs()


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_argmax_layout_of_tf_0_9_and_without_the_batch():
    x = np.arange(2 * 2 * 2 * 1, dtype=np.float32).reshape(2, 2, 2, 1)
    out, arg = tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    assert arg.dtype == tf.int64
    got = _run([out, arg])
    np.testing.assert_array_equal(got[0].reshape(-1), [3, 7])
    np.testing.assert_array_equal(got[1].reshape(-1), [3, 7])  # ((b*2 + 1)*2 + 1)*1
    _, arg = tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID",
                                        Targmax=tf.int32, include_batch_in_index=False)
    np.testing.assert_array_equal(_run(arg).reshape(-1), [3, 3])


def test_gradient_without_batch_in_index_and_its_second_derivative():
    rng = np.random.default_rng(0)
    x_val = distinct(rng, (2, 4, 4, 1), tf.float64)
    x = tf.constant(x_val)
    out, _ = tf.nn.max_pool_with_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID",
                                        include_batch_in_index=False)
    dy = tf.constant(rng.standard_normal((2, 2, 2, 1)))
    (dx,) = tf.gradients(out, x, dy)
    np.testing.assert_allclose(_run(dx), ref_grad(x_val, _run(dy), [1, 2, 2, 1],
                                                  [1, 2, 2, 1], "VALID"))
    u = tf.constant(rng.standard_normal((2, 4, 4, 1)))
    (ddy,) = tf.gradients(dx, dy, u)  # reads u back at the argmax positions
    np.testing.assert_allclose(_run(ddy), _gather_at_max(x_val, _run(u)))


def _gather_at_max(x, u):
    _, arg = ref_pool_argmax(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    return u.reshape(-1)[arg]


def test_pooling_over_batch_or_depth_is_unimplemented():
    x = tf.placeholder(tf.float32, [1, 2, 2, 2])
    out, _ = tf.nn.max_pool_with_argmax(x, [1, 1, 1, 2], [1, 1, 1, 2], "VALID")
    with pytest.raises(tf.errors.UnimplementedError, match="^Pooling is not yet supported"):
        _run(out, {x: np.zeros((1, 2, 2, 2), np.float32)})


def test_depthwise_backprop_functions_match_the_gradients():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((1, 5, 5, 2)))
    w = tf.constant(rng.standard_normal((3, 3, 2, 2)))
    y = tf.nn.depthwise_conv2d_native(x, w, [1, 1, 1, 1], "SAME")
    dy = tf.constant(rng.standard_normal((1, 5, 5, 4)))
    gx, gw = tf.gradients(y, [x, w], dy)
    bx = tf.nn.depthwise_conv2d_native_backprop_input([1, 5, 5, 2], w, dy, [1, 1, 1, 1], "SAME")
    bw = tf.nn.depthwise_conv2d_native_backprop_filter(x, [3, 3, 2, 2], dy, [1, 1, 1, 1],
                                                       "SAME")
    assert bx.op.type == "DepthwiseConv2dNativeBackpropInput"
    assert bw.get_shape().as_list() == [3, 3, 2, 2]
    got = _run([gx, gw, bx, bw])
    np.testing.assert_allclose(got[2], got[0])
    np.testing.assert_allclose(got[3], got[1])
