"""tf.contrib: TensorFlow 1.0's contributed namespaces (re-exports of library layers).

tf.contrib.rnn (cells and static RNNs), tf.contrib.legacy_seq2seq (seq2seq models),
tf.contrib.layers (initializers, regularizers, fully_connected, embed_sequence),
tf.contrib.cluster_resolver (clusters from TF_CONFIG, SLURM or given values) and
tf.contrib.training (ps load-balancing strategies for replica_device_setter).
"""
from tensorflux.contrib import (
    cluster_resolver,  # noqa: F401
    layers,  # noqa: F401
    legacy_seq2seq,  # noqa: F401
    rnn,  # noqa: F401
    training,  # noqa: F401
)
