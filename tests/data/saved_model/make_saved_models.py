"""Writes the SavedModel golden files of tests/saved_model and tests/interop. Run it with a
Python that has TensorFlow 2.21 and tensorflux (TensorFlow is never a tensorflux dependency):

    PYTHONPATH=/work/main /work/peers/bin/python tests/data/saved_model/make_saved_models.py [OUT]

OUT (default: this directory) gets

  tf_half_plus_two/   written by TensorFlow with TF 1.x-style code (tf.compat.v1 graph,
                      reference variables, SavedModelBuilder): y = a * x + b with a = 0.5,
                      b = 2.0 ("serve" tag, a predict and a regress-shaped signature), a second
                      meta graph tagged "train", an asset file and a main_op that reads the
                      asset into a local variable "vocab" through the fed asset path
  tf_half_plus_two.npz  x, y (TensorFlow's output) and vocab (the asset's bytes)
  tfx_mlp/            written by tensorflux: interop_models.build_mlp with a predict signature
  tfx_mlp.npz         x, probs_tf (TensorFlow's loader.load + run), probs_tfx (tensorflux's)
  tfx_mlp_cli.txt     `saved_model_cli show --all` on tfx_mlp, as TensorFlow prints it

so that tests without TensorFlow check that tensorflux loads what TensorFlow wrote and still
writes a SavedModel TensorFlow loaded with the same outputs.
"""
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTS, "interop"))  # interop_models
sys.path.insert(0, os.path.dirname(TESTS))  # the repository, for tensorflux

HALF_PLUS_TWO_X = np.array([[1.0], [2.0], [5.0], [-3.0]], np.float32)
VOCAB = b"apple\nbanana\ncherry\n"


def write_tf_half_plus_two(out_dir):
    import tensorflow as tf
    tf1 = tf.compat.v1
    export_dir = os.path.join(out_dir, "tf_half_plus_two")
    shutil.rmtree(export_dir, ignore_errors=True)
    vocab_path = os.path.join(out_dir, "vocab.txt")
    with open(vocab_path, "wb") as f:
        f.write(VOCAB)
    with tf.Graph().as_default() as graph:
        x = tf1.placeholder(tf.float32, [None, 1], name="x")
        a = tf1.Variable(0.5, name="a", use_resource=False)
        b = tf1.Variable(2.0, name="b", use_resource=False)
        y = tf.add(a * x, b, name="y")
        asset = tf.constant(vocab_path, name="vocab_path")
        tf1.add_to_collection(tf1.GraphKeys.ASSET_FILEPATHS, asset)
        vocab = tf1.Variable(b"", name="vocab", use_resource=False, trainable=False,
                             collections=[tf1.GraphKeys.LOCAL_VARIABLES])
        main_op = tf.group(tf1.assign(vocab, tf.io.read_file(asset)), name="main_op")
        sig = tf1.saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(
                sess, ["serve"], signature_def_map={"serving_default": sig},
                assets_collection=tf1.get_collection(tf1.GraphKeys.ASSET_FILEPATHS),
                main_op=main_op)
            builder.add_meta_graph(["train"])  # the main_op collection carries over
            builder.save()
            y_value = sess.run(y, {x: HALF_PLUS_TWO_X})
    os.remove(vocab_path)
    np.savez(os.path.join(out_dir, "tf_half_plus_two.npz"), x=HALF_PLUS_TWO_X, y=y_value,
             vocab=np.array(VOCAB, dtype=object))


def write_tfx_mlp(export_dir):
    """tensorflux: the MLP of interop_models in a SavedModel; returns its probs on mlp_input."""
    import interop_models
    import tensorflux as tfx
    x_value = interop_models.mlp_input()
    with tfx.Graph().as_default():
        _, probs = interop_models.build_mlp()
        x = tfx.get_default_graph().get_tensor_by_name("x:0")
        sig = tfx.saved_model.signature_def_utils.predict_signature_def({"x": x},
                                                                       {"probs": probs})
        with tfx.Session() as sess:
            sess.run(tfx.global_variables_initializer())
            builder = tfx.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(
                sess, [tfx.saved_model.tag_constants.SERVING],
                signature_def_map={"serving_default": sig})
            builder.save()
            return x_value, sess.run(probs, {x: x_value})


def run_in_tensorflow(export_dir, x_value):
    import tensorflow as tf
    tf1 = tf.compat.v1
    with tf.Graph().as_default() as graph, tf1.Session(graph=graph) as sess:
        meta = tf1.saved_model.loader.load(sess, ["serve"], export_dir)
        sig = meta.signature_def["serving_default"]
        return sess.run(sig.outputs["probs"].name, {sig.inputs["x"].name: x_value})


def saved_model_cli_show(export_dir):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([cli, "show", "--all", "--dir", export_dir], capture_output=True,
                         text=True, check=True, env=env).stdout
    return out


def main(out=HERE):
    write_tf_half_plus_two(out)
    export_dir = os.path.join(out, "tfx_mlp")
    shutil.rmtree(export_dir, ignore_errors=True)
    x_value, ours = write_tfx_mlp(export_dir)
    theirs = run_in_tensorflow(export_dir, x_value)
    np.savez(os.path.join(out, "tfx_mlp.npz"), x=x_value, probs_tf=theirs, probs_tfx=ours)
    with open(os.path.join(out, "tfx_mlp_cli.txt"), "w") as f:
        f.write(saved_model_cli_show(export_dir))
    print("tfx_mlp: max abs diff TensorFlow vs tensorflux %.3g" % np.abs(theirs - ours).max())


if __name__ == "__main__":
    main(*sys.argv[1:])
