"""Writes `tf_slices/` here with TensorFlow's own tf.compat.v1.train.Saver (needs TensorFlow).

Partitioned variables whose slice starts and lengths sit on the boundaries of OrderedCode's
signed-number lengths (63/64 and 8191/8192: one, two and three bytes), so the slice keys in the
index are TensorFlow's encoding of those numbers. Run once with a Python that has TensorFlow
2.21 (`/work/peers/bin/python make_tf_slice_golden.py`); the files are committed.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tf_slices")


def tf_values():
    """{variable name: (full value, number of row shards)}."""
    return {
        "rows128": (np.arange(128, dtype=np.float32).reshape(128, 1) / 4, 2),
        "rows127": (np.arange(127 * 2, dtype=np.float32).reshape(127, 2) - 9, 2),
        "rows16384": ((np.arange(16384) % 251).astype(np.int8).reshape(16384, 1), 2),
        "rows16383": ((np.arange(16383) % 13).astype(np.int8).reshape(16383, 1), 2),
    }


def _slice_of(full):
    import tensorflow as tf

    def init(shape, dtype=None, partition_info=None):
        start = partition_info.var_offset[0] if partition_info is not None else 0
        return tf.constant(full[start:start + shape[0]])
    return init


def main():
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    with tf1.Graph().as_default():
        for name, (full, shards) in tf_values().items():
            tf1.get_variable(name, shape=full.shape, dtype=tf.as_dtype(full.dtype),
                             partitioner=tf1.fixed_size_partitioner(shards),
                             initializer=_slice_of(full))
        saver = tf1.train.Saver(save_relative_paths=True)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            os.makedirs(OUT, exist_ok=True)
            saver.save(sess, os.path.join(OUT, "model"), global_step=1, write_meta_graph=False)


if __name__ == "__main__":
    main()
