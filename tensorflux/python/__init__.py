"""TensorFlow import-path shims (tensorflow.python.*): re-exports only.

TF 0.9's `tensorflow/__init__.py` was `from tensorflow.python import *`, and `tensorflow.python`
held the whole API plus its op modules as attributes, so 2016 code (Keras 1.x among it) wrote
`tf.python.control_flow_ops.cond(...)`; `tensorflux.python` does the same.
"""
from tensorflux import *  # noqa: F401,F403
from tensorflux.python import client, framework, ops, platform, training, summary, util  # noqa
from tensorflux.python.ops import (  # noqa: F401
    array_ops, candidate_sampling_ops, clip_ops, control_flow_ops, data_flow_ops, embedding_ops,
    functional_ops, gradients, image_ops, init_ops, io_ops, logging_ops, math_ops, nn, nn_ops,
    parsing_ops, partitioned_variables, random_ops, rnn, rnn_cell, script_ops, seq2seq,
    sparse_ops, state_ops, string_ops, summary_ops, tensor_array_ops, variable_scope, variables)
from tensorflux.python.framework import (  # noqa: F401
    constant_op, dtypes, errors, function, graph_util, importer, tensor_shape, tensor_util)
