"""Writes `tf_saver/` here with TensorFlow's own tf.compat.v1.train.Saver (needs TensorFlow).

Run once with a Python that has TensorFlow 2.21; the files are committed so tensorflux's tests
check that it reads what TensorFlow writes without TensorFlow installed.
"""
import os

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tf_saver")


def tf_values():
    """The values the TensorFlow-written checkpoint holds, by checkpoint key."""
    return {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
        "step": np.array(42, np.int64),
        "words": np.array([b"alpha", b"", b"\xff\x00binary"], dtype=object),
        "part": np.arange(40, dtype=np.float64).reshape(10, 4) - 3.5,
    }


def _slice_of(full):
    def init(shape, dtype=None, partition_info=None):
        start = partition_info.var_offset[0] if partition_info is not None else 0
        return tf.constant(full[start:start + shape[0]])
    return init


def main():
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    values = tf_values()
    with tf1.Graph().as_default():
        tf1.Variable(values["w"], name="w")
        tf1.Variable(values["step"], name="step")
        tf1.Variable(values["words"], name="words")
        tf1.get_variable("part", shape=[10, 4], dtype=tf.float64,
                         partitioner=tf1.fixed_size_partitioner(3),
                         initializer=_slice_of(values["part"]))
        saver = tf1.train.Saver(save_relative_paths=True)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            os.makedirs(OUT, exist_ok=True)
            saver.save(sess, os.path.join(OUT, "model"), global_step=1, write_meta_graph=False)


if __name__ == "__main__":
    main()
