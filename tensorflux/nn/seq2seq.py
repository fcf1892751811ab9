"""tf.nn.seq2seq: TensorFlow 0.9's sequence-to-sequence models (defined in
tensorflux/rnn/seq2seq.py; TF 1.0 calls this module tf.contrib.legacy_seq2seq)."""
from tensorflux.rnn.seq2seq import (  # noqa: F401
    attention_decoder,
    basic_rnn_seq2seq,
    embedding_attention_decoder,
    embedding_attention_seq2seq,
    embedding_rnn_decoder,
    embedding_rnn_seq2seq,
    model_with_buckets,
    rnn_decoder,
    sequence_loss,
    sequence_loss_by_example,
    tied_rnn_seq2seq,
)
from tensorflux.rnn.seq2seq_multi import (  # noqa: F401,E402
    embedding_tied_rnn_seq2seq, one2many_rnn_seq2seq)
