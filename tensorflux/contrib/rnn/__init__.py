"""tf.contrib.rnn: TensorFlow 1.0's RNN cells and static RNNs (state_is_tuple=True defaults)."""
from tensorflux.rnn.rnn import (  # noqa: F401
    bidirectional_dynamic_rnn,
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
