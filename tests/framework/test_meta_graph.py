"""export_meta_graph / import_meta_graph: graph, collections, variables, saver_def, files."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import meta_graph
from tensorflux.framework import protos


@pytest.fixture(autouse=True)
def _variable_proto_functions():
    """Variables' proto functions (registered by the variables module once it does)."""
    saved = {k: meta_graph.get_proto_functions(k) for k in meta_graph.VARIABLE_COLLECTIONS}
    for key in meta_graph.VARIABLE_COLLECTIONS:
        if saved[key] is None:
            meta_graph.register_proto_function(
                key, meta_graph.VariableDef, meta_graph.variable_to_proto,
                lambda proto, scope=None: tf.Variable.from_proto(proto, import_scope=scope))
    yield
    for key, functions in saved.items():
        if functions is None:
            meta_graph._PROTO_FUNCTIONS.pop(key, None)


def _build():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable(np.array([[1.0], [2.0]], np.float32), name="w")
    step = tf.Variable(0, name="step", trainable=False)
    y = tf.matmul(x, w, name="y")
    tf.add_to_collection("outputs", y)
    tf.add_to_collection("names", "hello")
    tf.add_to_collection("numbers", 3)
    tf.add_to_collection("rates", 0.5)
    tf.add_to_collection("unwritable", object())
    return x, w, step, y


def test_export_fills_meta_info_and_collections(tmp_path):
    _build()
    saver_def = protos.SaverDef(filename_tensor_name="save/Const:0", version=2)
    meta = meta_graph.export_meta_graph(str(tmp_path / "m.meta"), saver_def=saver_def,
                                        clear_devices=True)
    info = meta.meta_info_def
    assert info.meta_graph_version and info.tensorflow_version
    assert {"MatMul", "VariableV2", "Placeholder", "Assign"} <= {o.name for o in
                                                                info.stripped_op_list.op}
    assert meta.saver_def.filename_tensor_name == "save/Const:0"
    collections = meta.collection_def
    assert list(collections["outputs"].node_list.value) == ["y:0"]
    assert list(collections["names"].bytes_list.value) == [b"hello"]
    assert list(collections["numbers"].int64_list.value) == [3]
    assert list(collections["rates"].float_list.value) == [0.5]
    assert "unwritable" not in collections
    assert len(collections["variables"].bytes_list.value) == 2
    assert len(collections["trainable_variables"].bytes_list.value) == 1
    variable_def = meta_graph.VariableDef.FromString(collections["variables"].bytes_list.value[0])
    assert (variable_def.variable_name, variable_def.initializer_name,
            variable_def.snapshot_name) == ("w:0", "w/Assign", "w/read:0")
    assert any(n.attr["_output_shapes"].list.shape for n in meta.graph_def.node)
    on_disk = meta_graph.read_meta_graph_file(str(tmp_path / "m.meta"))
    assert on_disk == meta


def test_round_trip_restores_variables_collections_and_outputs(tmp_path):
    x, w, step, y = _build()
    path = str(tmp_path / "model.meta")
    meta_graph.export_meta_graph(path, as_text=True)
    with tf.Graph().as_default() as graph:
        # As in TF 1.x, a graph with variables and no saver_def gets a default Saver.
        assert meta_graph.import_meta_graph(path) is not None
        variables = tf.global_variables()
        assert [v.name for v in variables] == ["w:0", "step:0"]
        assert [v.name for v in tf.trainable_variables()] == ["w:0"]
        (y2,) = tf.get_collection("outputs")
        assert tf.get_collection("names") == [b"hello"]
        assert tf.get_collection("numbers") == [3]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            result = sess.run(y2, {graph.get_tensor_by_name("x:0"): [[1.0, 1.0]]})
    np.testing.assert_allclose(result, [[3.0]])


def test_import_scope_and_saver_factory(tmp_path):
    _build()
    meta = meta_graph.export_meta_graph(saver_def=protos.SaverDef(version=2))
    made = []
    previous = list(meta_graph._SAVER_FACTORY)
    meta_graph.register_saver_factory(lambda saver_def, scope: made.append((saver_def, scope))
                                      or "saver")
    try:
        with tf.Graph().as_default():
            assert meta_graph.import_meta_graph(meta, import_scope="net") == "saver"
            assert [v.name for v in tf.global_variables()] == ["net/w:0", "net/step:0"]
            assert tf.get_collection("outputs")[0].name == "net/y:0"
    finally:
        meta_graph._SAVER_FACTORY[:] = previous
    assert made[0][0].version == 2 and made[0][1] == "net"


def test_missing_or_garbage_file(tmp_path):
    with pytest.raises(IOError, match="does not exist"):
        meta_graph.import_meta_graph(str(tmp_path / "nope.meta"))
    bad = tmp_path / "bad.meta"
    bad.write_bytes(b"\xff\xfe not a proto {{{")
    with pytest.raises(ValueError, match="neither a binary nor a text MetaGraphDef"):
        meta_graph.import_meta_graph(str(bad))
