"""tf.contrib.layers: layers, initializers and regularizers (TF 1.0 names)."""
from tensorflux.contrib.layers.layers import embed_sequence, fully_connected  # noqa: F401
from tensorflux.contrib.layers.regularizers import (  # noqa: F401
    apply_regularization,
    l1_regularizer,
    l2_regularizer,
    sum_regularizer,
    variance_scaling_initializer,
    xavier_initializer,
    xavier_initializer_conv2d,
)
