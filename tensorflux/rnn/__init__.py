"""RNN library layers built from ops: cells, static/dynamic RNNs and seq2seq models.

Namespaces: `tf.nn.rnn_cell`, `tf.nn.rnn`, `tf.nn.seq2seq` (TF 0.9) and `tf.contrib.rnn`,
`tf.contrib.legacy_seq2seq` (TF 1.0) re-export from here.
"""
from tensorflux.rnn import (
    nest,  # noqa: F401
    rnn_cell,  # noqa: F401
    seq2seq,  # noqa: F401
)
from tensorflux.rnn.rnn import (  # noqa: F401
    bidirectional_dynamic_rnn,
    bidirectional_rnn,
    dynamic_rnn,
    static_bidirectional_rnn,
    static_rnn,
)
from tensorflux.rnn.rnn_cell import (  # noqa: F401
    BasicLSTMCell,
    BasicRNNCell,
    DropoutWrapper,
    EmbeddingWrapper,
    GRUCell,
    InputProjectionWrapper,
    LSTMCell,
    LSTMStateTuple,
    MultiRNNCell,
    OutputProjectionWrapper,
    RNNCell,
)
