"""Writes TensorFlow V1 checkpoints (TF 0.9's format: one LevelDB-style table of
SavedTensorSlices per file) with TensorFlow's own tf.compat.v1.train.Saver(write_version=V1).

  tf_v1/model.ckpt-7                        one file (Saver(write_version=V1))
  tf_v1_sharded/model.ckpt-3-0000s-of-00002 two shards (sharded=True, variables on two CPUs)

Run once with a Python that has TensorFlow 2.21 (`/work/peers/bin/python
make_tf_v1_golden.py`); the files are committed. `v1_values()` is what they hold.
"""
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def v1_values():
    """{variable name: value} of the plain variables."""
    return {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3) / 8 - 0.25,
        "b": np.array([1e-30, -2.5, 3e30], np.float64),
        "step": np.array(42, np.int32),
        "big": np.array([-(2 ** 40), 7], np.int64),
        "flags": np.array([True, False, True]),
        "bytes": np.array([-1, 0, 127], np.int8),
        "pixels": np.array([[0, 255]], np.uint8),
        "names": np.array([b"alpha", b"", b"\x00\xffz"], object),
        "half": np.array([0.5, -1.25], np.float16),
        "z": np.array([1 + 2j, -3.5j], np.complex64),
    }


def partitioned_value():
    """The full value of "part", saved as two row slices (3 and 2 rows)."""
    return np.arange(10, dtype=np.float32).reshape(5, 2) * 1.5


def _variables(tf1, tf, devices):
    for i, (name, value) in enumerate(sorted(v1_values().items())):
        with tf1.device(devices[i % len(devices)]):
            tf1.Variable(value, name=name)
    full = partitioned_value()

    def init(shape, dtype=None, partition_info=None):
        start = partition_info.var_offset[0] if partition_info is not None else 0
        return tf.constant(full[start:start + shape[0]])
    with tf1.device(devices[-1]):
        tf1.get_variable("part", shape=full.shape, dtype=tf.float32,
                         partitioner=tf1.fixed_size_partitioner(2), initializer=init)


def _save(out, name, step, sharded, devices, config=None):
    import tensorflow as tf
    tf1 = tf.compat.v1
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with tf1.Graph().as_default():
        _variables(tf1, tf, devices)
        saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1, sharded=sharded,
                                save_relative_paths=True)
        with tf1.Session(config=config) as sess:
            sess.run(tf1.global_variables_initializer())
            saver.save(sess, os.path.join(out, name), global_step=step, write_meta_graph=False)


def main():
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    _save(os.path.join(HERE, "tf_v1"), "model.ckpt", 7, False, ["/cpu:0"])
    two_cpus = tf1.ConfigProto(device_count={"CPU": 2})
    _save(os.path.join(HERE, "tf_v1_sharded"), "model.ckpt", 3, True, ["/cpu:0", "/cpu:1"],
          two_cpus)


if __name__ == "__main__":
    main()
