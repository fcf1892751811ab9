"""Interop with TensorFlow 2.21 through committed golden files (runs without TensorFlow).

tests/data/interop/make_tf_graphs.py wrote the tf_* files with TensorFlow itself, and
make_tfx_graphs.py wrote the tfx_* files: GraphDefs tensorflux exported that TensorFlow imported
and ran, with TensorFlow's outputs.
"""
import os

import interop_models
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import attr_values, protos

DATA = interop_models.DATA_DIR


def _graph_def(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return protos.GraphDef.FromString(f.read())


def _arrays(name):
    with np.load(os.path.join(DATA, name), allow_pickle=False) as data:
        return dict(data)


def _max_diff(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    return float(np.abs(got.astype(np.float64) - want).max())


def _run_frozen(graph_def, x_value, fetch="probs:0"):
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            return sess.run(fetch, {"x:0": x_value})


# ---- TensorFlow's graphs, imported by tensorflux ----------------------------------------------
def test_imports_tensorflow_frozen_cnn_and_computes_its_outputs():
    graph_def = _graph_def("tf_cnn_frozen.pb")
    ops_used = {node.op for node in graph_def.node}
    assert {"Conv2D", "BiasAdd", "Relu", "MaxPool", "Reshape", "MatMul", "Softmax"} <= ops_used
    data = _arrays("tf_cnn.npz")
    got = _run_frozen(graph_def, data["x"])
    assert _max_diff(got, data["probs"]) <= interop_models.TOLERANCE


def test_imports_tensorflow_graph_with_variables_and_initializes_it():
    graph_def = _graph_def("tf_mlp_vars.pb")
    ops_used = {node.op for node in graph_def.node}
    assert {"VariableV2", "Assign", "Identity", "AddV2"} <= ops_used
    data = _arrays("tf_mlp_vars.npz")
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        assert graph.get_operation_by_name("w1").type == "VariableV2"
        assert graph.get_operation_by_name("add").type == "AddV2"
        assert graph.get_operation_by_name("w1/read").get_attr("_class") == ["loc:@w1"]
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError):
                sess.run("probs:0", {"x:0": data["x"]})
            sess.run("init")
            hidden, probs = sess.run(["hidden:0", "probs:0"], {"x:0": data["x"]})
    assert _max_diff(hidden, data["hidden"]) <= interop_models.TOLERANCE
    assert _max_diff(probs, data["probs"]) <= interop_models.TOLERANCE


def test_tensorflow_graph_imports_under_a_scope_with_input_map():
    graph_def = _graph_def("tf_mlp_vars.pb")
    data = _arrays("tf_mlp_vars.npz")
    with tf.Graph().as_default():
        x = tf.constant(data["x"])
        init, probs = tf.import_graph_def(graph_def, input_map={"x": x},
                                          return_elements=["init", "probs:0"], name="tfmodel")
        assert probs.name == "tfmodel/probs:0"
        with tf.Session() as sess:
            sess.run(init)
            got = sess.run(probs)
    assert _max_diff(got, data["probs"]) <= interop_models.TOLERANCE


def test_attrs_from_later_tensorflow_are_checked_not_ignored():
    graph_def = _graph_def("tf_mlp_vars.pb")
    matmul = next(node for node in graph_def.node if node.op == "MatMul")
    matmul.attr["grad_a"].b = True  # a gradient hint: any value computes the same
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
    gather = protos.NodeDef(name="g", op="GatherV2", input=["w1/read", "idx", "axis"])
    gather.attr["Tparams"].type = tf.float32.as_datatype_enum
    gather.attr["Tindices"].type = tf.int32.as_datatype_enum
    gather.attr["Taxis"].type = tf.int32.as_datatype_enum
    gather.attr["batch_dims"].i = 1
    for name, value in (("idx", np.array([0], np.int32)), ("axis", np.array(0, np.int32))):
        const = graph_def.node.add(name=name, op="Const")
        const.attr["dtype"].type = tf.int32.as_datatype_enum
        const.attr["value"].CopyFrom(attr_values.attr_value_to_proto(value, "tensor"))
    graph_def.node.add().CopyFrom(gather)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"attr 'batch_dims' is 1; tensorflux's GatherV2 "
                                             r"only implements batch_dims=0"):
            tf.import_graph_def(graph_def, name="")
        gather.attr["batch_dims"].i = 0
        graph_def.node[-1].CopyFrom(gather)
        (g,) = tf.import_graph_def(graph_def, return_elements=["g:0"], name="")
        assert g.get_shape().as_list() == [1, 6]


# ---- tensorflux's graphs, as TensorFlow imported them ------------------------------------------
def _golden_mlp_or_cnn(model):
    return _graph_def(f"tfx_{model}_frozen.pb"), _arrays(f"tfx_{model}.npz")


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_golden_tensorflux_graph_computes_tensorflows_outputs(model):
    graph_def, data = _golden_mlp_or_cnn(model)
    got = _run_frozen(graph_def, data["x"])
    assert _max_diff(got, data["probs_tf"]) <= interop_models.TOLERANCE
    assert _max_diff(data["probs_tfx"], data["probs_tf"]) <= interop_models.TOLERANCE


def _node_summary(node):
    """A NodeDef as comparable values: op, inputs, device and decoded attrs (hints left out)."""
    attrs = {}
    for name, proto in node.attr.items():
        if name == "_output_shapes":
            continue
        value = attr_values.attr_value_from_proto(proto)
        attrs[name] = (value.dtype.str, value.shape, value.tobytes()) if isinstance(
            value, np.ndarray) else value
    return node.op, list(node.input), node.device, attrs


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_exporter_still_writes_the_graph_tensorflow_accepted(model):
    """The frozen GraphDef built today matches, node for node, the one TensorFlow imported and
    ran when the golden files were made (if this fails after a deliberate change to ops or the
    exporter, rerun tests/data/interop/make_tfx_graphs.py with TensorFlow)."""
    golden, data = _golden_mlp_or_cnn(model)
    build = interop_models.build_mlp if model == "mlp" else interop_models.build_cnn
    today, ours = interop_models.frozen_graph_def(build, data["x"])
    assert [n.name for n in today.node] == [n.name for n in golden.node]
    for new, old in zip(today.node, golden.node):
        assert _node_summary(new) == _node_summary(old), new.name
    assert _max_diff(ours, data["probs_tf"]) <= interop_models.TOLERANCE


def test_golden_frozen_graphs_hold_no_variables():
    graph_def, _ = _golden_mlp_or_cnn("mlp")
    assert not [n.name for n in graph_def.node if n.op in ("VariableV2", "Assign")]
    assert sum(n.op == "Const" for n in graph_def.node) >= 6


# ---- TensorFlow's meta graph and checkpoint ----------------------------------------------------
def test_imports_tensorflow_meta_graph_and_restores_its_checkpoint(tmp_path):
    from tensorflux.training import saver as saver_mod
    meta_dir = os.path.join(DATA, "tf_meta")
    data = _arrays("tf_meta.npz")
    path = saver_mod.latest_checkpoint(meta_dir)
    assert path == os.path.join(meta_dir, "model-1")
    with tf.Graph().as_default() as graph:
        saver = saver_mod.import_meta_graph(path + ".meta")
        assert {"outputs", "train_op", "global_step", "variables"} <= set(
            graph.get_all_collection_keys())
        with tf.Session() as sess:
            saver.restore(sess, path)
            assert sess.run("global_step:0") == 1
            (probs,) = tf.get_collection("outputs")
            got = sess.run(probs, {"x:0": data["x"]})
            sess.run(tf.get_collection("train_op")[0], {"x:0": data["x"]})
            assert sess.run("global_step:0") == 2
            saved = saver.save(sess, str(tmp_path / "again"), global_step=2)
        assert [v.op.name for v in tf.trainable_variables()] == ["w", "b"]
    assert _max_diff(got, data["probs"]) <= interop_models.TOLERANCE
    with tf.Graph().as_default():
        saver = saver_mod.import_meta_graph(saved + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, saved)
            assert sess.run("global_step:0") == 2


def test_imports_tensorflow_while_loop_and_runs_it():
    graph_def = _graph_def("tf_while_loop.pb")
    assert {"Enter", "Merge", "Switch", "Exit", "NextIteration", "LoopCond"} <= {
        n.op for n in graph_def.node}
    arrays = _arrays("tf_while_loop.npz")
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as sess:
            got = sess.run("total:0", {"x:0": arrays["x"]})
    assert _max_diff(np.asarray(got), arrays["total"]) == 0.0
