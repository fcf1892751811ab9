"""AttrValue <-> Python values, NodeDef, GraphDef and OpDef protos."""
import numpy as np
import pytest

from tensorflux.framework import attr_values
from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape

registry.register_op(
    "TestAttrOp_All", outputs=["out: float32"],
    attrs={"s": "string", "i": "int", "f": "float", "b": "bool", "t": "type", "shp": "shape",
           "tens": "tensor", "li": "list(int)", "lf": "list(float)", "ls": "list(string)",
           "lb": "list(bool)", "lt": "list(type)", "lshp": "list(shape)",
           "empty": "list(int)"})
registry.register_op("TestAttrOp_Source", outputs=["a: float32", "b: int32"])
registry.register_op("TestAttrOp_Sink", inputs=["x: T", "y: int32"], outputs=["z: T"])
SIG = registry.register_op(
    "TestAttrOp_Sig",
    inputs=["ref: Ref(T)", "vals: N * T", "mixed: Tlist", "fixed: int64"],
    outputs=["out: T"],
    attrs={"T": {dtypes.float64, dtypes.float32},
           "Tlist": registry.Attr("list(type)"),
           "padding": registry.Attr("string", "SAME", allowed=["SAME", "VALID"]),
           "keep_dims": False,
           "ksize": [1, 1],
           "shape": registry.Attr("shape", None)},
    stateful=True)

ALL_ATTRS = {
    "s": "SAME", "i": -3, "f": 0.5, "b": True, "t": dtypes.int64,
    "shp": tensor_shape.TensorShape([2, None]),
    "tens": np.array([[1.5, 2.0]], dtype=np.float32),
    "li": [1, 2, 3], "lf": [0.25, -1.0], "ls": ["a", "bc"], "lb": [False, True],
    "lt": [dtypes.float32, dtypes.string], "lshp": [tensor_shape.TensorShape(None),
                                                    tensor_shape.TensorShape([])],
    "empty": [],
}


def _all_attrs_op():
    g = ops.Graph()
    return g.create_op("TestAttrOp_All", [], [dtypes.float32], attrs=dict(ALL_ATTRS))


def _assert_same_value(got, want):
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same_value(g, w)
    elif isinstance(want, tensor_shape.TensorShape):
        assert isinstance(got, tensor_shape.TensorShape) and got.as_proto() == want.as_proto()
    else:
        assert type(got) is type(want) and got == want


def test_node_def_attrs_round_trip():
    node = _all_attrs_op().node_def
    assert set(node.attr) == set(ALL_ATTRS)
    for name, want in ALL_ATTRS.items():
        _assert_same_value(attr_values.attr_value_from_proto(node.attr[name]), want)


def test_attr_proto_fields():
    node = _all_attrs_op().node_def
    assert node.attr["s"].s == b"SAME"
    assert node.attr["t"].type == protos.DataType.Value("DT_INT64")
    assert [d.size for d in node.attr["shp"].shape.dim] == [2, -1]
    assert node.attr["tens"].tensor.dtype == protos.DataType.Value("DT_FLOAT")
    assert list(node.attr["lt"].list.type) == [1, 7]
    assert node.attr["lshp"].list.shape[0].unknown_rank
    assert node.attr["empty"].WhichOneof("value") == "list"
    assert attr_values.attr_kind_of_proto(node.attr["empty"]) == "list"
    assert attr_values.attr_kind_of_proto(node.attr["lf"]) == "list(float)"


def test_strings_come_back_as_str_or_bytes():
    text = attr_values.attr_value_to_proto("caf\u00e9", "string")
    assert text.s == "caf\u00e9".encode() and attr_values.attr_value_from_proto(text) == "caf\u00e9"
    binary = attr_values.attr_value_to_proto(b"\xff\x00", "string")
    assert attr_values.attr_value_from_proto(binary) == b"\xff\x00"


def test_hint_attrs_infer_their_kind():
    g = ops.Graph()
    op = g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32],
                     attrs={"_class": ["loc:@v"], "_gradient_op_type": "MyGrad",
                            "_flag": True, "_n": 3, "_shape": tensor_shape.TensorShape([1])})
    node = op.node_def
    assert list(node.attr["_class"].list.s) == [b"loc:@v"]
    assert node.attr["_gradient_op_type"].s == b"MyGrad"
    assert node.attr["_flag"].WhichOneof("value") == "b"
    assert node.attr["_n"].i == 3
    assert node.attr["_shape"].shape.dim[0].size == 1


def test_inputs_control_inputs_and_device():
    g = ops.Graph()
    src = g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32], name="src")
    ctrl = g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32], name="ctrl")
    with g.device("/job:worker/task:1/cpu:0"), g.control_dependencies([ctrl]):
        sink = g.create_op("TestAttrOp_Sink", [src.outputs[0], src.outputs[1]],
                           [dtypes.float32], name="scope/sink", attrs={"T": dtypes.float32})
    node = sink.node_def
    assert node.name == "scope/sink" and node.op == "TestAttrOp_Sink"
    assert list(node.input) == ["src", "src:1", "^ctrl"]
    assert node.device == "/job:worker/task:1/device:CPU:0"
    assert node.attr["T"].type == dtypes.float32.as_datatype_enum


def test_wrong_attr_values_name_the_op_and_attr():
    g = ops.Graph()
    op = g.create_op("TestAttrOp_All", [], [dtypes.float32], name="bad", attrs={"i": "three"})
    with pytest.raises(TypeError, match=r"'bad'.*'i'.*int"):
        op.node_def
    with pytest.raises(TypeError, match="float"):
        attr_values.attr_value_to_proto(True, "float")
    with pytest.raises(TypeError, match="list"):
        attr_values.attr_value_to_proto(3, "list(int)")
    with pytest.raises(ValueError, match="Unknown attr type"):
        attr_values.attr_value_to_proto(3, "list(widget)")
    with pytest.raises(TypeError, match="Cannot infer"):
        attr_values.attr_value_to_proto(object())
    with pytest.raises(ValueError, match="no value"):
        attr_values.attr_value_from_proto(protos.AttrValue())


def test_graph_def_versions_shapes_and_parse_round_trip():
    g = ops.Graph()
    src = g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32], name="src")
    src.outputs[0].set_shape([2, None])
    g.create_op("TestAttrOp_Sink", [src.outputs[0], src.outputs[1]], [dtypes.float32],
                attrs={"T": dtypes.float32})
    graph_def = g.as_graph_def()
    assert [n.name for n in graph_def.node] == ["src", "TestAttrOp_Sink"]
    assert graph_def.versions.producer == g.version_info["producer"]
    assert graph_def.versions.min_consumer == g.version_info["min_consumer"]
    assert "_output_shapes" not in graph_def.node[0].attr
    parsed = protos.GraphDef.FromString(graph_def.SerializeToString())
    assert parsed == graph_def

    shaped = g.as_graph_def(add_shapes=True)
    shapes = attr_values.attr_value_from_proto(shaped.node[0].attr["_output_shapes"])
    assert [s.as_list() if s.ndims is not None else None for s in shapes] == [[2, None], None]


def test_graph_def_from_version():
    g = ops.Graph()
    g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32], name="old")
    version = g.version
    g.create_op("TestAttrOp_Source", [], [dtypes.float32, dtypes.int32], name="new")
    assert [n.name for n in g.as_graph_def(from_version=version).node] == ["new"]
    assert [n.name for n in g.as_graph_def(from_version=0).node] == ["old", "new"]


def test_graph_def_size_limit(monkeypatch):
    monkeypatch.setattr(attr_values, "GRAPH_DEF_BYTE_LIMIT", 10_000)
    g = ops.Graph()
    g.create_op("TestAttrOp_All", [], [dtypes.float32], name="small",
                attrs={"tens": np.zeros(10, np.float32)})
    g.as_graph_def()
    g.create_op("TestAttrOp_All", [], [dtypes.float32], name="big",
                attrs={"tens": np.zeros(5000, np.float32)})
    with pytest.raises(ValueError, match=r"2GB.*'big'"):
        g.as_graph_def()


def test_op_def_to_proto():
    proto = SIG.to_proto()
    assert isinstance(proto, protos.OpDef) and proto.name == "TestAttrOp_Sig"
    assert proto.is_stateful
    args = {a.name: a for a in proto.input_arg}
    assert args["ref"].is_ref and args["ref"].type_attr == "T"
    assert args["vals"].number_attr == "N" and args["vals"].type_attr == "T"
    assert args["mixed"].type_list_attr == "Tlist" and not args["mixed"].type_attr
    assert args["fixed"].type == protos.DataType.Value("DT_INT64")
    assert [a.type_attr for a in proto.output_arg] == ["T"]
    attrs = {a.name: a for a in proto.attr}
    assert attrs["T"].type == "type" and not attrs["T"].HasField("default_value")
    assert list(attrs["T"].allowed_values.list.type) == [1, 2]
    assert attrs["N"].type == "int"
    assert attrs["padding"].default_value.s == b"SAME"
    assert list(attrs["padding"].allowed_values.list.s) == [b"SAME", b"VALID"]
    assert attrs["keep_dims"].type == "bool" and attrs["keep_dims"].default_value.HasField("b")
    assert list(attrs["ksize"].default_value.list.i) == [1, 1]
    assert attrs["shape"].default_value.shape.unknown_rank
    assert attrs["Tlist"].type == "list(type)"


def test_list_of_tensors():
    value = [np.array([b"x", b"y"], dtype=object), np.arange(3, dtype=np.int64)]
    proto = attr_values.attr_value_to_proto(value, "list(tensor)")
    assert len(proto.list.tensor) == 2
    _assert_same_value(attr_values.attr_value_from_proto(proto), value)
    assert attr_values.infer_attr_type(value) == "list(tensor)"


def test_attr_value_proto_passes_through():
    proto = protos.AttrValue(i=4)
    assert attr_values.attr_value_to_proto(proto, "int") is proto
    func = attr_values.attr_value_to_proto("my_fn", "func")
    assert func.func.name == "my_fn"
    assert attr_values.attr_value_from_proto(func).name == "my_fn"
