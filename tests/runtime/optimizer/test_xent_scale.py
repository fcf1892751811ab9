"""xent_scale.py: a cross entropy's backprop times its constant loss gradient is scaled inside
the cross-entropy kernel (bit for bit the unfused product); the switch is remapping."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both

pytestmark = pytest.mark.timeout(60)


def _losses(batch, classes=7):
    rng = np.random.default_rng(3)
    logits = tf.placeholder(tf.float32, [batch, classes])
    weights = tf.Variable(rng.standard_normal((classes, classes)).astype(np.float32))
    z = tf.matmul(logits, weights)
    sparse = tf.placeholder(tf.int32, [batch])
    dense = tf.placeholder(tf.float32, [batch, classes])
    feed = {logits: rng.standard_normal((batch or 5, classes)).astype(np.float32),
            sparse: rng.integers(0, classes, batch or 5),
            dense: rng.dirichlet(np.ones(classes), batch or 5).astype(np.float32)}
    return z, sparse, dense, weights, feed


@pytest.mark.parametrize("kind", ["sparse", "dense"])
def test_scaled_backprop_matches_the_unfused_plan_and_the_switch_turns_it_off(kind):
    z, sparse, dense, weights, feed = _losses(5)
    if kind == "sparse":
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sparse, logits=z)
    else:
        xent = tf.nn.softmax_cross_entropy_with_logits(labels=dense, logits=z)
    loss = tf.reduce_mean(xent) * 3.0
    fetches = [loss] + tf.gradients(loss, [weights])  # the scaled backprop itself: not fetched
    plain, optimized, on = run_both(fetches, feed, init=weights.initializer)
    assert_same(plain, optimized)
    assert on["xent_scale"] == 1
    _, off_values, off = run_both(fetches, feed, init=weights.initializer,
                                  cfg=config(remapping=OFF))
    assert_same(plain, off_values)
    assert off.get("xent_scale", 0) == 0


def test_run_time_scales_and_fetched_backprops_stay_apart():
    z, sparse, _, weights, feed = _losses(None)  # the mean's gradient needs the batch size
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sparse, logits=z)
    loss = tf.reduce_mean(xent)
    plain, optimized, on = run_both(tf.gradients(loss, [z]), feed, init=weights.initializer)
    assert_same(plain, optimized)
    assert on["xent_scale"] == 0
    z, sparse, _, weights, feed = _losses(5)
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sparse, logits=z)
    backprop = xent.op.outputs[1]
    grad = tf.gradients(tf.reduce_sum(xent) * 0.5, [z])[0]
    plain, optimized, on = run_both([grad, backprop], feed, init=weights.initializer)
    assert_same(plain, optimized)
    assert on["xent_scale"] == 0
