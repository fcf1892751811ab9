"""The import allow-list (`allowed_ops`) of tf.import_graph_def, tf.train.import_meta_graph and
the SavedModel loader: a graph using an op type outside the list is refused with
PermissionDeniedError naming the nodes, before anything is imported or run. Off by default."""
import os

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import importer
from tensorflux.saved_model import loader

pytestmark = pytest.mark.timeout(60)

SAFE_WITH_SAVER = importer.SAFE_OPS | importer.SAVER_OPS


def _file_graph(path):
    """A GraphDef that reads and writes `path` when run."""
    with tf.Graph().as_default() as graph:
        data = tf.read_file(tf.constant(path), name="read")
        tf.write_file(tf.constant(path + ".copy"), data, name="write")
        tf.add(tf.constant(1.0), 2.0, name="sum")
    return graph.as_graph_def()


def test_default_imports_everything_as_tensorflow_does(tmp_path):
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(_file_graph(str(tmp_path / "f")), name="")
        assert {"ReadFile", "WriteFile"} <= {op.type for op in graph.get_operations()}


def test_safe_ops_refuse_file_ops_naming_every_node(tmp_path):
    with tf.Graph().as_default() as graph:
        with pytest.raises(tf.errors.PermissionDeniedError) as info:
            tf.import_graph_def(_file_graph(str(tmp_path / "f")), allowed_ops=importer.SAFE_OPS)
        assert graph.get_operations() == []
    text = str(info.value)
    assert text.startswith("Op type not allowed: the GraphDef uses ReadFile, WriteFile"), text
    assert "'read' (ReadFile)" in text and "'write' (WriteFile)" in text, text
    assert "'sum'" not in text


def test_refusal_comes_before_other_checks():
    graph_def = _file_graph("x")
    graph_def.node.add(name="bad", op="NoSuchOp")  # would be a ValueError without the list
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.PermissionDeniedError, match="NoSuchOp"):
            tf.import_graph_def(graph_def, allowed_ops=importer.SAFE_OPS)


def test_own_allow_list():
    with tf.Graph().as_default() as source:
        tf.add(tf.constant(1.0, name="a"), 2.0, name="sum")
    graph_def = source.as_graph_def()
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(graph_def, return_elements=["sum:0"],
                                     allowed_ops={"Const", "Add"})
        assert tf.Session().run(out) == 3.0
        with pytest.raises(tf.errors.PermissionDeniedError, match=r"'sum' \(Add\)"):
            tf.import_graph_def(graph_def, allowed_ops=["Const"])


def test_unsafe_ops_are_outside_safe_ops():
    assert not importer.SAFE_OPS & importer.UNSAFE_OPS
    assert importer.SAVER_OPS <= importer.UNSAFE_OPS
    assert {"PyFunc", "ReadFile", "WriteFile", "MatchingFiles", "TFRecordReaderV2", "_Send",
            "_Recv", "Print"} <= importer.UNSAFE_OPS


def _saver_meta_graph(path, with_write):
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0], name="v")
        if with_write:
            tf.write_file(path + ".stolen", tf.constant("x"), name="exfiltrate")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(v.assign([5.0, 6.0]))
            prefix = saver.save(sess, path)
    return prefix


def test_import_meta_graph_with_saver_ops(tmp_path):
    prefix = _saver_meta_graph(str(tmp_path / "model"), with_write=False)
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.PermissionDeniedError, match="RestoreV2, SaveV2"):
            tf.train.import_meta_graph(prefix + ".meta", allowed_ops=importer.SAFE_OPS)
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta", allowed_ops=SAFE_WITH_SAVER)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("v:0"), [5.0, 6.0])


def test_import_meta_graph_refuses_a_write_file(tmp_path):
    prefix = _saver_meta_graph(str(tmp_path / "model"), with_write=True)
    with tf.Graph().as_default() as graph:
        with pytest.raises(tf.errors.PermissionDeniedError, match=r"'exfiltrate' \(WriteFile\)"):
            tf.train.import_meta_graph(prefix + ".meta", allowed_ops=SAFE_WITH_SAVER)
        assert graph.get_operations() == []


def _saved_model(export_dir, target):
    """A SavedModel whose main_op writes `target` when the model is loaded (None: a plain
    main_op that initializes nothing)."""
    with tf.Graph().as_default():
        v = tf.Variable([3.0], name="v")
        main_op = (tf.no_op(name="main") if target is None
                   else tf.write_file(target, tf.constant("owned"), name="main"))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
            builder.add_meta_graph_and_variables(sess, ["serve"], main_op=main_op)
            builder.save()
    del v


def test_saved_model_loader_allow_list(tmp_path):
    good, bad, target = str(tmp_path / "good"), str(tmp_path / "bad"), str(tmp_path / "owned")
    _saved_model(good, None)
    _saved_model(bad, target)
    with tf.Graph().as_default(), tf.Session() as sess:
        loader.load(sess, ["serve"], good, allowed_ops=SAFE_WITH_SAVER)
        np.testing.assert_array_equal(sess.run("v:0"), [3.0])
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.PermissionDeniedError, match=r"'main' \(WriteFile\)"):
            loader.load(sess, ["serve"], bad, allowed_ops=SAFE_WITH_SAVER)
    assert not os.path.exists(target)
    with tf.Graph().as_default(), tf.Session() as sess:  # without the list it runs, as in TF
        loader.load(sess, ["serve"], bad)
    assert open(target, "rb").read() == b"owned"
