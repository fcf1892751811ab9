"""Writes, with TensorFlow 2.21 itself, every golden file under tests/data that claims
TensorFlow's bytes. Run it with the peer installation (never a dependency of tensorflux):

    /work/peers/bin/python tests/data/make_tf_goldens.py [OUT_DIR]     # default: tests/data

OUT_DIR gets the same layout as tests/data (tests/interop regenerates into a temporary
directory and checks the committed files are what TensorFlow writes today):

  checkpoints/golden.*        tf.raw_ops.SaveV2 of golden_tensors(): every dtype class, strings,
                              an empty tensor, and `part` saved as three slices
  checkpoints/slice_keys.*    SaveV2 of zero-width slices whose starts and lengths sit on
                              OrderedCode's length boundaries (63/64, 8191/8192, ... 2**62)
  checkpoints/tf_saver/       tf.compat.v1.train.Saver: plain variables and one partitioned
                              into 3 slices (saver_values())
  checkpoints/tf_partitioned/ Saver over variables made by tf.get_variable with
                              fixed_size_partitioner(2): a 128-row `emb` (slices at 64, the
                              one-byte/two-byte edge) and a 16384-row `big` (slices at 8192)
  summary/tf_events/          tf.compat.v1.summary.FileWriter: scalar, histogram, image, audio
                              and text summaries of summary_inputs() at steps 1 and 2, and a
                              SessionLog; the file is renamed to a fixed name
  tfrecord/tf_records.tfrecord  tf.io.TFRecordWriter of TFRECORDS (uncompressed, and .gz)
  interop/                    the GraphDefs, meta graph and outputs of interop/make_tf_graphs.py

The values are defined here without TensorFlow so tensorflux's tests import them.
"""
import glob
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the values the goldens hold (no TensorFlow needed) -----------------------------------------
def golden_tensors():
    """{name: array} of whole tensors, [(name, spec, array)] slices of `part`, and `part`."""
    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array(7, np.int64),
        "dir/c": np.array([True, False]),
        "f64": np.sin(np.arange(60, dtype=np.float64)).reshape(3, 4, 5),
        "i32": np.array([-1, 2**31 - 1, -2**31], np.int32),
        "i16": np.array([-7, 300], np.int16),
        "u8": np.arange(0, 256, 17, dtype=np.uint8),
        "h": np.array([1.5, -2.25], np.float16),
        "c64": np.array([1 + 2j, -0.5j], np.complex64),
        "empty": np.zeros((0, 3), np.float32),
        "s": np.array([b"hello", b"", b"x" * 200, "\u00e9".encode()], dtype=object),
        "s0": np.array(b"scalar", dtype=object),
        "scope/w": np.linspace(-1, 1, 35, dtype=np.float32).reshape(7, 5),
    }
    part = np.cos(np.arange(300 * 2, dtype=np.float64)).reshape(300, 2)
    slices = [("part", "300 2 0,100:0,2", part[0:100]),
              ("part", "300 2 100,150:-", part[100:250]),
              ("part", "300 2 250,50:0,2", part[250:300])]
    return tensors, slices, part


# Where OrderedCode's signed encoding changes length: 7 bits of payload per byte, so 63 takes
# one byte and 64 two, 8191 two and 8192 three, ... up to 2**62 (ten bytes). A slice's start
# and length must be non-negative (or -1 for a whole dimension), so TensorFlow cannot write
# the negative edges (-64/-65, ...): tests check those by the ordering property only.
ORDERED_CODE_EDGES = [0, 1, 63, 64, 65, 127, 128, 8191, 8192, 2**20 - 1, 2**20, 2**27 - 1,
                      2**27, 2**34, 2**41, 2**48, 2**55 - 1, 2**55, 2**62 - 1, 2**62]


def slice_key_cases():
    """[(name, spec, shape of the value)]: each edge as a start (with zero-width values) and,
    up to 8192, as a length (lengths must be positive: a length of 0 is refused)."""
    cases = []
    for i, edge in enumerate(ORDERED_CODE_EDGES):
        dim = 2**63 - 2 if edge > 2**40 else 2 * edge + 8
        cases.append((f"start/{i:02d}", f"{dim} 0 {edge},1:-", (1, 0)))
        if 0 < edge <= 8192:
            cases.append((f"length/{i:02d}", f"{edge + 8} 2 3,{edge}:1,1", (edge, 1)))
    return cases


def slice_value(shape):
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)


def saver_values():
    """The values tf_saver/ holds, by checkpoint key (`part` is partitioned in 3)."""
    return {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
        "step": np.array(42, np.int64),
        "words": np.array([b"alpha", b"", b"\xff\x00binary"], dtype=object),
        "part": np.arange(40, dtype=np.float64).reshape(10, 4) - 3.5,
    }


def partitioned_values():
    """tf_partitioned/: {name: (full value, number of partitions or None)}."""
    return {
        "emb": (np.arange(128 * 3, dtype=np.float32).reshape(128, 3) / 7, 2),
        "big": (np.arange(16384, dtype=np.int64).reshape(16384, 1) * 3 - 5, 2),
        "global_step": (np.array(9, np.int64), None),
    }


def summary_inputs(step):
    """The tensors the summaries of summary/tf_events/ summarize at `step` (1 or 2)."""
    rng = np.random.RandomState(step)
    return {
        "loss": np.float32(0.25 if step == 1 else -3.5),
        "weights": np.concatenate([np.linspace(-3, 5, 101), [0.0, 0.0, 1e-12, -1e12, 7.25],
                                   rng.randn(50)]),
        "pixels": (np.arange(2 * 4 * 5 * 3).reshape(2, 4, 5, 3) * (7 * step) % 256).astype(
            np.uint8),
        "gray": (rng.rand(1, 3, 3, 1)).astype(np.float32),
        "tone": np.sin(np.arange(64) * 0.3 * step).astype(np.float32).reshape(1, 64, 1),
        "note": np.array([b"hello", "w\u00f6rld".encode()], dtype=object),
    }


TFRECORDS = [b"first", b"", b"\x00\xff" * 1000, bytes(range(256)) * 300]
EVENTS_NAME = "events.out.tfevents.1700000000.golden"


# ---- writers (TensorFlow) -----------------------------------------------------------------------
def _tf():
    import tensorflow as tf
    return tf, tf.compat.v1


def write_golden_checkpoint(prefix):
    tf, _ = _tf()
    tensors, slices, _ = golden_tensors()
    names = list(tensors) + [name for name, _, _ in slices]
    specs = [""] * len(tensors) + [spec for _, spec, _ in slices]
    values = list(tensors.values()) + [value for _, _, value in slices]
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=specs,
                      tensors=[tf.constant(v) for v in values])


def write_slice_keys_checkpoint(prefix):
    tf, _ = _tf()
    cases = slice_key_cases()
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[name for name, _, _ in cases],
                      shape_and_slices=[spec for _, spec, _ in cases],
                      tensors=[tf.constant(slice_value(shape)) for _, _, shape in cases])


def _slice_of(tf, full):
    def init(shape, dtype=None, partition_info=None):
        start = partition_info.var_offset[0] if partition_info is not None else 0
        return tf.constant(full[start:start + shape[0]])
    return init


def write_tf_saver(out_dir):
    tf, tf1 = _tf()
    values = saver_values()
    with tf1.Graph().as_default():
        tf1.Variable(values["w"], name="w", use_resource=False)
        tf1.Variable(values["step"], name="step", use_resource=False)
        tf1.Variable(values["words"], name="words", use_resource=False)
        tf1.get_variable("part", shape=[10, 4], dtype=tf.float64, use_resource=False,
                         partitioner=tf1.fixed_size_partitioner(3),
                         initializer=_slice_of(tf, values["part"]))
        _save_all(tf1, out_dir)


def write_tf_partitioned(out_dir):
    tf, tf1 = _tf()
    with tf1.Graph().as_default():
        for name, (full, parts) in partitioned_values().items():
            partitioner = tf1.fixed_size_partitioner(parts) if parts else None
            tf1.get_variable(name, shape=full.shape, dtype=tf.as_dtype(full.dtype),
                             use_resource=False, partitioner=partitioner,
                             initializer=_slice_of(tf, full) if parts else
                             tf1.constant_initializer(full))
        _save_all(tf1, out_dir)


def _save_all(tf1, out_dir):
    saver = tf1.train.Saver(save_relative_paths=True)
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        os.makedirs(out_dir, exist_ok=True)
        saver.save(sess, os.path.join(out_dir, "model"), global_step=1, write_meta_graph=False)


def write_tf_events(out_dir):
    tf, tf1 = _tf()
    graph = tf1.Graph()
    with graph.as_default():
        feeds = {name: tf1.placeholder(tf.as_dtype(np.asarray(value).dtype) if name != "note"
                                       else tf.string, name=name)
                 for name, value in summary_inputs(1).items()}
        tf1.summary.scalar("loss", feeds["loss"])
        tf1.summary.histogram("weights", feeds["weights"])
        tf1.summary.image("pixels", feeds["pixels"], max_outputs=2)
        tf1.summary.image("gray", feeds["gray"])
        tf1.summary.audio("tone", feeds["tone"], 8000, max_outputs=1)
        tf1.summary.text("note", feeds["note"])
        merged = tf1.summary.merge_all()
        logdir = os.path.join(out_dir, "tmp_logdir")
        writer = tf1.summary.FileWriter(logdir)
        with tf1.Session(graph=graph) as sess:
            writer.add_session_log(tf1.SessionLog(status=tf1.SessionLog.START), 0)
            for step in (1, 2):
                values = summary_inputs(step)
                writer.add_summary(sess.run(merged, {feeds[k]: v for k, v in values.items()}),
                                   step)
        writer.close()
    (path,) = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    os.replace(path, os.path.join(out_dir, EVENTS_NAME))
    shutil.rmtree(logdir)


def write_tf_records(out_dir):
    tf, _ = _tf()
    os.makedirs(out_dir, exist_ok=True)
    for suffix, options in (("", None), (".gz", "GZIP")):
        with tf.io.TFRecordWriter(os.path.join(out_dir, "tf_records.tfrecord" + suffix),
                                  options) as writer:
            for record in TFRECORDS:
                writer.write(record)


def main(out=HERE):
    checkpoints = os.path.join(out, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    write_golden_checkpoint(os.path.join(checkpoints, "golden"))
    write_slice_keys_checkpoint(os.path.join(checkpoints, "slice_keys"))
    write_tf_saver(os.path.join(checkpoints, "tf_saver"))
    write_tf_partitioned(os.path.join(checkpoints, "tf_partitioned"))
    events = os.path.join(out, "summary", "tf_events")
    os.makedirs(events, exist_ok=True)
    write_tf_events(events)
    write_tf_records(os.path.join(out, "tfrecord"))
    sys.path.insert(0, os.path.join(HERE, "interop"))
    import make_tf_graphs
    interop = os.path.join(out, "interop")
    os.makedirs(interop, exist_ok=True)
    for make in (make_tf_graphs.make_while_loop, make_tf_graphs.make_cnn,
                 make_tf_graphs.make_mlp_with_variables, make_tf_graphs.make_meta_graph):
        make(interop)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
