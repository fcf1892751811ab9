"""tf.nn: neural-network ops and layers (re-exports only)."""
from tensorflux.ops.math_ops import sigmoid, tanh  # noqa: F401 (TF exposes both as tf.nn.*)
from tensorflux.ops.nn_ops import (  # noqa: F401
    relu, relu6, elu, softplus, softsign, softmax, log_softmax, bias_add, bias_add_v1,
    xw_plus_b, softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits, weighted_cross_entropy_with_logits, l2_loss, in_top_k,
    top_k, dropout, zero_fraction, moments, l2_normalize)
from tensorflux.ops.conv_ops import (  # noqa: F401
    conv2d, conv2d_backprop_input, conv2d_backprop_filter, conv2d_transpose, atrous_conv2d,
    depthwise_conv2d, depthwise_conv2d_native, separable_conv2d, max_pool, avg_pool,
    local_response_normalization, lrn)
from tensorflux.ops.embedding_ops import embedding_lookup, embedding_lookup_sparse  # noqa: F401
from tensorflux.ops.candidate_sampling_ops import (  # noqa: F401
    uniform_candidate_sampler, log_uniform_candidate_sampler, learned_unigram_candidate_sampler,
    fixed_unigram_candidate_sampler, all_candidate_sampler, compute_accidental_hits)
from tensorflux.ops.nn_impl import (  # noqa: F401
    batch_normalization, fused_batch_norm, sufficient_statistics, normalize_moments, nce_loss,
    sampled_softmax_loss)

# RNN (rnn helper)
from tensorflux.nn import rnn_cell, seq2seq  # noqa: F401,E402
from tensorflux.rnn.rnn import (  # noqa: F401,E402
    rnn, dynamic_rnn, bidirectional_rnn, bidirectional_dynamic_rnn)
from tensorflux.ops.pool_argmax_ops import max_pool_with_argmax  # noqa: F401,E402
from tensorflux.ops.conv_backprop_api import (  # noqa: F401,E402
    depthwise_conv2d_native_backprop_input, depthwise_conv2d_native_backprop_filter)
from tensorflux.ops.ctc_ops import (  # noqa: F401,E402
    ctc_beam_search_decoder, ctc_greedy_decoder, ctc_loss)
