"""Writes the tensorflux-made golden files of tests/interop, checked by TensorFlow 2.21.

Run once with a Python that has both tensorflux and TensorFlow:

    PYTHONPATH=/work/main /work/peers/bin/python tests/data/interop/make_tfx_graphs.py

For each model of tests/interop/interop_models.py (MLP, and the CNN once tensorflux has conv2d
and max_pool) it freezes the tensorflux graph, has TensorFlow's import_graph_def import it and
run it, and writes

  tfx_<model>_frozen.pb   the frozen tensorflux GraphDef TensorFlow accepted
  tfx_<model>.npz         x (the input), probs_tf (TensorFlow's output on the GraphDef) and
                          probs_tfx (tensorflux's output)

so that tests without TensorFlow check that tensorflux still writes that GraphDef and that it
still computes TensorFlow's outputs.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTS, "interop"))  # for interop_models
sys.path.insert(0, os.path.dirname(TESTS))  # the repository, for tensorflux


def run_in_tensorflow(graph_def_bytes, x_value):
    """TensorFlow's "probs:0" for the serialized GraphDef, fed "x:0"."""
    import tensorflow as real_tf
    tf1 = real_tf.compat.v1
    graph_def = tf1.GraphDef.FromString(graph_def_bytes)
    with real_tf.Graph().as_default() as graph:
        tf1.import_graph_def(graph_def, name="")
        with tf1.Session(graph=graph) as sess:
            return sess.run("probs:0", {"x:0": x_value})


def write_model(name, build, x_value, out_dir=HERE):
    import interop_models
    frozen, ours = interop_models.frozen_graph_def(build, x_value)
    data = frozen.SerializeToString()
    theirs = run_in_tensorflow(data, x_value)
    diff = float(np.abs(theirs - ours).max())
    assert diff <= interop_models.TOLERANCE, f"{name}: TensorFlow and tensorflux differ by {diff}"
    with open(os.path.join(out_dir, f"tfx_{name}_frozen.pb"), "wb") as f:
        f.write(data)
    np.savez(os.path.join(out_dir, f"tfx_{name}.npz"), x=x_value, probs_tf=theirs,
             probs_tfx=ours)
    print(f"{name}: max abs diff TensorFlow vs tensorflux {diff:.3g}")


def main():
    import interop_models as m
    write_model("mlp", m.build_mlp, m.mlp_input())
    if m.has_conv_ops():
        write_model("cnn", m.build_cnn, m.cnn_input())
    else:
        print("cnn: skipped, tensorflux has no tf.nn.conv2d / tf.nn.max_pool yet")


if __name__ == "__main__":
    main()
