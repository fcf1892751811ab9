"""tensorflow.python.ops.nn_ops -> the tf.nn namespace (tensorflux/nn/__init__.py), where
tensorflux lists the public functions of tensorflux/ops/nn_ops.py and conv_ops.py."""
from tensorflux.nn import *  # noqa: F401,F403
