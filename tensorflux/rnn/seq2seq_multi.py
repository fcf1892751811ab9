"""Two more of TF 0.9's `tf.nn.seq2seq` models (TF 1.0's `tf.contrib.legacy_seq2seq`):
`embedding_tied_rnn_seq2seq` (one embedding and one cell for encoder and decoder) and
`one2many_rnn_seq2seq` (one encoder, several named decoders: multi-task). Built on
tensorflux/rnn/seq2seq.py; scopes and variable names follow TF 1.0.
"""
import inspect

from tensorflux.framework import ops
from tensorflux.rnn import rnn, rnn_cell
from tensorflux.rnn import seq2seq
from tensorflux.ops import variable_scope as vs

__all__ = ["embedding_tied_rnn_seq2seq", "one2many_rnn_seq2seq"]


def embedding_tied_rnn_seq2seq(encoder_inputs, decoder_inputs, cell, num_symbols,
                               embedding_size, num_decoder_symbols=None,
                               output_projection=None, feed_previous=False, dtype=None,
                               scope=None):
    """tied_rnn_seq2seq on ids embedded by one shared `embedding` [num_symbols,
    embedding_size].

    Outputs are logits over num_decoder_symbols (num_symbols if None) unless
    output_projection is given; feed_previous (a bool or a bool tensor) feeds back the
    embedding of the previous output's argmax. Returns (outputs, state) of the decoder.
    """
    with vs.variable_scope(scope or "embedding_tied_rnn_seq2seq", dtype=dtype) as varscope:
        dtype = varscope.dtype
        output_symbols = num_decoder_symbols or num_symbols
        projection = seq2seq._check_projection(output_projection, output_symbols, dtype)
        with ops.device("/cpu:0"):
            embedding = vs.get_variable("embedding", [num_symbols, embedding_size],
                                        dtype=dtype)
        emb_encoder = [seq2seq._embed(embedding, x) for x in encoder_inputs]
        emb_decoder = [seq2seq._embed(embedding, x) for x in decoder_inputs]
        if projection is None:
            cell = rnn_cell.OutputProjectionWrapper(cell, output_symbols)

        def decoder(feed_back):
            loop = (seq2seq._extract_argmax_and_embed(embedding, projection, True)
                    if feed_back else None)
            return seq2seq.tied_rnn_seq2seq(emb_encoder, emb_decoder, cell,
                                            loop_function=loop, dtype=dtype)
        return seq2seq._decode_either_way(feed_previous, decoder)


_SIGNATURE_1_0 = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                      default=d) for n, d in (
    ("enc_cell", inspect.Parameter.empty), ("dec_cells_dict", inspect.Parameter.empty),
    ("num_encoder_symbols", inspect.Parameter.empty),
    ("num_decoder_symbols_dict", inspect.Parameter.empty),
    ("embedding_size", inspect.Parameter.empty), ("feed_previous", False), ("dtype", None),
    ("scope", None))])
# TF 0.9: one cell for the encoder and (a copy of its variables in) every decoder.
_SIGNATURE_0_9 = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                      default=d) for n, d in (
    ("cell", inspect.Parameter.empty), ("num_encoder_symbols", inspect.Parameter.empty),
    ("num_decoder_symbols_dict", inspect.Parameter.empty),
    ("embedding_size", inspect.Parameter.empty), ("feed_previous", False), ("dtype", None),
    ("scope", None))])


def one2many_rnn_seq2seq(encoder_inputs, decoder_inputs_dict, *args, **kwargs):
    """One embedding encoder, one embedding_rnn_decoder per key of decoder_inputs_dict.

    TF 1.0's arguments: (enc_cell, dec_cells_dict, num_encoder_symbols,
    num_decoder_symbols_dict, embedding_size, feed_previous=False, dtype=None, scope=None);
    TF 0.9's: (cell, num_encoder_symbols, num_decoder_symbols_dict, embedding_size,
    feed_previous=False, dtype=None, scope=None), one cell for all. Each decoder's outputs
    are logits over its num_decoder_symbols_dict[key] symbols.

    Returns:
      (outputs_dict, state_dict), keyed like decoder_inputs_dict.
    """
    old = "cell" in kwargs or (len(args) >= 2 and not isinstance(args[1], dict))
    bound = (_SIGNATURE_0_9 if old else _SIGNATURE_1_0).bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    enc_cell = a["cell"] if old else a["enc_cell"]
    dec_cells = ({k: a["cell"] for k in decoder_inputs_dict} if old else a["dec_cells_dict"])
    _check_keys(decoder_inputs_dict, dec_cells, a["num_decoder_symbols_dict"])
    with vs.variable_scope(a["scope"] or "one2many_rnn_seq2seq", dtype=a["dtype"]) as varscope:
        dtype = varscope.dtype
        encoder_cell = rnn_cell.EmbeddingWrapper(enc_cell, a["num_encoder_symbols"],
                                                 a["embedding_size"])
        _, encoder_state = rnn.static_rnn(encoder_cell, encoder_inputs, dtype=dtype)
        outputs, states = {}, {}
        for name, decoder_inputs in decoder_inputs_dict.items():
            with vs.variable_scope(f"one2many_decoder_{name}"):
                outputs[name], states[name] = _decoder(
                    decoder_inputs, encoder_state, dec_cells[name],
                    a["num_decoder_symbols_dict"][name], a["embedding_size"],
                    a["feed_previous"])
        return outputs, states


def _check_keys(decoder_inputs_dict, dec_cells, num_symbols):
    for what, d in (("dec_cells_dict", dec_cells), ("num_decoder_symbols_dict", num_symbols)):
        if not isinstance(d, dict) or not set(decoder_inputs_dict) <= set(d):
            raise ValueError(f"one2many_rnn_seq2seq: {what} needs an entry for each key of "
                             f"decoder_inputs_dict {sorted(decoder_inputs_dict)}")


def _decoder(decoder_inputs, encoder_state, cell, num_symbols, embedding_size, feed_previous):
    cell = rnn_cell.OutputProjectionWrapper(cell, num_symbols)

    def decoder(feed_back):
        return seq2seq.embedding_rnn_decoder(
            decoder_inputs, encoder_state, cell, num_symbols, embedding_size,
            feed_previous=feed_back,
            update_embedding_for_previous=isinstance(feed_previous, bool))
    return seq2seq._decode_either_way(feed_previous, decoder)
