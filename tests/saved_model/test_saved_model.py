"""tf.saved_model: builder and loader round trips (local and memory://), TF 1.0's errors, and
the golden SavedModels of tests/data/saved_model (made by make_saved_models.py with
TensorFlow 2.21): tensorflux loads what TensorFlow wrote, and still writes what TensorFlow
loaded with the same outputs."""
import os
import sys
import uuid

import fsspec
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.saved_model import loader, saved_model_pb

pytestmark = pytest.mark.timeout(60)

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "saved_model")
sys.path.insert(0, DATA)
sys.path.insert(0, os.path.join(os.path.dirname(DATA), "..", "interop"))
import make_saved_models  # noqa: E402
import interop_models  # noqa: E402

SERVE = tf.saved_model.tag_constants.SERVING


@pytest.fixture(params=["local", "memory"])
def export_dir(request, tmp_path):
    if request.param == "local":
        yield str(tmp_path / "export")
        return
    path = "/sm" + uuid.uuid4().hex
    yield "memory://" + path.lstrip("/") + "/export"
    fsspec.filesystem("memory").rm(path, recursive=True)


def _affine():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable(np.array([[1.0, -1.0], [0.5, 2.0]], np.float32), name="w")
    y = tf.matmul(x, w, name="y")
    return x, w, y


def test_round_trip_with_signature_and_variables(export_dir):
    feed = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    with tf.Graph().as_default():
        x, w, y = _affine()
        sig = tf.saved_model.signature_def_utils.predict_signature_def({"in": x}, {"out": y})
        assert tf.saved_model.signature_def_utils.is_valid_signature(sig)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(w * 3))  # the saved value, not the initial one
            want = sess.run(y, {x: feed})
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(sess, [SERVE],
                                                 signature_def_map={"serving_default": sig})
            builder.add_meta_graph(["other", "tags"])
            path = builder.save()
    assert path == (export_dir + "/saved_model.pb").encode()
    assert loader.maybe_saved_model_directory(export_dir)
    assert tf.gfile.Exists(export_dir + "/variables/variables.index")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, [SERVE], export_dir)
        sig = meta.signature_def["serving_default"]
        assert sig.method_name == "tensorflow/serving/predict"
        assert (sig.inputs["in"].name, sig.outputs["out"].name) == ("x:0", "y:0")
        assert [d.size for d in sig.inputs["in"].tensor_shape.dim] == [-1, 2]
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": feed}), want)
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["tags", "other"], export_dir)
        assert not meta.signature_def
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": feed}), want)


def test_builder_and_loader_errors(tmp_path):
    export_dir = str(tmp_path / "e")
    with tf.Graph().as_default():
        _affine()
        builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
        with pytest.raises(AssertionError, match="already exists"):
            tf.saved_model.builder.SavedModelBuilder(export_dir)
        with pytest.raises(AssertionError, match="has not been saved yet"):
            builder.add_meta_graph([SERVE])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            builder.add_meta_graph_and_variables(sess, [SERVE])
            with pytest.raises(AssertionError, match="already been saved"):
                builder.add_meta_graph_and_variables(sess, ["train"])
        builder.save(as_text=True)
    assert os.path.exists(os.path.join(export_dir, "saved_model.pbtxt"))
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(RuntimeError, match="could not be found in SavedModel"):
            tf.saved_model.loader.load(sess, ["train"], export_dir)
        tf.saved_model.loader.load(sess, [SERVE], export_dir)  # from the text format
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(IOError, match="SavedModel file does not exist"):
            tf.saved_model.loader.load(sess, [SERVE], str(tmp_path))
    with pytest.raises(ValueError, match="cannot be None or empty"):
        tf.saved_model.signature_def_utils.predict_signature_def({}, {"y": tf.constant(1)})


def test_assets_are_copied_and_fed_to_the_main_op(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(b"a\nb\n")
    export_dir = str(tmp_path / "export")
    with tf.Graph().as_default():
        asset = tf.constant(str(vocab), name="vocab_path")
        contents = tf.Variable(b"", name="contents", trainable=False,
                               collections=[tf.GraphKeys.LOCAL_VARIABLES])
        main_op = tf.group(tf.assign(contents, tf.read_file(asset)), name="main_op")
        with tf.Session() as sess:
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(sess, [SERVE], assets_collection=[asset],
                                                 main_op=main_op)
            builder.save()
    vocab.unlink()  # the loader feeds the copy under assets/
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.loader.load(sess, [SERVE], export_dir)
        assert sess.run("contents:0") == b"a\nb\n"


def test_saved_model_proto_has_tensorflows_field_numbers():
    proto = saved_model_pb.SavedModel(saved_model_schema_version=1)
    proto.meta_graphs.add().meta_info_def.tags.append("serve")
    # field 1 varint 1; field 2 (length-delimited) holding MetaGraphDef field 1 (meta_info_def)
    # holding field 4 (tags) "serve".
    assert proto.SerializeToString() == b"\x08\x01\x12\x09\x0a\x07\x22\x05serve"


# ---- goldens ----------------------------------------------------------------------------------
@pytest.mark.parametrize("tags", [["serve"], ["train"]])
def test_loads_tensorflows_saved_model(tags):
    export_dir = os.path.join(DATA, "tf_half_plus_two")
    golden = np.load(export_dir + ".npz", allow_pickle=True)
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, tags, export_dir)
        assert sess.run("vocab:0") == golden["vocab"].item()  # main_op ran on the fed asset
        assert sess.run(["a:0", "b:0"]) == [0.5, 2.0]
        if tags == ["serve"]:
            sig = meta.signature_def["serving_default"]
            got = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: golden["x"]})
            np.testing.assert_array_equal(got, golden["y"])


def _graph_summary(saved_model):
    meta = saved_model.meta_graphs[0]
    nodes = sorted((n.name, n.op, tuple(n.input)) for n in meta.graph_def.node)
    return nodes, dict(meta.signature_def), list(meta.meta_info_def.tags)


def test_still_writes_the_saved_model_tensorflow_loaded(tmp_path):
    committed = os.path.join(DATA, "tfx_mlp")
    golden = np.load(committed + ".npz")
    x_value, ours = make_saved_models.write_tfx_mlp(str(tmp_path / "tfx_mlp"))
    np.testing.assert_array_equal(x_value, golden["x"])
    np.testing.assert_array_equal(ours, golden["probs_tfx"])
    assert np.abs(ours - golden["probs_tf"]).max() <= interop_models.TOLERANCE
    assert _graph_summary(loader._parse_saved_model(str(tmp_path / "tfx_mlp"))) == \
        _graph_summary(loader._parse_saved_model(committed)), (
        "the SavedModel changed since TensorFlow loaded it: rerun "
        "tests/data/saved_model/make_saved_models.py with TensorFlow")
    with tf.Graph().as_default(), tf.Session() as sess:  # the committed files load here too
        meta = tf.saved_model.loader.load(sess, [SERVE], committed)
        sig = meta.signature_def["serving_default"]
        got = sess.run(sig.outputs["probs"].name, {sig.inputs["x"].name: golden["x"]})
    assert np.abs(got - golden["probs_tf"]).max() <= interop_models.TOLERANCE
