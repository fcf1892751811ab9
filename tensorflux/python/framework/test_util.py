"""tensorflow.python.framework.test_util: TF's TensorFlowTestCase is tf.test.TestCase."""
from tensorflux.platform.test import TestCase as TensorFlowTestCase  # noqa: F401
