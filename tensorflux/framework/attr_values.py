"""Graphs as protos: AttrValue <-> Python values, NodeDef, GraphDef and OpDef.

Operations keep attrs as Python values (DType, TensorShape, ndarray, str, int, float, bool,
lists of those). This module writes them as TensorFlow's `AttrValue` protos, guided by the
attr's OpDef type ("type", "list(int)", "shape", ...); hint attrs not in the OpDef ("_class",
"_gradient_op_type") have their kind inferred from the Python value.
"""
import numbers

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import protos
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util

# A serialized protobuf message must stay under 2 GiB.
GRAPH_DEF_BYTE_LIMIT = (1 << 31) - 1

_SCALAR_KINDS = ("string", "int", "float", "bool", "type", "shape", "tensor", "func")
# AttrValue.ListValue field for each scalar kind.
_LIST_FIELDS = {"string": "s", "int": "i", "float": "f", "bool": "b", "type": "type",
                "shape": "shape", "tensor": "tensor", "func": "func"}
_KIND_OF_FIELD = {field: kind for kind, field in _LIST_FIELDS.items()}
_KIND_OF_FIELD["list"] = "list"


# ---- Python value -> AttrValue ------------------------------------------------------------
def infer_attr_type(value):
    """The OpDef attr type ("int", "list(string)", ...) that a Python value reads as.

    Raises:
      TypeError: for a value that no attr type holds.
    """
    if isinstance(value, (list, tuple)):
        if not value:
            return "list(int)"  # an empty list carries no kind; any list field will do
        return f"list({infer_attr_type(value[0])})"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, dtypes.DType):
        return "type"
    if isinstance(value, (tensor_shape.TensorShape, protos.TensorShapeProto)):
        return "shape"
    if isinstance(value, (np.ndarray, protos.TensorProto)):
        return "tensor"
    if isinstance(value, protos.NameAttrList):
        return "func"
    raise TypeError(f"Cannot infer an attr type for {value!r:.80} of type "
                    f"{type(value).__name__}; expected str, bytes, int, float, bool, DType, "
                    "TensorShape, ndarray, NameAttrList or a list of those")


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"Expected a string attr value (str or bytes), got {value!r:.80}")


def _as_int(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected an int attr value, got {value!r:.80}")
    return int(value)


def _as_float(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected a float attr value, got {value!r:.80}")
    return float(value)


def _as_bool(value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Expected a bool attr value, got {value!r:.80}")
    return bool(value)


def _as_shape_proto(value):
    if isinstance(value, protos.TensorShapeProto):
        return value
    return tensor_shape.as_shape(value).as_proto()


def _as_func(value):
    if isinstance(value, protos.NameAttrList):
        return value
    if isinstance(value, (str, bytes)):
        return protos.NameAttrList(name=value if isinstance(value, str) else value.decode())
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return protos.NameAttrList(name=name)
    raise TypeError(f"Expected a function attr value (a name or NameAttrList), got {value!r:.80}")


_CONVERTERS = {
    "string": _as_bytes,
    "int": _as_int,
    "float": _as_float,
    "bool": _as_bool,
    "type": lambda v: dtypes.as_dtype(v).as_datatype_enum,
    "shape": _as_shape_proto,
    "tensor": tensor_util.make_tensor_proto,
    "func": _as_func,
}
_MESSAGE_KINDS = ("shape", "tensor", "func")


def _list_kind(attr_type):
    if attr_type.startswith("list(") and attr_type.endswith(")"):
        return attr_type[5:-1]
    return None


def attr_value_to_proto(value, attr_type=None):
    """An AttrValue proto holding `value`.

    Args:
      value: the Python value (see the module docstring).
      attr_type: the OpDef attr type, e.g. "type", "list(int)", "shape"; inferred from
        `value` when None (as for hint attrs).

    Returns:
      A `protos.AttrValue`.

    Raises:
      TypeError: if `value` does not fit `attr_type`.
      ValueError: if `attr_type` is not an attr type.
    """
    if isinstance(value, protos.AttrValue):
        return value
    attr_type = attr_type or infer_attr_type(value)
    kind = _list_kind(attr_type)
    proto = protos.AttrValue()
    if kind is None:
        _check_kind(attr_type)
        _set_scalar(proto, attr_type, value)
        return proto
    _check_kind(kind)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected a list for attr type {attr_type}, got {value!r:.80}")
    proto.list.SetInParent()  # an empty list is still a list
    field = getattr(proto.list, _LIST_FIELDS[kind])
    converted = [_CONVERTERS[kind](v) for v in value]
    if kind in _MESSAGE_KINDS:
        for item in converted:
            field.add().CopyFrom(item)
    else:
        field.extend(converted)
    return proto


def _check_kind(kind):
    if kind not in _SCALAR_KINDS:
        raise ValueError(f"Unknown attr type {kind!r}; expected one of {_SCALAR_KINDS} or "
                         "list(...) of them")


def _set_scalar(proto, kind, value):
    converted = _CONVERTERS[kind](value)
    field = _LIST_FIELDS[kind]
    if kind in _MESSAGE_KINDS:
        getattr(proto, field).CopyFrom(converted)
    else:
        setattr(proto, field, converted)


# ---- AttrValue -> Python value ------------------------------------------------------------
def _decode_string(data):
    """Attr strings come back as str when they are UTF-8 text, else as bytes."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


_READERS = {
    "s": _decode_string,
    "i": int,
    "f": float,
    "b": bool,
    "type": dtypes.as_dtype,
    "shape": tensor_shape.TensorShape,
    "tensor": tensor_util.MakeNdarray,
    "func": lambda f: f,
}


def attr_value_from_proto(proto):
    """The Python value an AttrValue holds (the inverse of attr_value_to_proto).

    Strings come back as str when valid UTF-8, else bytes; types as DType; shapes as
    TensorShape; tensors as ndarrays; functions as NameAttrList protos. An empty list is [].

    Raises:
      ValueError: for an empty AttrValue or a placeholder (only valid inside functions).
    """
    which = proto.WhichOneof("value")
    if which is None or which == "placeholder":
        raise ValueError(f"AttrValue holds no value that an attr can take: {proto!r:.80}")
    if which != "list":
        return _READERS[which](getattr(proto, which))
    for field in _LIST_FIELDS.values():
        items = getattr(proto.list, field)
        if len(items):
            return [_READERS[field](v) for v in items]
    return []


def attr_kind_of_proto(proto):
    """The attr type an AttrValue's set field implies ("int", "list(shape)", ...; "list" for
    an empty list, None if unset)."""
    which = proto.WhichOneof("value")
    if which is None or which == "placeholder":
        return None
    if which != "list":
        return _KIND_OF_FIELD[which]
    for kind, field in _LIST_FIELDS.items():
        if len(getattr(proto.list, field)):
            return f"list({kind})"
    return "list"


# ---- NodeDef and GraphDef -----------------------------------------------------------------
def _declared_attr_type(op, name):
    decl = op._op_def.attrs.get(name)
    return None if decl is None else decl.type


def node_def_of(op):
    """The NodeDef of an Operation: name, op type, inputs ("x", "x:1", then "^ctrl"), device
    and every attr (hints included; None-valued attrs left out, except shapes).

    Raises:
      TypeError: naming the op and attr when an attr value does not fit its declared type.
    """
    node = protos.NodeDef(name=op.name, op=op.type, device=op.device)
    node.input.extend(t._as_node_def_input() for t in op.inputs)
    node.input.extend("^" + c.name for c in op.control_inputs)
    for name, value in op._attrs.items():
        attr_type = _declared_attr_type(op, name)
        if value is None and attr_type != "shape":  # a None shape is the unknown shape
            continue
        try:
            node.attr[name].CopyFrom(attr_value_to_proto(value, attr_type))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{op.type} op '{op.name}': cannot write attr {name!r}: {e}") from None
    return node


def _output_shapes_attr(op):
    return attr_value_to_proto([t.get_shape() for t in op.outputs], "list(shape)")


def _tensor_attr_bytes(op):
    """Bytes the op's ndarray attrs will take at least (checked before serializing them)."""
    total = 0
    for value in op._attrs.values():
        values = value if isinstance(value, (list, tuple)) else [value]
        total += sum(v.nbytes for v in values if isinstance(v, np.ndarray) and v.dtype != object)
    return total


def _check_size(total, op):
    if total > GRAPH_DEF_BYTE_LIMIT:
        raise ValueError(f"GraphDef cannot be larger than 2GB (protobuf limit): it reaches "
                         f"{total} bytes at op '{op.name}' ({op.type}), limit "
                         f"{GRAPH_DEF_BYTE_LIMIT}. Keep large constants out of the graph: feed "
                         "them through placeholders or initialize variables from them.")


def graph_to_graph_def(graph, from_version=None, add_shapes=False):
    """The GraphDef of `graph` (what `Graph.as_graph_def` returns).

    Args:
      graph: an ops.Graph.
      from_version: if given, only ops added after the graph had this `version`.
      add_shapes: if True, each node gets a `_output_shapes` list(shape) attr (TensorBoard
        labels edges with it).

    Returns:
      A `protos.GraphDef` with `versions` set from `graph.version_info`.

    Raises:
      ValueError: if the GraphDef would exceed protobuf's 2GB limit.
    """
    graph_def = protos.GraphDef(versions=protos.VersionDef(**graph.version_info))
    total = 0
    for op in graph.get_operations():
        if from_version is not None and op._id <= from_version:
            continue
        _check_size(total + _tensor_attr_bytes(op), op)
        node = graph_def.node.add()
        node.CopyFrom(node_def_of(op))
        if add_shapes:
            node.attr["_output_shapes"].CopyFrom(_output_shapes_attr(op))
        total += node.ByteSize() + 6  # field tag and length prefix
        _check_size(total, op)
    if graph.__dict__.get("_functions"):
        from tensorflux.framework import function
        function.fill_library(graph_def.library, graph)
    return graph_def


# ---- OpDef --------------------------------------------------------------------------------
def _arg_def_proto(arg):
    proto = protos.OpDef.ArgDef(name=arg.name, is_ref=arg.is_ref)
    if arg.dtype is not None:
        proto.type = arg.dtype.base_dtype.as_datatype_enum
    if arg.type_attr:
        proto.type_attr = arg.type_attr
    if arg.type_list_attr:
        proto.type_list_attr = arg.type_list_attr
    if arg.number_attr:
        proto.number_attr = arg.number_attr
    return proto


def _attr_def_proto(name, attr):
    proto = protos.OpDef.AttrDef(name=name, type=attr.type)
    if not attr.required:
        default = attr.default
        if default is None and attr.type == "shape":
            default = tensor_shape.unknown_shape()
        if default is not None:
            proto.default_value.CopyFrom(attr_value_to_proto(default, attr.type))
    if attr.allowed is not None:
        kind = _list_kind(attr.type) or attr.type
        allowed = list(attr.allowed)
        if kind == "type":  # declared as sets: write them in a stable order
            allowed.sort(key=lambda d: dtypes.as_dtype(d).as_datatype_enum)
        proto.allowed_values.CopyFrom(attr_value_to_proto(allowed, f"list({kind})"))
    minimum = getattr(attr, "minimum", None)
    if minimum is not None:
        proto.has_minimum = True
        proto.minimum = minimum
    return proto


def op_def_to_proto(op_def):
    """The OpDef proto of a registered op (registry.OpDef): args, attrs with defaults and
    allowed values, and is_stateful."""
    proto = protos.OpDef(name=op_def.name, is_stateful=bool(op_def.is_stateful))
    proto.input_arg.extend(_arg_def_proto(a) for a in op_def.inputs)
    proto.output_arg.extend(_arg_def_proto(a) for a in op_def.outputs)
    proto.attr.extend(_attr_def_proto(name, attr) for name, attr in op_def.attrs.items())
    return proto
