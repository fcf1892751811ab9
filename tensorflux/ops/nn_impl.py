"""Composite tf.nn functions built only from ops: batch normalization (plain and the fused
form's interface), sufficient statistics, and the sampled losses nce_loss and
sampled_softmax_loss. (moments, l2_normalize, dropout and the cross entropies live in nn_ops.)

nce_loss and sampled_softmax_loss take both API generations' positional orders:
TF 0.9 (weights, biases, inputs, labels, ...) and 1.0 (weights, biases, labels, inputs, ...);
keywords mean what they say, and positional calls are told apart by dtype (labels are
integers, inputs floats).
"""
from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.ops import array_ops
from tensorflux.ops import candidate_sampling_ops
from tensorflux.ops import embedding_ops
from tensorflux.ops import math_ops
from tensorflux.ops import nn_ops

__all__ = []  # lives in tf.nn


# ---- batch normalization ----------------------------------------------------------------------
def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + variance_epsilon) + offset (offset and scale may be
    None)."""
    with ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]) as name:
        x = ops.convert_to_tensor(x, name="x")
        inv = math_ops.rsqrt(ops.convert_to_tensor(variance, dtype=x.dtype.base_dtype)
                             + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = -ops.convert_to_tensor(mean, dtype=x.dtype.base_dtype) * inv
        if offset is not None:
            shift = shift + offset
        return math_ops.add(x * inv, shift, name=name)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """(y, batch_mean, batch_variance) for a 4-D x, normalized per channel.

    Training: statistics of the batch; batch_variance is the unbiased (n / (n - 1)) estimate,
    for moving averages. Inference (is_training=False): the given mean and variance."""
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    with ops.name_scope(name, "FusedBatchNorm", [x, scale, offset]) as name:
        x = ops.convert_to_tensor(x, name="input")
        axes = [0, 1, 2] if data_format == "NHWC" else [0, 2, 3]

        def per_channel(v):
            v = ops.convert_to_tensor(v, dtype=x.dtype.base_dtype)
            return v if data_format == "NHWC" else array_ops.reshape(v, [-1, 1, 1])
        if is_training:
            if mean is not None or variance is not None:
                raise ValueError("fused_batch_norm: mean and variance must be None when "
                                 "is_training is True")
            mean, variance = nn_ops.moments(x, axes)
            count = math_ops.cast(array_ops.size(x) // array_ops.size(mean), x.dtype.base_dtype)
            unbiased = variance * count / math_ops.maximum(count - 1, 1)
        elif mean is None or variance is None:
            raise ValueError("fused_batch_norm: inference (is_training=False) requires mean "
                             "and variance")
        else:
            unbiased = variance
        y = batch_normalization(x, per_channel(mean), per_channel(variance), per_channel(offset),
                                per_channel(scale), epsilon, name=name)
        return y, ops.convert_to_tensor(mean), ops.convert_to_tensor(unbiased)


def sufficient_statistics(x, axes, shift=None, keep_dims=False, name=None):
    """(count, sum of (x - shift), sum of (x - shift) ** 2, shift) over axes."""
    with ops.name_scope(name, "sufficient_statistics", [x, shift]):
        x = ops.convert_to_tensor(x, name="x")
        count = math_ops.cast(array_ops.size(x), x.dtype.base_dtype) / math_ops.cast(
            array_ops.size(math_ops.reduce_sum(x, axes, keep_dims=keep_dims)), x.dtype.base_dtype)
        centered = x if shift is None else x - shift
        m_ss = math_ops.reduce_sum(centered, axes, keep_dims=keep_dims, name="mean_ss")
        v_ss = math_ops.reduce_sum(math_ops.square(centered), axes, keep_dims=keep_dims,
                                   name="var_ss")
        return count, m_ss, v_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """(mean, variance) from sufficient statistics."""
    with ops.name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = math_ops.reciprocal(counts)
        shifted_mean = mean_ss * divisor
        mean = shifted_mean if shift is None else shifted_mean + shift
        variance = variance_ss * divisor - math_ops.square(shifted_mean)
        return mean, variance


# ---- sampled losses -----------------------------------------------------------------------------
def _order_labels_inputs(labels, inputs, fn_name):
    """(labels, inputs), swapped when a 0.9-order positional call put the floats first."""
    if labels is None or inputs is None:
        raise ValueError(f"{fn_name}() requires labels and inputs, got labels={labels!r:.40} "
                         f"and inputs={inputs!r:.40}")
    labels = ops.convert_to_tensor(labels, name="labels")
    inputs = ops.convert_to_tensor(inputs, name="inputs")
    if labels.dtype.is_floating and inputs.dtype.is_integer:
        labels, inputs = inputs, labels
    if not labels.dtype.is_integer:
        raise TypeError(f"{fn_name}(): labels must be integer class ids, got labels "
                        f"{labels.dtype.name} and inputs {inputs.dtype.name}")
    return labels, inputs


def _split_rows(t, n, rank):
    """(first n rows, the rest) of t, a tensor of rank `rank`."""
    n = array_ops.reshape(n, [1])
    zeros = [0] * (rank - 1)
    first = array_ops.slice(t, [0] + zeros, array_ops.concat([n, [-1] * (rank - 1)], 0))
    rest = array_ops.slice(t, array_ops.concat([n, zeros], 0), [-1] * rank)
    return first, rest


def _accidental_hit_mask(labels, sampled, num_true, num_sampled, like):
    """[batch, num_sampled]: -FLOAT_MAX where a sampled class is one of the row's labels."""
    rows, positions, weights = candidate_sampling_ops.compute_accidental_hits(
        labels, sampled, num_true)
    flat = math_ops.cast(rows, dtypes.int64) * num_sampled + positions
    batch = array_ops.shape(like)[0]
    mask = math_ops.unsorted_segment_sum(weights, math_ops.cast(flat, dtypes.int32),
                                         batch * num_sampled)
    mask = array_ops.reshape(math_ops.cast(mask, like.dtype.base_dtype), [-1, num_sampled])
    return array_ops.stop_gradient(mask)


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                            sampled_values, subtract_log_q, remove_accidental_hits,
                            partition_strategy):
    """(logits [batch, num_true + num_sampled], labels of the same shape)."""
    weights = weights if isinstance(weights, (list, tuple)) else [weights]
    labels = math_ops.cast(labels, dtypes.int64) if labels.dtype != dtypes.int64 else labels
    labels = array_ops.reshape(labels, [-1, num_true])
    flat_labels = array_ops.reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = candidate_sampling_ops.log_uniform_candidate_sampler(
            labels, num_true, num_sampled, True, num_classes)
    sampled, true_expected, sampled_expected = (array_ops.stop_gradient(s)
                                                for s in sampled_values)
    sampled = math_ops.cast(sampled, dtypes.int64)
    all_ids = array_ops.concat([flat_labels, sampled], 0)
    n_true = array_ops.size(flat_labels)
    true_w, sampled_w = _split_rows(
        embedding_ops.embedding_lookup(weights, all_ids, partition_strategy), n_true, 2)
    true_b, sampled_b = _split_rows(
        embedding_ops.embedding_lookup(biases, all_ids, partition_strategy), n_true, 1)
    dim = array_ops.shape(true_w)[1]
    true_w = array_ops.reshape(true_w, array_ops.stack([-1, num_true, dim]))
    true_logits = math_ops.reduce_sum(array_ops.expand_dims(inputs, 1) * true_w, -1)
    true_logits = true_logits + array_ops.reshape(true_b, [-1, num_true])
    sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True) + sampled_b
    if remove_accidental_hits:
        sampled_logits = sampled_logits + _accidental_hit_mask(labels, sampled, num_true,
                                                               num_sampled, sampled_logits)
    if subtract_log_q:
        dtype = true_logits.dtype.base_dtype
        true_logits = true_logits - math_ops.log(math_ops.cast(true_expected, dtype))
        sampled_logits = sampled_logits - math_ops.log(math_ops.cast(sampled_expected, dtype))
    logits = array_ops.concat([true_logits, sampled_logits], 1)
    out_labels = array_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                   array_ops.zeros_like(sampled_logits)], 1)
    return logits, out_labels


def nce_loss(weights, biases, labels=None, inputs=None, num_sampled=None, num_classes=None,
             num_true=1, sampled_values=None, remove_accidental_hits=False,
             partition_strategy="mod", name="nce_loss"):
    """Noise-contrastive estimation loss per example, [batch_size].

    weights [num_classes, dim] (or a list of shards), biases [num_classes], labels
    [batch_size, num_true] integers, inputs [batch_size, dim]. sampled_values defaults to
    log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes)."""
    labels, inputs = _order_labels_inputs(labels, inputs, "nce_loss")
    _require_counts("nce_loss", num_sampled, num_classes)
    with ops.name_scope(name, "nce_loss", [inputs, labels]):
        logits, targets = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
            True, remove_accidental_hits, partition_strategy)
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
        return math_ops.reduce_sum(losses, 1)


def sampled_softmax_loss(weights, biases, labels=None, inputs=None, num_sampled=None,
                         num_classes=None, num_true=1, sampled_values=None,
                         remove_accidental_hits=True, partition_strategy="mod",
                         name="sampled_softmax_loss"):
    """Softmax cross entropy over the true classes and num_sampled sampled classes,
    [batch_size]; arguments as nce_loss's (accidental hits are removed by default)."""
    labels, inputs = _order_labels_inputs(labels, inputs, "sampled_softmax_loss")
    _require_counts("sampled_softmax_loss", num_sampled, num_classes)
    with ops.name_scope(name, "sampled_softmax_loss", [inputs, labels]):
        logits, targets = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
            True, remove_accidental_hits, partition_strategy)
        return nn_ops.softmax_cross_entropy_with_logits(labels=targets, logits=logits)


def _require_counts(fn_name, num_sampled, num_classes):
    if num_sampled is None or num_classes is None:
        raise ValueError(f"{fn_name}() requires num_sampled and num_classes, got "
                         f"num_sampled={num_sampled} and num_classes={num_classes}")
