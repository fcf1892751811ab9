"""tf.nn.rnn_cell: TensorFlow 0.9's RNN cells (the classes live in tensorflux/rnn/rnn_cell.py).

As in TF 0.9, BasicLSTMCell, LSTMCell and MultiRNNCell default to state_is_tuple=False here (one
concatenated [batch, c + h] state tensor, which 0.9 scripts evaluate and feed back as an array);
pass state_is_tuple=True for LSTMStateTuple states. tf.contrib.rnn has TF 1.0's defaults (True).
Variable names are TF 1.0's ("rnn/basic_lstm_cell/weights"), not 0.9's ("RNN/BasicLSTMCell/
Linear/Matrix").
"""
from tensorflux.rnn import rnn_cell as _cells
from tensorflux.rnn.rnn_cell import (  # noqa: F401
    BasicRNNCell,
    DropoutWrapper,
    EmbeddingWrapper,
    GRUCell,
    InputProjectionWrapper,
    LSTMStateTuple,
    OutputProjectionWrapper,
    RNNCell,
    linear,
)


class BasicLSTMCell(_cells.BasicLSTMCell):
    """BasicLSTMCell with TF 0.9's default state_is_tuple=False."""

    def __init__(self, num_units, forget_bias=1.0, input_size=None, state_is_tuple=False,
                 activation=_cells.tanh):
        super().__init__(num_units, forget_bias, input_size, state_is_tuple, activation)


class LSTMCell(_cells.LSTMCell):
    """LSTMCell with TF 0.9's default state_is_tuple=False."""

    def __init__(self, num_units, input_size=None, use_peepholes=False, cell_clip=None,
                 initializer=None, num_proj=None, proj_clip=None, num_unit_shards=1,
                 num_proj_shards=1, forget_bias=1.0, state_is_tuple=False,
                 activation=_cells.tanh):
        super().__init__(num_units, input_size, use_peepholes, cell_clip, initializer, num_proj,
                         proj_clip, num_unit_shards, num_proj_shards, forget_bias,
                         state_is_tuple, activation)


class MultiRNNCell(_cells.MultiRNNCell):
    """MultiRNNCell with TF 0.9's default state_is_tuple=False."""

    def __init__(self, cells, state_is_tuple=False):
        super().__init__(cells, state_is_tuple)
