"""tf.contrib.layers.fully_connected and embed_sequence, built from ops and get_variable."""
from tensorflux.framework import ops
from tensorflux.ops import (
    array_ops,
    indexing_ops,
    init_ops,
    joining_ops,
    linalg_ops,
    nn_ops,
    slicing_ops,
)
from tensorflux.ops import variable_scope as vs

__all__ = ["embed_sequence", "fully_connected"]

_ZEROS = init_ops.zeros_initializer()
_MODEL = [ops.GraphKeys.GLOBAL_VARIABLES, ops.GraphKeys.MODEL_VARIABLES]


def _collections(variables_collections, name, kind):
    extra = variables_collections
    if isinstance(extra, dict):
        extra = extra.get(name)
    return _MODEL + [kind] + list(extra or [])


def _flatten_to_2d(inputs):
    """inputs [..., n] as [prod(...), n], and a function restoring the leading dimensions."""
    shape = inputs.get_shape()
    if shape.ndims == 2:
        return inputs, lambda y: y
    dynamic = array_ops.shape(inputs)
    lead = slicing_ops.slice(dynamic, [0], [shape.ndims - 1])
    flat = array_ops.reshape(inputs, [-1, shape[-1].value])

    def restore(y):
        out = array_ops.reshape(y, joining_ops.concat([lead, array_ops.shape(y)[1:]], 0))
        out.set_shape(shape[:-1].concatenate(y.get_shape()[1:]))
        return out
    return flat, restore


def fully_connected(inputs, num_outputs, activation_fn=nn_ops.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None,
                    weights_regularizer=None, biases_initializer=_ZEROS,
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
    """activation_fn(inputs @ weights + biases) with variables `fully_connected/weights`
    [n, num_outputs] (xavier-initialized by default) and `fully_connected/biases`.

    Inputs of rank > 2 are applied on their last dimension. With normalizer_fn, the biases are
    replaced by normalizer_fn(x, **normalizer_params).
    """
    with vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        inputs = ops.convert_to_tensor(inputs)
        n = inputs.get_shape().with_rank_at_least(2)[-1].value
        if n is None:
            raise ValueError(f"fully_connected needs the last dimension of inputs to be known, "
                             f"got {inputs.get_shape()}")
        dtype = inputs.dtype.base_dtype
        weights = vs.get_variable(
            "weights", [n, num_outputs], dtype=dtype,
            initializer=weights_initializer or init_ops.xavier_initializer(),
            regularizer=weights_regularizer, trainable=trainable,
            collections=_collections(variables_collections, "weights", ops.GraphKeys.WEIGHTS))
        flat, restore = _flatten_to_2d(inputs)
        outputs = linalg_ops.matmul(flat, weights)
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        elif biases_initializer is not None:
            biases = vs.get_variable(
                "biases", [num_outputs], dtype=dtype, initializer=biases_initializer,
                regularizer=biases_regularizer, trainable=trainable,
                collections=_collections(variables_collections, "biases",
                                         ops.GraphKeys.BIASES))
            outputs = nn_ops.bias_add(outputs, biases)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        outputs = restore(outputs)
        for key in outputs_collections or []:
            ops.add_to_collection(key, outputs)
        ops.add_to_collection(ops.GraphKeys.ACTIVATIONS, outputs)
        return outputs


def embed_sequence(ids, vocab_size=None, embed_dim=None, unique=False, initializer=None,
                   regularizer=None, trainable=True, scope=None, reuse=None):
    """embeddings[ids] for int ids [batch, time], with the variable `EmbedSequence/embeddings`
    [vocab_size, embed_dim]; returns [batch, time, embed_dim]."""
    if not (reuse or (vocab_size and embed_dim)):
        raise ValueError(f"Must specify vocab size and embedding dimension when not reusing. "
                         f"Got vocab_size={vocab_size} and embed_dim={embed_dim}")
    with vs.variable_scope(scope, "EmbedSequence", [ids], reuse=reuse):
        shape = [vocab_size, embed_dim] if vocab_size and embed_dim else None
        embeddings = vs.get_variable("embeddings", shape=shape, initializer=initializer,
                                     regularizer=regularizer, trainable=trainable)
        return indexing_ops.gather(embeddings, ids)
