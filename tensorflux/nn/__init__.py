"""tf.nn: neural-network ops and layers (re-exports only)."""
from tensorflux.ops.math_ops import sigmoid, tanh  # noqa: F401 (TF exposes both as tf.nn.*)
from tensorflux.ops.nn_ops import (  # noqa: F401
    relu, relu6, elu, softplus, softsign, softmax, log_softmax, bias_add, bias_add_v1,
    xw_plus_b, softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits, weighted_cross_entropy_with_logits, l2_loss, in_top_k,
    top_k, dropout, zero_fraction, moments, l2_normalize)
