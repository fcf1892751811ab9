"""Apply* kernels update a variable under its lock: concurrent training steps on one variable
lose no update (TF's use_locking=True semantics, which tensorflux always gives)."""
import sys
import threading

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(120)

_SIZE = 1 << 19  # large enough that NumPy releases the GIL while computing an update
_STEPS = 25


def test_concurrent_gradient_descent_steps_lose_no_update():
    v = tf.Variable(np.zeros(_SIZE, np.float32), name="v")
    update = tf.train.GradientDescentOptimizer(1.0).apply_gradients(
        [(tf.ones([_SIZE], tf.float32), v)])
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the threads as often as possible
    try:
        with tf.Session() as sess:
            sess.run(v.initializer)
            start = threading.Barrier(4)

            def train():
                start.wait()
                for _ in range(_STEPS):
                    sess.run(update)
            threads = [threading.Thread(target=train) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            final = sess.run(v)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads)
    # every element: in-place updates run in blocks, and a lost update may hit any block
    np.testing.assert_array_equal(final, np.full(_SIZE, -4.0 * _STEPS, np.float32))
