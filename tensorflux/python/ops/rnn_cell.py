"""tensorflow.python.ops.rnn_cell -> tensorflux.nn.rnn_cell (TF 0.9's defaults).

0.9 code called the private `rnn_cell._linear(args, output_size, bias, bias_start, scope)`;
that is tensorflux's `linear`, which takes the same arguments.
"""
from tensorflux.nn.rnn_cell import *  # noqa: F401,F403
from tensorflux.nn.rnn_cell import linear as _linear  # noqa: F401
