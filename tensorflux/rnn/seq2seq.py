"""Sequence-to-sequence models on statically unrolled RNNs (`tf.nn.seq2seq` in TF 0.9,
`tf.contrib.legacy_seq2seq` in TF 1.0): encoders, (attention) decoders, sequence losses and
bucketed models.

Inputs are Python lists with one tensor per time step: floats [batch, input_size] for the basic
models, int32 ids [batch] for the embedding models. Scopes and variable names follow TF 1.0
("embedding_attention_seq2seq/rnn/embedding_wrapper/embedding", ".../attention_decoder/AttnW_0").
"""
import inspect

from tensorflux.framework import dtypes, ops
from tensorflux.ops import (
    array_ops,
    indexing_ops,
    joining_ops,
    linalg_ops,
    math_ops,
    nn_ops,
    reduction_ops,
)
from tensorflux.ops import variable_scope as vs
from tensorflux.rnn import nest, rnn, rnn_cell

__all__ = [
    "attention_decoder",
    "basic_rnn_seq2seq",
    "embedding_attention_decoder",
    "embedding_attention_seq2seq",
    "embedding_rnn_decoder",
    "embedding_rnn_seq2seq",
    "model_with_buckets",
    "rnn_decoder",
    "sequence_loss",
    "sequence_loss_by_example",
    "tied_rnn_seq2seq",
]

_linear = rnn_cell._linear


# ---- plain decoders and seq2seq ------------------------------------------------------------
def rnn_decoder(decoder_inputs, initial_state, cell, loop_function=None, scope=None):
    """Runs `cell` over decoder_inputs from initial_state.

    Args:
      loop_function: if given, step i > 0 uses loop_function(previous output, i) as its input
        instead of decoder_inputs[i] (e.g. the embedding of the previous argmax).
      scope: variable scope (default "rnn_decoder").
    Returns:
      (outputs, state): a list of outputs [batch, cell.output_size] and the final state.
    """
    with vs.variable_scope(scope or "rnn_decoder"):
        state, outputs, prev = initial_state, [], None
        for i, inp in enumerate(decoder_inputs):
            if loop_function is not None and prev is not None:
                with vs.variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            if i > 0:
                vs.get_variable_scope().reuse_variables()
            output, state = cell(inp, state)
            outputs.append(output)
            if loop_function is not None:
                prev = output
    return outputs, state


def basic_rnn_seq2seq(encoder_inputs, decoder_inputs, cell, dtype=dtypes.float32, scope=None):
    """Encodes encoder_inputs with static_rnn; decodes from its final state with rnn_decoder.

    Returns:
      (outputs, state) of the decoder.
    """
    with vs.variable_scope(scope or "basic_rnn_seq2seq"):
        _, enc_state = rnn.static_rnn(cell, encoder_inputs, dtype=dtype)
        return rnn_decoder(decoder_inputs, enc_state, cell)


def tied_rnn_seq2seq(encoder_inputs, decoder_inputs, cell, loop_function=None,
                     dtype=dtypes.float32, scope=None):
    """basic_rnn_seq2seq with the encoder's and decoder's variables shared."""
    with vs.variable_scope("combined_tied_rnn_seq2seq"):
        scope = scope or "tied_rnn_seq2seq"
        _, enc_state = rnn.static_rnn(cell, encoder_inputs, dtype=dtype, scope=scope)
        vs.get_variable_scope().reuse_variables()
        return rnn_decoder(decoder_inputs, enc_state, cell, loop_function=loop_function,
                           scope=scope)


# ---- embedding decoders --------------------------------------------------------------------
def _embed(embedding, ids):
    return indexing_ops.gather(embedding, ids)


def _check_projection(output_projection, num_symbols, dtype):
    """output_projection = (W [output_size, num_symbols], B [num_symbols]) as tensors."""
    if output_projection is None:
        return None
    weights = ops.convert_to_tensor(output_projection[0], dtype=dtype)
    biases = ops.convert_to_tensor(output_projection[1], dtype=dtype)
    weights.get_shape().assert_is_compatible_with([None, num_symbols])
    biases.get_shape().assert_is_compatible_with([num_symbols])
    return weights, biases


def _extract_argmax_and_embed(embedding, output_projection=None,
                              update_embedding=True):
    """A loop_function feeding back the embedding of the previous output's argmax."""
    def loop_function(prev, _):
        if output_projection is not None:
            prev = nn_ops.xw_plus_b(prev, output_projection[0], output_projection[1])
        emb_prev = _embed(embedding, reduction_ops.argmax(prev, 1))
        return emb_prev if update_embedding else array_ops.stop_gradient(emb_prev)
    return loop_function


def embedding_rnn_decoder(decoder_inputs, initial_state, cell, num_symbols, embedding_size,
                          output_projection=None, feed_previous=False,
                          update_embedding_for_previous=True, scope=None):
    """rnn_decoder on embedded int32 ids (variable `embedding` [num_symbols, embedding_size]).

    Args:
      output_projection: (W, B) applied to outputs before the argmax when feeding back.
      feed_previous: if True, steps after the first use the embedding of the previous
        output's argmax (greedy decoding) instead of decoder_inputs.
    """
    with vs.variable_scope(scope or "embedding_rnn_decoder") as varscope:
        projection = _check_projection(output_projection, num_symbols, varscope.dtype)
        embedding = vs.get_variable("embedding", [num_symbols, embedding_size])
        loop_function = (_extract_argmax_and_embed(embedding, projection,
                                                   update_embedding_for_previous)
                         if feed_previous else None)
        emb_inputs = [_embed(embedding, i) for i in decoder_inputs]
        return rnn_decoder(emb_inputs, initial_state, cell, loop_function=loop_function)


def _decode_either_way(feed_previous, decoder):
    """decoder(feed_previous) for a Python bool; for a bool tensor, both decoders (variables
    shared) and a Select between their results."""
    if isinstance(feed_previous, bool):
        return decoder(feed_previous)
    with vs.variable_scope(vs.get_variable_scope()):
        fed_back = decoder(True)
    with vs.variable_scope(vs.get_variable_scope(), reuse=True):
        given = decoder(False)
    flag = ops.convert_to_tensor(feed_previous, dtype=dtypes.bool, name="feed_previous")
    return nest.map_structure(lambda a, b: math_ops.select(flag, a, b), fed_back, given)


def embedding_rnn_seq2seq(encoder_inputs, decoder_inputs, cell, num_encoder_symbols,
                          num_decoder_symbols, embedding_size, output_projection=None,
                          feed_previous=False, dtype=None, scope=None):
    """Embedding encoder (EmbeddingWrapper + static_rnn) and embedding_rnn_decoder.

    Unless output_projection is given, the decoder cell gets an OutputProjectionWrapper to
    num_decoder_symbols, so outputs are logits. feed_previous may be a bool or a bool tensor.
    Returns:
      (outputs, state) of the decoder.
    """
    with vs.variable_scope(scope or "embedding_rnn_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        encoder_cell = rnn_cell.EmbeddingWrapper(cell, num_encoder_symbols, embedding_size)
        _, encoder_state = rnn.static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        if output_projection is None:
            cell = rnn_cell.OutputProjectionWrapper(cell, num_decoder_symbols)

        def decoder(feed_back):
            return embedding_rnn_decoder(
                decoder_inputs, encoder_state, cell, num_decoder_symbols, embedding_size,
                output_projection=output_projection, feed_previous=feed_back,
                update_embedding_for_previous=isinstance(feed_previous, bool))
        return _decode_either_way(feed_previous, decoder)


# ---- attention -----------------------------------------------------------------------------
class _Attention:
    """Bahdanau-style attention heads over attention_states [batch, length, size]."""

    def __init__(self, attention_states, num_heads, dtype):
        shape = attention_states.get_shape().with_rank(3)
        if shape[2].value is None:
            raise ValueError(f"Shape[2] of attention_states must be known: {shape}")
        self.size = shape[2].value
        self.hidden = attention_states                                      # [B, L, A]
        self.num_heads = num_heads
        flat = array_ops.reshape(attention_states, [-1, self.size])         # [B*L, A]
        length = shape[1].value
        if length is None:
            length = array_ops.shape(attention_states)[1]
        self.features, self.v = [], []
        for a in range(num_heads):
            # TF stores a 1x1 convolution filter; as a matrix it is [A, A].
            k = vs.get_variable(f"AttnW_{a}", [1, 1, self.size, self.size], dtype=dtype)
            feat = linalg_ops.matmul(flat, array_ops.reshape(k, [self.size, self.size]))
            self.features.append(array_ops.reshape(
                feat, joining_ops.stack([-1, length, self.size])))         # [B, L, A]
            self.v.append(vs.get_variable(f"AttnV_{a}", [self.size], dtype=dtype))

    def __call__(self, query):
        """The attention-weighted sums of the states for `query` (a state): one [B, A] per head."""
        query = nest.flatten(query)
        query = query[0] if len(query) == 1 else joining_ops.concat(query, 1)
        reads = []
        for a in range(self.num_heads):
            with vs.variable_scope(f"Attention_{a}"):
                y = array_ops.expand_dims(_linear(query, self.size, True), 1)    # [B, 1, A]
                scores = reduction_ops.reduce_sum(
                    self.v[a] * math_ops.tanh(self.features[a] + y), [2])       # [B, L]
                weights = array_ops.expand_dims(nn_ops.softmax(scores), 2)      # [B, L, 1]
                read = reduction_ops.reduce_sum(weights * self.hidden, [1])     # [B, A]
                read.set_shape([None, self.size])
                reads.append(read)
        return reads

    def zeros(self, like, dtype):
        batch = array_ops.shape(like)[0]
        reads = [array_ops.zeros(joining_ops.stack([batch, self.size]), dtype=dtype)
                 for _ in range(self.num_heads)]
        for r in reads:
            r.set_shape([None, self.size])
        return reads


def attention_decoder(decoder_inputs, initial_state, attention_states, cell, output_size=None,
                      num_heads=1, loop_function=None, dtype=None, scope=None,
                      initial_state_attention=False):
    """RNN decoder attending over attention_states (Bahdanau et al. 2015; Vinyals et al. 2015).

    At step i the cell input is linear([input_i] + attention reads); after the cell, the state
    queries each head, and the output is linear([cell output] + reads) of size output_size.

    Args:
      decoder_inputs: list of [batch, input_size] tensors.
      initial_state: the cell's starting state.
      attention_states: [batch, attn_length, attn_size].
      output_size: default cell.output_size.
      num_heads: number of attention heads.
      loop_function: as in rnn_decoder.
      initial_state_attention: if True, the first step's reads come from initial_state
        (else they are zeros).
    Returns:
      (outputs, state): a list of [batch, output_size] outputs and the final state.
    """
    if not decoder_inputs:
        raise ValueError("Must provide at least 1 input to attention decoder.")
    if num_heads < 1:
        raise ValueError("With less than 1 heads, use a non-attention decoder.")
    output_size = cell.output_size if output_size is None else output_size
    with vs.variable_scope(scope or "attention_decoder", dtype=dtype) as varscope:
        dtype = varscope.dtype
        attention = _Attention(attention_states, num_heads, dtype)
        reads = (attention(initial_state) if initial_state_attention
                 else attention.zeros(decoder_inputs[0], dtype))
        state, outputs, prev = initial_state, [], None
        for i, inp in enumerate(decoder_inputs):
            if i > 0:
                vs.get_variable_scope().reuse_variables()
            if loop_function is not None and prev is not None:
                with vs.variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            input_size = inp.get_shape().with_rank(2)[1].value
            if input_size is None:
                raise ValueError(f"Could not infer input size from input: {inp.name}")
            cell_output, state = cell(_linear([inp] + reads, input_size, True), state)
            if i == 0 and initial_state_attention:
                with vs.variable_scope(vs.get_variable_scope(), reuse=True):
                    reads = attention(state)
            else:
                reads = attention(state)
            with vs.variable_scope("AttnOutputProjection"):
                output = _linear([cell_output] + reads, output_size, True)
            if loop_function is not None:
                prev = output
            outputs.append(output)
    return outputs, state


def embedding_attention_decoder(decoder_inputs, initial_state, attention_states, cell,
                                num_symbols, embedding_size, num_heads=1, output_size=None,
                                output_projection=None, feed_previous=False,
                                update_embedding_for_previous=True, dtype=None, scope=None,
                                initial_state_attention=False):
    """attention_decoder on embedded int32 ids (variable `embedding`)."""
    output_size = cell.output_size if output_size is None else output_size
    with vs.variable_scope(scope or "embedding_attention_decoder", dtype=dtype) as varscope:
        projection = _check_projection(output_projection, num_symbols, varscope.dtype)
        embedding = vs.get_variable("embedding", [num_symbols, embedding_size])
        loop_function = (_extract_argmax_and_embed(embedding, projection,
                                                   update_embedding_for_previous)
                         if feed_previous else None)
        emb_inputs = [_embed(embedding, i) for i in decoder_inputs]
        return attention_decoder(emb_inputs, initial_state, attention_states, cell,
                                 output_size=output_size, num_heads=num_heads,
                                 loop_function=loop_function,
                                 initial_state_attention=initial_state_attention)


def embedding_attention_seq2seq(encoder_inputs, decoder_inputs, cell, num_encoder_symbols,
                                num_decoder_symbols, embedding_size, num_heads=1,
                                output_projection=None, feed_previous=False, dtype=None,
                                scope=None, initial_state_attention=False):
    """Embedding encoder and an embedding attention decoder over the encoder's outputs (the
    translate tutorial's model).

    Returns:
      (outputs, state): decoder outputs (logits [batch, num_decoder_symbols] unless
      output_projection is given) and the final state.
    """
    with vs.variable_scope(scope or "embedding_attention_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        encoder_cell = rnn_cell.EmbeddingWrapper(cell, num_encoder_symbols, embedding_size)
        encoder_outputs, encoder_state = rnn.static_rnn(encoder_cell, encoder_inputs,
                                                        dtype=dtype)
        top_states = [array_ops.reshape(e, [-1, 1, cell.output_size]) for e in encoder_outputs]
        attention_states = joining_ops.concat(top_states, 1)      # [B, T_enc, output_size]
        output_size = None
        if output_projection is None:
            cell = rnn_cell.OutputProjectionWrapper(cell, num_decoder_symbols)
            output_size = num_decoder_symbols

        def decoder(feed_back):
            return embedding_attention_decoder(
                decoder_inputs, encoder_state, attention_states, cell, num_decoder_symbols,
                embedding_size, num_heads=num_heads, output_size=output_size,
                output_projection=output_projection, feed_previous=feed_back,
                update_embedding_for_previous=isinstance(feed_previous, bool),
                initial_state_attention=initial_state_attention)
        return _decode_either_way(feed_previous, decoder)


# ---- losses and buckets ----------------------------------------------------------------------
def _wants_keywords(fn):
    """True for a TF >= 1.1 style loss fn(labels, logits); 0.9/1.0 ones take (logits, labels)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return "labels" in params and "logits" in params


def _crossent(logit, target, softmax_loss_function):
    if softmax_loss_function is None:
        return nn_ops.sparse_softmax_cross_entropy_with_logits(
            labels=array_ops.reshape(target, [-1]), logits=logit)
    if _wants_keywords(softmax_loss_function):
        return softmax_loss_function(labels=target, logits=logit)
    return softmax_loss_function(logit, target)


def sequence_loss_by_example(logits, targets, weights, average_across_timesteps=True,
                             softmax_loss_function=None, name=None):
    """Weighted cross-entropy per example, summed over the steps:
    sum_t w_t * xent(logits_t, targets_t) [/ (sum_t w_t + 1e-12)].

    Args:
      logits: list of [batch, num_classes] tensors.
      targets: list of int32 [batch] tensors.
      weights: list of float [batch] tensors.
      average_across_timesteps: divide by the total weight per example.
      softmax_loss_function: fn(logits, labels) (or fn(labels=, logits=)) replacing the
        sparse softmax cross-entropy, e.g. a sampled softmax.
    Returns:
      A [batch] tensor of log-perplexities.
    Raises:
      ValueError: if logits, targets and weights differ in length.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(f"Lengths of logits, weights, and targets must be the same "
                         f"{len(logits)}, {len(weights)}, {len(targets)}.")
    with ops.name_scope(name, "sequence_loss_by_example", list(logits) + list(targets) +
                        list(weights)):
        log_perps = math_ops.add_n([
            _crossent(logit, target, softmax_loss_function) * weight
            for logit, target, weight in zip(logits, targets, weights)])
        if average_across_timesteps:
            log_perps /= math_ops.add_n(list(weights)) + 1e-12
        return log_perps


def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, softmax_loss_function=None, name=None):
    """The sum of sequence_loss_by_example over the batch (its mean with
    average_across_batch). Returns a scalar."""
    with ops.name_scope(name, "sequence_loss", list(logits) + list(targets) + list(weights)):
        cost = reduction_ops.reduce_sum(sequence_loss_by_example(
            logits, targets, weights, average_across_timesteps=average_across_timesteps,
            softmax_loss_function=softmax_loss_function))
        if average_across_batch:
            batch_size = array_ops.shape(targets[0])[0]
            return cost / math_ops.cast(batch_size, cost.dtype.base_dtype)
        return cost


def _check_bucket_lengths(encoder_inputs, targets, weights, buckets):
    enc_len, dec_len = buckets[-1]
    if len(encoder_inputs) < enc_len:
        raise ValueError(f"Length of the encoder inputs ({len(encoder_inputs)}) must be at "
                         f"least that of last bucket ({enc_len}).")
    if len(targets) < dec_len:
        raise ValueError(f"Length of targets ({len(targets)}) must be at least that of last "
                         f"bucket ({dec_len}).")
    if len(weights) < dec_len:
        raise ValueError(f"Length of weights ({len(weights)}) must be at least that of last "
                         f"bucket ({dec_len}).")


def model_with_buckets(encoder_inputs, decoder_inputs, targets, weights, buckets, seq2seq,
                       softmax_loss_function=None, per_example_loss=False, name=None):
    """One seq2seq model per bucket (encoder length, decoder length), sharing variables.

    Args:
      encoder_inputs, decoder_inputs, targets, weights: lists at least as long as the last
        (largest) bucket.
      buckets: list of (encoder_size, decoder_size) pairs, increasing.
      seq2seq: fn(encoder_inputs, decoder_inputs) -> (outputs, state).
      per_example_loss: sequence_loss_by_example ([batch]) instead of sequence_loss.
    Returns:
      (outputs, losses): outputs[j] is bucket j's list of outputs, losses[j] its loss.
    """
    _check_bucket_lengths(encoder_inputs, targets, weights, buckets)
    all_inputs = list(encoder_inputs) + list(decoder_inputs) + list(targets) + list(weights)
    outputs, losses = [], []
    loss_fn = sequence_loss_by_example if per_example_loss else sequence_loss
    with ops.name_scope(name, "model_with_buckets", all_inputs):
        for j, (enc_len, dec_len) in enumerate(buckets):
            with vs.variable_scope(vs.get_variable_scope(), reuse=True if j > 0 else None):
                bucket_outputs, _ = seq2seq(encoder_inputs[:enc_len], decoder_inputs[:dec_len])
                outputs.append(bucket_outputs)
                losses.append(loss_fn(bucket_outputs, targets[:dec_len], weights[:dec_len],
                                      softmax_loss_function=softmax_loss_function))
    return outputs, losses
