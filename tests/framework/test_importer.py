"""tf.import_graph_def: round trips, input_map / return_elements, and every problem at once."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tensorflux as tf
from tensorflux.framework import importer
from tensorflux.framework import protos
from tensorflux.framework import tensor_util
from tensorflux.framework.importer import import_graph_def


def _model():
    """An MLP-like graph with a variable; returns (graph_def, feed value, expected output)."""
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
        with tf.device("/cpu:0"):
            y = tf.add(tf.matmul(x, w), tf.constant([1.0, -1.0]), name="y")
        with tf.control_dependencies([y]):
            tf.no_op(name="after")
        init = tf.global_variables_initializer()
        value = np.ones((2, 3), np.float32)
        with tf.Session() as sess:
            sess.run(init)
            expected = sess.run(y, {x: value})
    return graph.as_graph_def(), value, expected, init.name


def _node(name, op, inputs=(), **attrs):
    node = protos.NodeDef(name=name, op=op)
    node.input.extend(inputs)
    for key, value in attrs.items():
        node.attr[key].CopyFrom(value)
    return node


def _type(dtype):
    return protos.AttrValue(type=dtype.as_datatype_enum)


def _const(name, value):
    array = np.asarray(value)
    return _node(name, "Const", dtype=_type(tf.as_dtype(array.dtype)),
                 value=protos.AttrValue(tensor=tensor_util.make_tensor_proto(array)))


def _graph_def(*nodes):
    graph_def = protos.GraphDef()
    graph_def.node.extend(nodes)
    return graph_def


def test_round_trip_gives_the_same_outputs():
    graph_def, value, expected, init_name = _model()
    with tf.Graph().as_default() as graph:
        y, x, init = import_graph_def(graph_def, return_elements=["y:0", "x:0", init_name])
        assert y.name == "import/y:0" and isinstance(init, tf.Operation)
        assert y.get_shape().as_list() == [None, 2]
        assert graph.get_operation_by_name("import/y").device.endswith("CPU:0")
        after = graph.get_operation_by_name("import/after")
        assert [c.name for c in after.control_inputs] == ["import/y"]
        with tf.Session() as sess:
            sess.run(init)
            np.testing.assert_allclose(sess.run(y, {x: value}), expected)


def test_names_prefix_and_scopes():
    graph_def = _graph_def(_const("c", 1.0))
    with tf.Graph().as_default() as graph:
        import_graph_def(graph_def)
        import_graph_def(graph_def)
        import_graph_def(graph_def, name="mine")
        import_graph_def(graph_def, name="")
        names = [op.name for op in graph.get_operations()]
    assert names == ["import/c", "import_1/c", "mine/c", "c"]


def test_input_map_replaces_inputs():
    graph_def, value, expected, _ = _model()
    with tf.Graph().as_default():
        fed = tf.constant(value * 2)
        y, init = import_graph_def(graph_def, input_map={"x": fed},
                                   return_elements=["y:0", "init"], name="m")
        with tf.Session() as sess:
            sess.run(init)
            w = np.arange(6, dtype=np.float32).reshape(3, 2)
            np.testing.assert_allclose(sess.run(y), value * 2 @ w + [1.0, -1.0])


def test_defaults_filled_hints_and_unknown_attrs_ignored():
    a = _const("a", np.ones((2, 2), np.float32))
    matmul = _node("m", "MatMul", ["a", "a"], T=_type(tf.float32),
                   some_future_attr=protos.AttrValue(i=7),
                   _output_shapes=protos.AttrValue(s=b"garbage"),
                   _class=protos.AttrValue(list=protos.AttrValue.ListValue(s=[b"loc:@a"])))
    with tf.Graph().as_default():
        (op,) = import_graph_def(_graph_def(a, matmul), return_elements=["m"])
        assert op.get_attr("transpose_a") is False and op.get_attr("transpose_b") is False
        assert op.get_attr("_class") == ["loc:@import/a"]
        with pytest.raises(ValueError, match="has no attr named \'some_future_attr\'"):
            op.get_attr("some_future_attr")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(op.outputs[0]), np.full((2, 2), 2.0))


def test_every_problem_is_reported_at_once_and_nothing_is_created():
    bad_tensor = protos.TensorProto(dtype=tf.float32.as_datatype_enum,
                                    tensor_content=b"\x00" * 5)
    bad_tensor.tensor_shape.dim.add(size=2)
    graph_def = _graph_def(
        _const("a", np.ones((2, 2), np.float32)),
        _node("u1", "FancyOp", ["a"]),
        _node("u2", "OtherOp"),
        _node("u3", "FancyOp"),
        _node("no_t", "MatMul", ["a", "a"]),
        _node("wrong_kind", "MatMul", ["a", "a"], T=protos.AttrValue(i=1)),
        _node("dangling", "Identity", ["missing:0"], T=_type(tf.float32)),
        _node("out_of_range", "Identity", ["a:3"], T=_type(tf.float32)),
        _node("broken", "Const", dtype=_type(tf.float32),
              value=protos.AttrValue(tensor=bad_tensor)),
        _node("mistyped", "Identity", ["a"], T=_type(tf.int32)),
        _node("a", "NoOp"),
        _node("ctrl", "NoOp", ["^nowhere"]),
    )
    with tf.Graph().as_default() as graph:
        zz = tf.constant(1.0)
        with pytest.raises(ValueError) as info:
            import_graph_def(graph_def, return_elements=["ghost:0"], input_map={"zz:0": zz})
        assert graph.get_operations() == [zz.op]
    message = str(info.value)
    for expected in ["unknown op type 'FancyOp' (nodes 'u1', 'u3')", "unknown op type 'OtherOp'",
                     "'no_t' (MatMul): missing required attr 'T'",
                     "'wrong_kind' (MatMul): attr 'T': has kind int, required type",
                     "input 'missing:0' names no node", "'a:3' is out of range",
                     "'broken' (Const): attr 'value'", "needs 8 bytes",
                     "'mistyped' (Identity): input 0 (a:0) has dtype float32, required int32",
                     "duplicate node name 'a'", "'^nowhere' names no node",
                     "return_element 'ghost:0' not found", "input_map names tensors not found"]:
        assert expected in message, f"{expected!r} missing from:\n{message}"


def test_shape_errors_are_found_before_anything_is_created():
    graph_def = _graph_def(_const("a", np.ones((2, 3), np.float32)),
                           _node("m", "MatMul", ["a", "a"], T=_type(tf.float32)))
    with tf.Graph().as_default() as graph:
        with pytest.raises(ValueError, match="'m' \\(MatMul\\)"):
            import_graph_def(graph_def)
        assert graph.get_operations() == []


def test_cycles_and_input_order_are_refused():
    graph_def = _graph_def(_node("p", "Identity", ["q"], T=_type(tf.float32)),
                           _node("q", "Identity", ["p"], T=_type(tf.float32)),
                           _node("r", "Identity", ["^p", "q"], T=_type(tf.float32)))
    with tf.Graph().as_default(), pytest.raises(ValueError) as info:
        import_graph_def(graph_def)
    assert "cycle" in str(info.value) and "control inputs ('^x') must come last" in str(info.value)


def test_huge_tensors_and_list_lengths_are_refused_without_allocating():
    tensor = protos.TensorProto(dtype=tf.float32.as_datatype_enum)
    tensor.tensor_shape.dim.add(size=1 << 40)
    huge = _node("huge", "Const", dtype=_type(tf.float32), value=protos.AttrValue(tensor=tensor))
    with tf.Graph().as_default(), pytest.raises(ValueError, match="over the .*-byte limit"):
        import_graph_def(_graph_def(huge))


def test_versions_are_checked():
    graph_def = _graph_def(_const("a", 1.0))
    graph_def.versions.producer = 9999
    graph_def.versions.min_consumer = 9999
    with tf.Graph().as_default(), pytest.raises(ValueError, match="min_consumer 9999"):
        import_graph_def(graph_def)


def test_allow_list_refuses_python_and_file_ops():
    graph_def = _graph_def(
        _const("a", 1.0),
        _node("f", "PyFunc", ["a"], token=protos.AttrValue(s=b"pyfunc_0"),
              Tin=protos.AttrValue(list=protos.AttrValue.ListValue(type=[1])),
              Tout=protos.AttrValue(list=protos.AttrValue.ListValue(type=[1]))))
    assert not importer.SAFE_OPS & importer.UNSAFE_OPS
    assert {"PyFunc", "SaveV2", "RestoreV2", "ReadFile"} <= importer.UNSAFE_OPS
    with tf.Graph().as_default() as graph:
        with pytest.raises(tf.errors.PermissionDeniedError,
                           match=r"uses PyFunc, outside the import allow-list .*'f' \(PyFunc\)"):
            import_graph_def(graph_def, allowed_ops=importer.SAFE_OPS)
        assert graph.get_operations() == []
        (c,) = import_graph_def(_graph_def(_const("a", 2.0)), return_elements=["a:0"],
                                allowed_ops=importer.SAFE_OPS)
        assert tf.Session().run(c) == 2.0


def test_argument_types():
    with pytest.raises(TypeError, match="GraphDef proto"):
        import_graph_def(b"bytes")
    with pytest.raises(TypeError, match="list of names"):
        import_graph_def(_graph_def(), return_elements="a")
    with pytest.raises(TypeError, match="maps to float"):
        import_graph_def(_graph_def(), input_map={"a:0": 1.0})


_MODEL_BYTES = _model()[0].SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_graph_defs_fail_cleanly(data):
    raw = bytearray(_MODEL_BYTES)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    mutated = protos.GraphDef()
    try:
        mutated.ParseFromString(bytes(raw))
    except Exception:  # noqa: BLE001 - not a GraphDef at all: protobuf's own error
        return
    with tf.Graph().as_default():
        try:
            import_graph_def(mutated)
        except (ValueError, TypeError):
            pass


def test_imports_a_while_loop_graph_def_and_runs_it():
    with tf.Graph().as_default() as source:
        x = tf.placeholder(tf.float32, [], name="x")
        _, total = tf.while_loop(lambda i, acc: i < 5, lambda i, acc: (i + 1, acc + x),
                                 [tf.constant(0), tf.constant(0.0)], name="loop")
        tf.identity(total, name="total")
    graph_def = source.as_graph_def()
    assert {"Enter", "Merge", "Switch", "Exit", "NextIteration", "LoopCond"} <= {
        n.op for n in graph_def.node}
    with tf.Graph().as_default() as target:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=target) as sess:
            assert sess.run("total:0", {"x:0": 1.5}) == 7.5


def test_return_elements_name_any_output_of_a_node():
    with tf.Graph().as_default() as g:
        x = tf.constant([3, 1, 3, 2], name="x")
        tf.unique(x, name="u")
    with tf.Graph().as_default():
        values, idx, op = import_graph_def(g.as_graph_def(), return_elements=["u:0", "u:1", "u"])
        assert (values.name, idx.name, op.name) == ("import/u:0", "import/u:1", "import/u")
        with tf.Session() as sess:
            got_values, got_idx = sess.run([values, idx])
    np.testing.assert_array_equal(got_values, [3, 1, 2])
    np.testing.assert_array_equal(got_idx, [0, 1, 0, 2])
