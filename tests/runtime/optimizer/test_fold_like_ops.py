"""Constant folding of ZerosLike and OnesLike whose input has a fully known static shape."""
import numpy as np
import pytest

import tensorflux as tf
from opt_util import OFF, assert_same, config, run_both

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("like", [tf.zeros_like, tf.ones_like])
def test_likes_of_known_shapes_fold(like):
    x = tf.placeholder(tf.float32, [3, 2])
    y = tf.concat([like(x) / 2.0, x], 1)
    feed = {x: np.arange(6, dtype=np.float32).reshape(3, 2)}
    plain, optimized, on = run_both(y, feed)
    assert_same(plain, optimized)
    assert on["nodes"] == 1  # only the concat of the folded half and x is left
    _, off_values, off = run_both(y, feed, cfg=config(constant_folding=OFF))
    assert_same(plain, off_values)
    assert off["nodes"] > on["nodes"]


def test_likes_of_unknown_shapes_run_each_step():
    x = tf.placeholder(tf.int32, [None])
    y = tf.ones_like(x) + x
    with tf.Session() as sess:
        for n in (1, 4):
            np.testing.assert_array_equal(sess.run(y, {x: np.arange(n, dtype=np.int32)}),
                                          np.arange(n) + 1)
