"""Conv2D's gradients in NCHW agree with NHWC (the layout only permutes axes), for the filter
gradient (Conv2DBackpropFilter must transpose dy too) and the input gradient."""
import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("padding,strides", [("SAME", 1), ("VALID", 2)])
def test_conv2d_gradients_in_nchw_match_nhwc(padding, strides):
    rng = np.random.default_rng(0)
    x_val = rng.standard_normal((2, 5, 6, 3))
    w_val = rng.standard_normal((3, 2, 3, 4))
    x = tf.constant(x_val)
    w = tf.constant(w_val)
    y_nhwc = tf.nn.conv2d(x, w, [1, strides, strides, 1], padding)
    x_nchw = tf.transpose(x, [0, 3, 1, 2])
    y_nchw = tf.nn.conv2d(x_nchw, w, [1, 1, strides, strides], padding, data_format="NCHW")
    u_val = rng.standard_normal(y_nhwc.get_shape().as_list())
    u = tf.constant(u_val)
    loss_nhwc = tf.reduce_sum(y_nhwc * u)
    loss_nchw = tf.reduce_sum(y_nchw * tf.transpose(u, [0, 3, 1, 2]))
    grads = tf.gradients(loss_nhwc, [x, w]) + tf.gradients(loss_nchw, [x_nchw, w])
    with tf.Session() as sess:
        dx, dw, dx_nchw, dw_nchw = sess.run(grads)
    np.testing.assert_allclose(dw_nchw, dw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.transpose(dx_nchw, [0, 2, 3, 1]), dx, rtol=1e-10, atol=1e-10)
