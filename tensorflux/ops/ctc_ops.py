"""Connectionist temporal classification (Graves et al. 2006): CTCLoss, CTCGreedyDecoder and
CTCBeamSearchDecoder.

Inputs are time-major logits [max_time, batch, num_classes]; class num_classes - 1 is the blank.
Labels come as a SparseTensor's parts (indices [N, 2] of (batch, position), int32 values).
The loss is -log p(labels | inputs), summed over every alignment by the forward-backward
recursion over the label with blanks interleaved (l' = _ l1 _ l2 _ ... _), in log space.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import array_ops
from tensorflux.ops.parsing_ops import SparseTensor

__all__ = ["ctc_loss", "ctc_greedy_decoder", "ctc_beam_search_decoder"]

CTCLoss = registry.register_op(
    "CTCLoss",
    inputs=["inputs: T", "labels_indices: int64", "labels_values: int32",
            "sequence_length: int32"],
    outputs=["loss: T", "gradient: T"],
    attrs={"preprocess_collapse_repeated": False, "ctc_merge_repeated": True,
           "ignore_longer_outputs_than_inputs": False,
           "T": registry.Attr("type", dtypes.float32, allowed=[dtypes.float32, dtypes.float64])})


@CTCLoss.shape
def _ctc_loss_shape(op):
    inputs = op.inputs[0].get_shape().with_rank(3)
    op.inputs[1].get_shape().with_rank(2)
    op.inputs[2].get_shape().with_rank(1)
    batch = inputs[1].merge_with(op.inputs[3].get_shape().with_rank(1)[0])
    return [tensor_shape.TensorShape([batch]), inputs]


@CTCLoss.gradient
def _ctc_loss_grad(op, grad_loss, grad_gradient=None):
    # tf.gradients hands unused outputs zeros; anything else means a second derivative
    if grad_gradient is not None and grad_gradient.op.type != "ZerosLike":
        raise LookupError("Gradient explicitly disabled. Reason: Currently there is no way to "
                          "take the second derivative of ctc_loss due to the fused "
                          "implementation's interaction with tf.gradients()")
    # d loss_b / d inputs[t, b, :] is the op's second output; scale each batch entry's slice.
    return [op.outputs[1] * array_ops.reshape(grad_loss, [1, -1, 1]), None, None, None]


def _labels_per_batch(ctx, indices, values, batch, num_classes):
    labels = [[] for _ in range(batch)]
    for (b, _), v in zip(indices.tolist(), values.tolist()):
        if not 0 <= b < batch:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"labels_indices batch index {b} is outside [0, {batch})")
        if not 0 <= v < num_classes - 1:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Label values must be in [0, num_classes - 1 = {num_classes - 1})"
                              f" (num_classes - 1 is the blank), got {v}")
        labels[b].append(v)
    return labels


def _log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _shifted(x, k):
    """x moved k places right (left for k < 0), -inf (log 0) shifted in."""
    out = np.full_like(x, -np.inf)
    if k > 0:
        out[k:] = x[:-k]
    else:
        out[:k] = x[-k:]
    return out


def _forward_backward(logp, label, blank):
    """log alpha and log beta [T, S] over l' = label with blanks, and the skip mask."""
    ext = np.full(2 * len(label) + 1, blank)
    ext[1::2] = label
    steps, states = logp.shape[0], len(ext)
    skip = np.zeros(states, bool)  # may jump from s - 2: a label differing from the one before
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    emit = logp[:, ext]
    alpha = np.full((steps, states), -np.inf)
    alpha[0, :2] = emit[0, :2]
    for t in range(1, steps):
        prev = alpha[t - 1]
        acc = np.logaddexp(prev, _shifted(prev, 1))
        acc = np.where(skip, np.logaddexp(acc, _shifted(prev, 2)), acc)
        alpha[t] = acc + emit[t]
    beta = np.full((steps, states), -np.inf)
    beta[-1, -2:] = emit[-1, -2:]
    skip_next = np.zeros(states, bool)  # may jump from s to s + 2
    skip_next[:-2] = skip[2:]
    for t in range(steps - 2, -1, -1):
        nxt = beta[t + 1]
        acc = np.logaddexp(nxt, _shifted(nxt, -1))
        acc = np.where(skip_next, np.logaddexp(acc, _shifted(nxt, -2)), acc)
        beta[t] = acc + emit[t]
    return ext, alpha, beta


def _required_time(label):
    return len(label) + sum(a == b for a, b in zip(label, label[1:]))


def _collapse(label):
    return [v for i, v in enumerate(label) if i == 0 or v != label[i - 1]]


def _one_sequence(ctx, logits, label):
    """(loss, d loss / d logits) for one batch entry's [T, C] logits."""
    blank = logits.shape[1] - 1
    logp = _log_softmax(logits)
    ext, alpha, beta = _forward_backward(logp, label, blank)
    log_p = np.logaddexp(alpha[-1, -1], alpha[-1, -2]) if len(ext) > 1 else alpha[-1, -1]
    # occupation of state s at t: alpha * beta counts the emission at t twice
    occupation = np.exp(alpha + beta - logp[:, ext] - log_p)
    grad = np.exp(logp)
    for s, k in enumerate(ext):
        grad[:, k] -= occupation[:, s]
    return -log_p, grad


@CTCLoss.kernel("CPU")
def _ctc_loss_kernel(ctx, inputs, indices, values, seq_len):
    steps, batch, classes = inputs.shape
    if not ctx.attrs["ctc_merge_repeated"]:
        raise errors.UnimplementedError(None, ctx.op, "CTCLoss with ctc_merge_repeated=False is "
                                                      "not implemented in tensorflux")
    if seq_len.shape != (batch,) or (seq_len > steps).any() or (seq_len < 0).any():
        raise errors.InvalidArgumentError(
            None, ctx.op, f"sequence_length must be a vector of {batch} lengths in [0, "
                          f"{steps}], got {seq_len.tolist()}")
    labels = _labels_per_batch(ctx, indices, values, batch, classes)
    wide = inputs.astype(np.float64)
    loss, grad = np.zeros(batch), np.zeros(wide.shape)
    for b, label in enumerate(labels):
        if ctx.attrs["preprocess_collapse_repeated"]:
            label = _collapse(label)
        steps_b = int(seq_len[b])
        if _required_time(label) > steps_b:
            if ctx.attrs["ignore_longer_outputs_than_inputs"]:
                continue
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Not enough time for target transition sequence (required: "
                              f"{_required_time(label)}, available: {steps_b}), batch {b}")
        if steps_b:
            loss[b], grad[:steps_b, b] = _one_sequence(ctx, wide[:steps_b, b], label)
    return loss.astype(inputs.dtype), grad.astype(inputs.dtype)


CTCGreedyDecoder = registry.register_op(
    "CTCGreedyDecoder", inputs=["inputs: T", "sequence_length: int32"],
    outputs=["decoded_indices: int64", "decoded_values: int64", "decoded_shape: int64",
             "log_probability: T"],
    attrs={"merge_repeated": False,
           "T": registry.Attr("type", dtypes.float32, allowed=[dtypes.float32, dtypes.float64])})
CTCGreedyDecoder.not_differentiable()


@CTCGreedyDecoder.shape
def _ctc_greedy_shape(op):
    inputs = op.inputs[0].get_shape().with_rank(3)
    batch = inputs[1].merge_with(op.inputs[1].get_shape().with_rank(1)[0])
    return [tensor_shape.TensorShape([None, 2]), tensor_shape.TensorShape([None]),
            tensor_shape.TensorShape([2]), tensor_shape.TensorShape([batch, 1])]


@CTCGreedyDecoder.kernel("CPU")
def _ctc_greedy_kernel(ctx, inputs, seq_len):
    steps, batch, classes = inputs.shape
    best = inputs.argmax(axis=2)  # [T, B]
    indices, values, log_prob = [], [], np.zeros((batch, 1), inputs.dtype)
    longest = 0
    for b in range(batch):
        steps_b = int(seq_len[b])
        # TF: the score is -(sum over time of the best logit), not a normalized probability
        log_prob[b, 0] = -inputs[np.arange(steps_b), b, best[:steps_b, b]].sum()
        decoded, previous = [], -1
        for k in best[:steps_b, b].tolist():
            if k != classes - 1 and not (ctx.attrs["merge_repeated"] and k == previous):
                decoded.append(k)
            previous = k
        indices.extend([b, i] for i in range(len(decoded)))
        values.extend(decoded)
        longest = max(longest, len(decoded))
    return (np.array(indices, np.int64).reshape(-1, 2), np.array(values, np.int64),
            np.array([batch, longest], np.int64), log_prob)


CTCBeamSearchDecoder = registry.register_op(
    "CTCBeamSearchDecoder", inputs=["inputs: T", "sequence_length: int32"],
    outputs=["decoded_indices: top_paths * int64", "decoded_values: top_paths * int64",
             "decoded_shape: top_paths * int64", "log_probability: T"],
    attrs={"beam_width": registry.Attr("int"), "top_paths": registry.Attr("int"),
           "merge_repeated": True,
           "T": registry.Attr("type", dtypes.float32, allowed=[dtypes.float32, dtypes.float64])})
CTCBeamSearchDecoder.not_differentiable()


@CTCBeamSearchDecoder.shape
def _ctc_beam_shape(op):
    inputs = op.inputs[0].get_shape().with_rank(3)
    batch = inputs[1].merge_with(op.inputs[1].get_shape().with_rank(1)[0])
    k = op.get_attr("top_paths")
    return ([tensor_shape.TensorShape([None, 2])] * k + [tensor_shape.TensorShape([None])] * k
            + [tensor_shape.TensorShape([2])] * k + [tensor_shape.TensorShape([batch, k])])


def _prefix_beam_search(logp, beam_width):
    """{labeling: log p} of the surviving beams: CTC prefix search, each prefix keeping the
    log probabilities of its paths ending in a blank and in its last label."""
    blank = logp.shape[1] - 1
    beams = {(): (0.0, -np.inf)}
    for step in logp:
        grown = {}

        def add(prefix, blank_part, label_part):
            pb, pl = grown.get(prefix, (-np.inf, -np.inf))
            grown[prefix] = (np.logaddexp(pb, blank_part), np.logaddexp(pl, label_part))
        for prefix, (pb, pl) in beams.items():
            total = np.logaddexp(pb, pl)
            add(prefix, total + step[blank], -np.inf)
            for c in range(blank):
                if prefix and prefix[-1] == c:  # a repeat extends only after a blank
                    add(prefix + (c,), -np.inf, pb + step[c])
                    add(prefix, -np.inf, pl + step[c])
                else:
                    add(prefix + (c,), -np.inf, total + step[c])
        best = sorted(grown.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:beam_width]
        beams = dict(best)
    return {prefix: float(np.logaddexp(pb, pl)) for prefix, (pb, pl) in beams.items()}


def _merged(labels):
    return tuple(v for i, v in enumerate(labels) if i == 0 or v != labels[i - 1])


@CTCBeamSearchDecoder.kernel("CPU")
def _ctc_beam_kernel(ctx, inputs, seq_len):
    steps, batch, _ = inputs.shape
    width, k = ctx.attrs["beam_width"], ctx.attrs["top_paths"]
    if not 0 < k <= width:
        raise errors.InvalidArgumentError(None, ctx.op, f"top_paths must be in [1, beam_width "
                                                        f"= {width}], got {k}")
    paths = [[] for _ in range(k)]
    log_prob = np.full((batch, k), -np.inf)
    for b in range(batch):
        scores = _prefix_beam_search(_log_softmax(inputs[:int(seq_len[b]), b].astype(np.float64)),
                                     width)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
        for i, (labels, score) in enumerate(ranked):
            # TF: with merge_repeated, repeats in a beam's output are merged once more
            paths[i].append(_merged(labels) if ctx.attrs["merge_repeated"] else labels)
            log_prob[b, i] = score
        for i in range(len(ranked), k):
            paths[i].append(())
    out = []
    for part in range(3):
        for labelings in paths:
            ix = [[b, j] for b, seq in enumerate(labelings) for j in range(len(seq))]
            vals = [v for seq in labelings for v in seq]
            shape = [batch, max([len(seq) for seq in labelings] + [0])]
            out.append([np.array(ix, np.int64).reshape(-1, 2), np.array(vals, np.int64),
                        np.array(shape, np.int64)][part])
    return tuple(out) + (log_prob.astype(inputs.dtype),)


def _time_major(inputs, time_major):
    inputs = ops.convert_to_tensor(inputs, name="inputs")
    return inputs if time_major else array_ops.transpose(inputs, [1, 0, 2])


def ctc_loss(labels, inputs, sequence_length, preprocess_collapse_repeated=False,
             ctc_merge_repeated=True, ignore_longer_outputs_than_inputs=False, time_major=True):
    """The CTC loss -log p(labels | inputs) per batch entry.

    Args:
      labels: an int32 SparseTensor; labels.indices[i] = (batch, position) of labels.values[i].
      inputs: logits, [max_time, batch, num_classes] (or [batch, max_time, num_classes] with
        time_major=False); class num_classes - 1 is the blank.
      sequence_length: int32 [batch], the length of each input sequence.
    Returns:
      A [batch] tensor of losses.
    """
    if not isinstance(labels, SparseTensor):
        raise TypeError("Expected labels (first argument) to be a SparseTensor")
    inputs = _time_major(inputs, time_major)
    loss, _ = apply_op("CTCLoss", inputs, labels.indices, labels.values, sequence_length,
                       preprocess_collapse_repeated=preprocess_collapse_repeated,
                       ctc_merge_repeated=ctc_merge_repeated,
                       ignore_longer_outputs_than_inputs=ignore_longer_outputs_than_inputs)
    return loss


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True):
    """Best path decoding: the most likely class per step, repeats merged, blanks dropped.

    Returns:
      ([SparseTensor of int64 decoded labels], [batch, 1] negative sum of the best logits).
    """
    ix, val, shape, log_prob = apply_op("CTCGreedyDecoder", inputs, sequence_length,
                                        merge_repeated=merge_repeated)
    return [SparseTensor(ix, val, shape)], log_prob


def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1,
                            merge_repeated=True):
    """The top_paths most likely labelings by CTC prefix beam search.

    Returns:
      ([top_paths SparseTensors of int64 labels], [batch, top_paths] log probabilities).
    """
    outs = apply_op("CTCBeamSearchDecoder", inputs, sequence_length, beam_width=beam_width,
                    top_paths=top_paths, merge_repeated=merge_repeated)
    ix, vals, shapes, log_prob = outs
    return [SparseTensor(i, v, s) for i, v, s in zip(ix, vals, shapes)], log_prob
