# A TF 0.9 unit-test file (tensorflow/python/kernel_tests style).
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import tensor_shape
from tensorflow.python.ops import array_ops
from tensorflow.python.ops import gen_array_ops
from tensorflow.python.platform import googletest


class ReshapeTest(tf.test.TestCase):

    def testReshape(self):
        with self.test_session():
            x = np.arange(6).reshape(2, 3).astype(np.float32)
            y = gen_array_ops._reshape(x, [3, 2])
            self.assertAllEqual(y.eval(), x.reshape(3, 2))
            self.assertEqual(tensor_shape.TensorShape([3, 2]), y.get_shape())

    def testPlaceholderShape(self):
        p = array_ops.placeholder(tf.float32, shape=tensor_shape.unknown_shape(ndims=2))
        self.assertEqual([None, None], p.get_shape().as_list())

    def testTranspose(self):
        with self.test_session() as sess:
            x = tf.constant([[1, 2, 3]])
            self.assertAllEqual([[1], [2], [3]], sess.run(array_ops.transpose(x)))


if __name__ == "__main__":
    googletest.main()
