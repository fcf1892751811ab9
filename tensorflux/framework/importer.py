"""tf.import_graph_def: adds the nodes of a GraphDef to the default graph, checking it first.

Everything is checked before any op is created, and every problem found is reported at once in
one ValueError: unknown op types (all of them), ops outside an allow-list, bad or duplicate node
names, missing, ill-typed or disallowed attrs, malformed tensors, dangling or out-of-range
inputs, wrong input counts and dtypes, cycles, bad `input_map` keys and `return_elements`. The
nodes are then built once in a scratch graph (so shape errors are found too) and only then in
the caller's graph.

Defaulted attrs missing from a NodeDef are filled in; attrs unknown to the op are ignored (as
TensorFlow does for forward compatibility), except the attrs that later TensorFlow versions
added to ops tensorflux implements (NEWER_TF_ATTRS): those are accepted only at the value that
keeps the older behaviour, since any other value would silently compute something else.
`_`-prefixed attrs are hints (`_class` colocation is kept and renamed with the import scope,
`_output_shapes` is recomputed).

The GraphDef's function library (`library { function gradient }`, framework/function.py) is
read first: a node whose op type names one of its functions (or a function already in the
graph's library) is a call, checked like any other node; the functions join the graph's
library once the nodes are built.

For graphs from untrusted sources pass `allowed_ops=SAFE_OPS` (pure computation: no Python
callbacks, no file, network or checkpoint ops), `SAFE_OPS | SAVER_OPS` for a graph whose
variables a Saver restores (import_meta_graph, the SavedModel loader), or a set of your own.
The allow-list is checked first, before anything else reads the GraphDef; an op outside it is
PermissionDeniedError naming every refused node. It is off by default, as in TensorFlow.
"""
import collections
import re

import numpy as np

from tensorflux.framework import dtypes, errors, ops, protos, registry
from tensorflux.framework.attr_values import attr_kind_of_proto, attr_value_from_proto

_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_INPUT = re.compile(r"^(\^)?([A-Za-z0-9.][A-Za-z0-9_.\-/>]*)(?::(\d+))?$")
MAX_TENSOR_BYTES = (1 << 31) - 1  # a decoded tensor attr may not exceed protobuf's 2 GiB
MAX_LIST_OUTPUTS = 1 << 16  # bound on N for list outputs (Split num_split, Unpack num, ...)
MAX_PROBLEMS_SHOWN = 100

# Ops that run Python code, touch files, the network or checkpoints. Never in SAFE_OPS.
UNSAFE_OPS = frozenset({
    "PyFunc", "PyFuncStateless", "EagerPyFunc", "ReadFile", "WriteFile", "MatchingFiles",
    "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints",
    "ShardedFilename", "ShardedFilespec", "ImmutableConst", "TFRecordReader", "TFRecordReaderV2",
    "TextLineReader", "TextLineReaderV2", "WholeFileReader", "WholeFileReaderV2",
    "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "IdentityReader", "ReaderRead",
    "ReaderReadV2", "ReaderReadUpTo", "ReaderReadUpToV2", "ReaderRestoreState",
    "ReaderSerializeState", "TFRecordDataset", "TextLineDataset", "FixedLengthRecordDataset",
    "_Send", "_Recv", "_HostSend", "_HostRecv", "Print", "PrintV2", "DebugIdentity",
    "WriteScalarSummary", "CreateSummaryFileWriter", "InitializeTableFromTextFile",
    "InitializeTableFromTextFileV2", "LoadAndRemapMatrix", "DecodeProtoV2",
})

# Pure computation: the ops an untrusted GraphDef may use with `allowed_ops=SAFE_OPS`.
SAFE_OPS = frozenset("""
Abs Add AddN AddV2 ArgMax Assert ArgMin Assign AssignAdd AssignSub AvgPool AvgPoolGrad BatchMatMul
BatchMatMulV2 BiasAdd BiasAddGrad BroadcastGradientArgs BroadcastTo Cast Ceil Concat ConcatV2
Const Conv2D Conv2DBackpropFilter Conv2DBackpropInput Cos Cumsum DepthwiseConv2dNative Div
DivNoNan Elu Enter Equal Erf Exit Exp ExpandDims Fill Floor FloorDiv FloorMod FusedBatchNorm
FusedBatchNormV3 Gather GatherV2 Greater GreaterEqual Identity IdentityN InTopK
IsVariableInitialized L2Loss LRN LeakyRelu Less LessEqual Log Log1p LogSoftmax LogicalAnd
LogicalNot LogicalOr LoopCond MatMul Max MaxPool MaxPoolGrad Maximum Mean Merge Min Minimum Mod
Mul Neg NextIteration NoOp NotEqual OneHot OnesLike Pack Pad PadV2 Placeholder
PlaceholderWithDefault Pow Prod RandomShuffle RandomStandardNormal RandomUniform
RandomUniformInt Range Rank RealDiv Reciprocal Relu Relu6 Reshape ResizeBilinear
ResizeNearestNeighbor Rsqrt Select SelectV2 Selu Shape ShapeN Sigmoid Sign Sin Size Slice
Softmax SoftmaxCrossEntropyWithLogits Softplus Softsign SparseSoftmaxCrossEntropyWithLogits
Split SplitV Sqrt Square SquaredDifference Squeeze StopGradient StridedSlice StridedSliceGrad
Sub Sum Switch Tanh Tile TopKV2 Transpose TruncatedNormal Unpack VariableV2 Where ZerosLike
ApplyGradientDescent ApplyMomentum ApplyAdam ApplyAdagrad ApplyRMSProp ApplyAdadelta ApplyFtrl
ScalarSummary HistogramSummary MergeSummary Tile Multinomial Cumprod Round Rint
""".split()) - UNSAFE_OPS

# The ops a tf.train.Saver adds (V2 and V1, sharded or not). Allowing them lets whoever runs
# the graph's save and restore ops read and write checkpoint files at paths the graph names.
SAVER_OPS = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename",
                       "ShardedFilespec", "Save", "SaveSlices", "Restore", "RestoreSlice"})

# Attrs that TensorFlow added to ops after the versions tensorflux implements, by op type: the
# value each must hold to keep the older behaviour (ANY_VALUE: a hint that changes no result).
# Consulted only when the registered op does not declare the attr itself.
ANY_VALUE = object()
_CONV_ATTRS = {"explicit_paddings": [], "dilations": [1, 1, 1, 1], "data_format": "NHWC",
               "use_cudnn_on_gpu": ANY_VALUE}
NEWER_TF_ATTRS = {
    "MatMul": {"grad_a": ANY_VALUE, "grad_b": ANY_VALUE},
    "BatchMatMul": {"grad_x": ANY_VALUE, "grad_y": ANY_VALUE},
    "Equal": {"incompatible_shape_error": True},
    "NotEqual": {"incompatible_shape_error": True},
    "GatherV2": {"batch_dims": 0},
    "ApplyAdagrad": {"update_slots": True},
    "SparseApplyAdagrad": {"update_slots": True},
    "ApplyFtrl": {"multiply_linear_by_lr": False},
    "SparseApplyFtrl": {"multiply_linear_by_lr": False},
    "Multinomial": {"output_dtype": dtypes.int64},
    "TopKV2": {"Tk": dtypes.int32, "index_type": dtypes.int32},
    "UnsortedSegmentSum": {"Tnumsegments": dtypes.int32},
    "Where": {"T": dtypes.bool},
    "Conv2D": _CONV_ATTRS,
    "Conv2DBackpropInput": _CONV_ATTRS,
    "Conv2DBackpropFilter": _CONV_ATTRS,
    "DepthwiseConv2dNative": _CONV_ATTRS,
    "DepthwiseConv2dNativeBackpropInput": _CONV_ATTRS,
    "DepthwiseConv2dNativeBackpropFilter": _CONV_ATTRS,
    "MaxPool": {"explicit_paddings": [], "data_format": "NHWC"},
    "MaxPoolGrad": {"explicit_paddings": [], "data_format": "NHWC"},
    "AvgPool": {"data_format": "NHWC"},
    "FusedBatchNorm": {"exponential_avg_factor": 1.0},
}

# Op types that later TensorFlow versions introduced for an op tensorflux implements under its
# older name, with the same inputs, outputs, attrs and results on every type both accept.
class _Node:
    """One NodeDef as read and checked: attrs as Python values, parsed inputs, types."""

    def __init__(self, node_def, index):
        self.node_def = node_def
        self.index = index
        self.name = node_def.name
        self.op_def = None
        self.op_type = node_def.op
        self.attrs = {}
        self.data_inputs = []  # (source name, output index)
        self.control_inputs = []  # source names
        self.input_types = None  # expected DTypes (ref where the op takes a ref), or None
        self.output_types = None


# ---- public entry point ----------------------------------------------------------------------
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None, allowed_ops=None):
    """Imports `graph_def` into the default graph.

    Args:
      graph_def: a GraphDef proto.
      input_map: dict from tensor names in `graph_def` ("x:0", or "x" for "x:0") to Tensors of
        the default graph that replace them.
      return_elements: names in `graph_def` to return: "op" gives the Operation, "op:k" the
        Tensor.
      name: prefix for the imported names; None means "import", "" means no prefix.
      op_dict: unused (TensorFlow's deprecated argument; ops come from the registry).
      producer_op_list: unused; attrs unknown to an op are ignored whatever their value.
      allowed_ops: if given, a set of op type names; a GraphDef with any other op type is
        refused (see SAFE_OPS and SAVER_OPS for untrusted graphs). None (the default, as in
        TensorFlow) allows every registered op.

    Returns:
      The list of elements named by `return_elements`, or None.

    Raises:
      TypeError: if graph_def is not a GraphDef, or input_map values are not Tensors.
      ValueError: listing every problem found in the GraphDef, before anything is created.
      errors.PermissionDeniedError: naming the nodes whose op types `allowed_ops` refuses.
    """
    del op_dict, producer_op_list  # accepted for TensorFlow compatibility
    elements, _ = import_graph_def_and_map(graph_def, input_map, return_elements, name,
                                           allowed_ops)
    return elements


def import_graph_def_and_map(graph_def, input_map=None, return_elements=None, name=None,
                             allowed_ops=None, functions=None):
    """import_graph_def, also returning {node name in graph_def: created Operation} (the
    created names may carry a prefix and a uniquifying suffix).

    `functions` ({name: _DefinedFunction}) are functions the nodes may call besides those of
    the GraphDef's library and the graph's (a function body's import sees its library)."""
    if not isinstance(graph_def, protos.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")
    graph = ops.get_default_graph()
    input_map = _normalize_input_map(input_map, graph)
    if isinstance(return_elements, str):
        raise TypeError("return_elements must be a list of names, got the string "
                        f"{return_elements!r}")
    return_elements = list(return_elements) if return_elements is not None else None
    if allowed_ops is not None:
        check_allowed_ops(graph_def, allowed_ops)
    library = _read_library(graph_def, graph, functions)
    nodes, order = _validate(graph_def, input_map, return_elements, graph, library)
    _dry_run(nodes, order, input_map)
    created = _build(graph, nodes, order, input_map, name)
    _add_functions(graph, graph_def, library, created)
    return _returned(return_elements, created), created


def _read_library(graph_def, graph, functions):
    """{name: _DefinedFunction} the nodes may call: given ones, the graph's, the GraphDef's."""
    from tensorflux.framework import function
    known = dict(functions or {})
    known.update(function.library(graph))
    for fdef in graph_def.library.function:  # checked before anything is created
        old = function.library(graph).get(fdef.signature.name)
        if old is not None and not function.same_definition(old.definition, fdef):
            raise ValueError(f"Cannot import GraphDef: its function '{fdef.signature.name}' "
                             "differs from the graph's function of that name; nothing was "
                             "imported")
    if graph_def.library.function:
        known.update(function.functions_from_library(graph_def.library, known))
    return known


def _add_functions(graph, graph_def, library, created):
    """Adds the GraphDef's functions and every function a created node calls to `graph`."""
    from tensorflux.framework import function
    names = [f.signature.name for f in graph_def.library.function]
    names += [op.type for op in created.values() if op.type in library]
    names += [function.gradient_target(op) for op in created.values()
              if op.type == "SymbolicGradient" and function.gradient_target(op) in library]
    for name in dict.fromkeys(names):
        library[name].add_to_graph(graph)


def check_allowed_ops(graph_def, allowed_ops):
    """Raises PermissionDeniedError naming every node of `graph_def` whose op type is not in
    `allowed_ops` (a set of op type names)."""
    allowed = frozenset(allowed_ops)
    allowed |= {f.signature.name for f in graph_def.library.function}  # bodies checked too
    refused = [(n.name, n.op) for n in graph_def.node if n.op not in allowed]
    refused += [(f"{f.signature.name}/{n.name}", n.op) for f in graph_def.library.function
                for n in f.node_def if n.op not in allowed]
    if not refused:
        return
    shown = ", ".join(f"'{name}' ({op})" for name, op in refused[:MAX_PROBLEMS_SHOWN])
    extra = len(refused) - MAX_PROBLEMS_SHOWN
    more = f" and {extra} more" if extra > 0 else ""
    types = ", ".join(sorted({op for _, op in refused}))
    raise errors.PermissionDeniedError(
        None, None, f"Op type not allowed: the GraphDef uses {types}, outside the import "
                    f"allow-list (allowed_ops); refused nodes: {shown}{more}. Nothing was "
                    "imported.")


def _normalize_input_map(input_map, graph):
    result = {}
    for key, value in (input_map or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"input_map keys must be tensor names (str), got {key!r}")
        if not isinstance(value, ops.Tensor):
            raise TypeError(f"input_map must map tensor names to Tensors; {key!r} maps to "
                            f"{type(value).__name__}")
        if value.graph is not graph:
            raise ValueError(f"input_map value for {key!r} ({value.name}) is not in the "
                             "default graph")
        result[key if ":" in key else key + ":0"] = value
    return result


# ---- validation ------------------------------------------------------------------------------
def _validate(graph_def, input_map, return_elements, graph, library):
    problems = []
    _check_versions(graph_def, graph, problems)
    nodes = _read_nodes(graph_def, problems, library)
    for node in nodes.values():
        _check_inputs(node, nodes, input_map, problems)
    _check_input_map(input_map, nodes, problems)
    _check_return_elements(return_elements, nodes, problems)
    order = _topological_order(nodes, input_map, problems)
    _raise_if(problems, graph_def)
    return nodes, order


def _raise_if(problems, graph_def):
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    raise ValueError(f"Cannot import GraphDef ({len(graph_def.node)} nodes): {len(problems)} "
                     "problem(s) found, nothing was imported:\n  - " + "\n  - ".join(shown)
                     + (f"\n  ... and {more} more" if more else ""))


def _check_versions(graph_def, graph, problems):
    if not graph_def.HasField("versions"):
        return
    ours = graph.version_info["producer"]
    versions = graph_def.versions
    if versions.min_consumer > ours:
        problems.append(f"GraphDef min_consumer {versions.min_consumer} is above this "
                        f"consumer's version {ours}")
    if ours in versions.bad_consumers:
        problems.append(f"GraphDef disallows consumer version {ours} (bad_consumers "
                        f"{list(versions.bad_consumers)})")


def _read_nodes(graph_def, problems, library):
    nodes = collections.OrderedDict()
    unknown = collections.defaultdict(list)
    registered = registry.registered_ops()
    for index, node_def in enumerate(graph_def.node):
        node = _Node(node_def, index)
        if not _NODE_NAME.match(node.name):
            problems.append(f"node {index}: name {node.name!r} is not a valid node name")
        elif node.name in nodes:
            problems.append(f"duplicate node name {node.name!r} (nodes {nodes[node.name].index} "
                            f"and {index})")
            continue
        nodes[node.name] = node
        node.op_def = registered.get(node_def.op) or _function_op_def(node, library, problems)
        if not node.op_def:
            if node.op_def is None:
                unknown[node_def.op].append(node.name)
            node.op_def = None
            continue
        _read_attrs(node, problems)
        _parse_inputs(node, problems)
    for op_type, names in sorted(unknown.items()):
        shown = ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")
        problems.append(f"unknown op type {op_type!r} (node{'s' if len(names) > 1 else ''} "
                        f"{shown})")
    return nodes


def _function_op_def(node, library, problems):
    """The OpDef of a call of a library function (None if `node.op_type` is none); a
    function whose FunctionDef cannot be read is a problem."""
    fn = library.get(node.op_type)
    if fn is None:
        return None
    try:
        return fn._built().op_def
    except (ValueError, TypeError, KeyError) as e:
        problems.append(f"node {node.name!r}: function {node.op_type!r}: {e}")
        return False


def _read_attrs(node, problems):
    where = f"node {node.name!r} ({node.node_def.op})"
    bad = False
    for attr_name, proto in node.node_def.attr.items():
        if attr_name.startswith("_"):
            _read_hint(node, attr_name, proto)
            continue
        decl = node.op_def.attrs.get(attr_name)
        if decl is None:
            bad = not _check_newer_attr(node, attr_name, proto, where, problems) or bad
            continue  # unknown to this op version: ignored
        try:
            node.attrs[attr_name] = _attr_value(proto, decl)
        except (ValueError, TypeError, errors.OpError) as e:
            problems.append(f"{where}: attr {attr_name!r}: {e}")
            bad = True
    for attr_name, decl in node.op_def.attrs.items():
        if attr_name in node.attrs or attr_name in node.node_def.attr:
            continue
        if decl.required:
            problems.append(f"{where}: missing required attr {attr_name!r} (of type "
                            f"{decl.type})")
            bad = True
        else:
            node.attrs[attr_name] = decl.default
    if not bad:
        bad = not _check_op_specific(node, where, problems)
    if not bad:
        _compute_types(node, where, problems)


def _check_newer_attr(node, attr_name, proto, where, problems):
    """False (with a problem) when an attr from a later TensorFlow holds a value other than
    the one that keeps this op's behaviour."""
    required = NEWER_TF_ATTRS.get(node.op_type, {}).get(attr_name, ANY_VALUE)
    if required is ANY_VALUE:
        return True
    try:
        value = attr_value_from_proto(proto)
    except (ValueError, TypeError, errors.OpError) as e:
        problems.append(f"{where}: attr {attr_name!r}: {e}")
        return False
    if value == required:
        return True
    problems.append(f"{where}: attr {attr_name!r} is {value!r}; tensorflux's {node.op_type} "
                    f"only implements {attr_name}={required!r} (TensorFlow's default)")
    return False


def _read_hint(node, attr_name, proto):
    if attr_name == "_output_shapes":
        return  # recomputed by the shape functions
    try:
        node.attrs[attr_name] = attr_value_from_proto(proto)
    except (ValueError, TypeError, errors.OpError):
        pass  # a hint that does not decode is dropped


def _attr_value(proto, decl):
    kind = attr_kind_of_proto(proto)
    if kind is None:
        raise ValueError(f"holds no value, required {decl.type}")
    if kind != decl.type and not (kind == "list" and decl.type.startswith("list(")):
        raise TypeError(f"has kind {kind}, required {decl.type}")
    for tensor in _tensor_protos(proto):
        _check_tensor_size(tensor)
    value = attr_value_from_proto(proto)
    if decl.type in ("type", "list(type)"):
        for dtype in value if isinstance(value, list) else [value]:
            _check_dtype(dtype, decl)
    elif decl.allowed is not None and value not in decl.allowed:
        raise ValueError(f"value {value!r} is not one of the allowed values {list(decl.allowed)}")
    if decl.type == "shape" and value.ndims is None and proto.shape.dim:
        raise ValueError("shape has unknown_rank set and also lists dimensions")
    return value


def _tensor_protos(proto):
    if proto.HasField("tensor"):
        return [proto.tensor]
    if proto.HasField("list"):
        return list(proto.list.tensor)
    return []


def _check_tensor_size(tensor):
    """Refuses a TensorProto whose decoded array would be unreasonably large."""
    dims = [d.size for d in tensor.tensor_shape.dim]
    if any(d < 0 for d in dims):
        raise ValueError(f"tensor shape {dims} has negative dimensions")
    dtype = dtypes.as_dtype(tensor.dtype).base_dtype
    itemsize = 8 if dtype == dtypes.string else np.dtype(dtype.as_numpy_dtype).itemsize
    size = 1
    for d in dims:
        size *= d
    if size * itemsize > MAX_TENSOR_BYTES:
        raise ValueError(f"tensor of shape {dims} and dtype {dtype.name} would take "
                         f"{size * itemsize} bytes, over the {MAX_TENSOR_BYTES}-byte limit")


def _check_dtype(dtype, decl):
    if dtype.as_datatype_enum == 0:
        raise ValueError("is DT_INVALID")
    if decl.allowed is not None and dtype.base_dtype not in decl.allowed:
        allowed = ", ".join(dtypes.as_dtype(d).name for d in decl.allowed)
        raise TypeError(f"value {dtype.name} is not in the list of allowed values: {allowed}")


def _check_op_specific(node, where, problems):
    """Checks one attr against another where a mismatch would only fail when running."""
    if node.op_type == "Const":
        value, dtype = node.attrs.get("value"), node.attrs.get("dtype")
        have = dtypes.string if value.dtype == object else dtypes.as_dtype(value.dtype)
        if have != dtype.base_dtype:
            problems.append(f"{where}: attr 'value' holds {have.name}, but attr 'dtype' is "
                            f"{dtype.name}")
            return False
    return True


def _arg_types(args, attrs, limit):
    types = []
    for arg in args:
        if arg.type_list_attr is not None:
            types.extend(dtypes.as_dtype(t) for t in attrs[arg.type_list_attr])
            continue
        dtype = arg.dtype if arg.dtype is not None else dtypes.as_dtype(attrs[arg.type_attr])
        if arg.is_ref:
            dtype = dtype._as_ref
        count = attrs[arg.number_attr] if arg.number_attr else 1
        if not isinstance(count, int) or not 0 <= count <= limit:
            raise ValueError(f"attr {arg.number_attr!r} = {count!r} must be an int in "
                             f"[0, {limit}]")
        types.extend([dtype] * count)
    return types


def _compute_types(node, where, problems):
    try:
        node.input_types = _arg_types(node.op_def.inputs, node.attrs, len(node.node_def.input))
        node.output_types = _arg_types(node.op_def.outputs, node.attrs, MAX_LIST_OUTPUTS)
    except (ValueError, TypeError, KeyError) as e:
        problems.append(f"{where}: {e}")
        node.input_types = node.output_types = None


def _parse_inputs(node, problems):
    seen_control = False
    for text in node.node_def.input:
        match = _INPUT.match(text)
        if not match:
            problems.append(f"node {node.name!r}: input {text!r} is not a valid input name")
            continue
        control, source, index = match.groups()
        if control:
            seen_control = True
            node.control_inputs.append(source)
        elif seen_control:
            problems.append(f"node {node.name!r}: data input {text!r} comes after a control "
                            "input; control inputs ('^x') must come last")
        else:
            node.data_inputs.append((source, int(index or 0)))


# ---- inputs, input_map, return_elements ------------------------------------------------------
def _check_inputs(node, nodes, input_map, problems):
    where = f"node {node.name!r} ({node.node_def.op})"
    if node.input_types is not None and len(node.data_inputs) != len(node.input_types):
        problems.append(f"{where}: has {len(node.data_inputs)} data inputs, the op requires "
                        f"{len(node.input_types)} (given its attrs)")
    for i, (source, index) in enumerate(node.data_inputs):
        actual = _source_type(source, index, nodes, input_map, where, problems)
        if actual is None or node.input_types is None or i >= len(node.input_types):
            continue
        expected = node.input_types[i]
        if expected._is_ref_dtype and not actual._is_ref_dtype:
            problems.append(f"{where}: input {i} ({source}:{index}) must be a reference "
                            f"({expected.name}), got {actual.name}")
        elif expected.base_dtype != actual.base_dtype:
            problems.append(f"{where}: input {i} ({source}:{index}) has dtype "
                            f"{actual.base_dtype.name}, required {expected.base_dtype.name}")
    for source in node.control_inputs:
        if source not in nodes:
            problems.append(f"{where}: control input '^{source}' names no node in the GraphDef")


def _source_type(source, index, nodes, input_map, where, problems):
    mapped = input_map.get(f"{source}:{index}")
    if mapped is not None:
        return mapped.dtype
    src = nodes.get(source)
    if src is None:
        problems.append(f"{where}: input '{source}:{index}' names no node in the GraphDef "
                        "(dangling input)")
        return None
    if src.output_types is None:
        return None  # the source's own problems are reported already
    if index >= len(src.output_types):
        problems.append(f"{where}: input '{source}:{index}' is out of range: {source} "
                        f"({src.node_def.op}) has {len(src.output_types)} outputs")
        return None
    return src.output_types[index]


def _has_output(nodes, tensor_name):
    source, _, index = tensor_name.rpartition(":")
    node = nodes.get(source)
    return (node is not None and index.isdigit() and node.output_types is not None
            and int(index) < len(node.output_types))


def _check_input_map(input_map, nodes, problems):
    missing = [key for key in input_map if not _has_output(nodes, key)]
    if missing:
        problems.append(f"input_map names tensors not found in the GraphDef: {missing}")


def _check_return_elements(return_elements, nodes, problems):
    for element in return_elements or ():
        if not isinstance(element, str):
            problems.append(f"return_elements entries must be names (str), got {element!r}")
        elif ":" in element and not _has_output(nodes, element):
            problems.append(f"requested return_element {element!r} not found in the GraphDef")
        elif ":" not in element and element not in nodes:
            problems.append(f"requested return_element {element!r} not found in the GraphDef")


def _is_back_edge(node, source, nodes):
    """A TF1 while loop's NextIteration -> Merge edge: the one kind of cycle a graph may have."""
    return node.op_type == "Merge" and source in nodes and \
        nodes[source].op_type == "NextIteration"


def _topological_order(nodes, input_map, problems):
    """Names in an order where each node follows its inputs (loop back edges aside); other
    cycles are problems."""
    pending, consumers = {}, collections.defaultdict(list)
    for node in nodes.values():
        sources = {s for s, i in node.data_inputs if f"{s}:{i}" not in input_map
                   and not _is_back_edge(node, s, nodes)}
        sources.update(node.control_inputs)
        sources = {s for s in sources if s in nodes}
        pending[node.name] = len(sources)
        for source in sources:
            consumers[source].append(node.name)
    ready = collections.deque(n for n, count in pending.items() if count == 0)
    order = []
    while ready:
        name = ready.popleft()
        order.append(name)
        for consumer in consumers[name]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                ready.append(consumer)
    if len(order) < len(nodes):
        stuck = [n for n, count in pending.items() if count > 0]
        problems.append(f"the GraphDef has a cycle through nodes {stuck[:10]}"
                        f"{' ...' if len(stuck) > 10 else ''} (only a while loop's "
                        "NextIteration -> Merge edges may close a cycle)")
    return order


# ---- building ----------------------------------------------------------------------------------
def _dry_run(nodes, order, input_map):
    """Builds the nodes in a scratch graph so that shape-function errors are found first."""
    scratch = ops.Graph()
    stand_ins = {key: _stand_in(scratch, key, tensor) for key, tensor in input_map.items()}
    problems = []
    built = {}
    with scratch.as_default():
        for name in order:
            node = nodes[name]
            inputs = _node_inputs(node, stand_ins, built)
            attrs = {k: v for k, v in node.attrs.items() if k != "_class"}
            try:
                op = scratch.create_op(node.op_type, inputs, node.output_types,
                                       name=name + "/", attrs=attrs, op_def=node.op_def,
                                       compute_device=False)
            except (ValueError, TypeError) as e:
                problems.append(f"node {name!r} ({node.node_def.op}): {e}")
                op = scratch.create_op(node.op_type, inputs, node.output_types,
                                       name=name + "/", attrs=attrs, op_def=node.op_def,
                                       compute_shapes=False, compute_device=False)
            built[name] = op
    if problems:
        graph_def = protos.GraphDef()
        graph_def.node.extend(nodes[n].node_def for n in order)
        _raise_if(problems, graph_def)


def _input_tensor(source, index, input_map, created):
    mapped = input_map.get(f"{source}:{index}")
    return mapped if mapped is not None else created[source]._outputs[index]


def _node_inputs(node, input_map, created):
    """The node's input tensors; a loop back edge not built yet (NextIteration -> Merge) is
    stood in for by the Merge's first input and rewired by _close_back_edges."""
    inputs = [_input_tensor(s, i, input_map, created)
              if f"{s}:{i}" in input_map or s in created else None for s, i in node.data_inputs]
    if all(t is not None for t in inputs):
        return inputs
    first = next(t for t in inputs if t is not None)
    return [first if t is None else t for t in inputs]


def _close_back_edges(nodes, input_map, created):
    for name, op in created.items():
        node = nodes[name]
        if node.op_type != "Merge":
            continue
        for k, (source, index) in enumerate(node.data_inputs):
            wanted = _input_tensor(source, index, input_map, created)
            if op._inputs[k] is not wanted:
                op._update_input(k, wanted)


def _stand_in(scratch, key, tensor):
    """A source op in the scratch graph with the dtype and static shape of `tensor`, named so
    that it cannot clash with a node name (those never start with '_')."""
    op = scratch.create_op("Placeholder", [], [tensor.dtype], name=f"_stand_in/{key}/",
                           attrs={"dtype": tensor.dtype.base_dtype, "shape": tensor.get_shape()},
                           compute_shapes=False, compute_device=False)
    op._outputs[0]._shape = tensor.get_shape()
    return op._outputs[0]


def _build(graph, nodes, order, input_map, name):
    scope = "import" if name is None else name
    created = {}
    with graph.as_default(), graph.name_scope(scope if scope else None):
        new_names = {n: graph.unique_name(n) for n in nodes}  # uniquified against the graph
        for node_name in order:
            node = nodes[node_name]
            inputs = _node_inputs(node, input_map, created)
            attrs = dict(node.attrs)
            if "_class" in attrs:
                attrs["_class"] = _renamed_colocation(attrs["_class"], new_names)
            op = graph.create_op(node.op_type, inputs, node.output_types,
                                 name=new_names[node_name] + "/", attrs=attrs,
                                 op_def=node.op_def)
            if node.node_def.device:
                op._set_device(node.node_def.device)
            op._add_control_inputs([created[c] for c in node.control_inputs])
            created[node_name] = op
        _close_back_edges(nodes, input_map, created)
    return created


def _renamed_colocation(groups, new_names):
    if not isinstance(groups, list):
        return groups
    renamed = []
    for group in groups:
        # a group that is not UTF-8 names no node; kept (escaped) rather than failing here
        text = (group.decode("utf-8", errors="backslashreplace") if isinstance(group, bytes)
                else str(group))
        if text.startswith("loc:@") and text[5:] in new_names:
            text = "loc:@" + new_names[text[5:]]
        renamed.append(text)
    return renamed


def _returned(return_elements, created):
    if return_elements is None:
        return None
    result = []
    for element in return_elements:
        if ":" in element:
            source, _, index = element.rpartition(":")
            result.append(created[source]._outputs[int(index)])
        else:
            result.append(created[element])
    return result
