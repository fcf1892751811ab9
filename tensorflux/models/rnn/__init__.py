"""TensorFlow tutorial model helpers for RNNs (PTB reader, translate data utilities).

TensorFlow 0.9 scripts also imported the RNN library from here
(`from tensorflow.models.rnn import rnn_cell, seq2seq, rnn`); those names re-export
tensorflux's (tensorflux/nn/rnn_cell.py, tensorflux/nn/seq2seq.py, tensorflux/rnn/rnn.py).
"""
from tensorflux.nn import rnn_cell  # noqa: F401
from tensorflux.nn import seq2seq  # noqa: F401
from tensorflux.rnn import rnn  # noqa: F401
