"""MetaGraphDef export and import: the graph, its collections, and the saver that goes with it.

    meta = tf.train.export_meta_graph("model.meta")
    saver = tf.train.import_meta_graph("model.meta")   # in a fresh graph

Collections are written as TensorFlow does: Tensors and Operations as `node_list` names,
strings as `bytes_list`, ints as `int64_list`, floats as `float_list`, and objects whose
collection has registered proto functions (variables: `VariableDef`) as serialized protos in
`bytes_list`. Modules that own such objects call `register_proto_function`; the Saver's module
calls `register_saver_factory` so that `import_meta_graph` can return a Saver.
"""
import logging
import numbers

from google.protobuf import text_format

from tensorflux.framework import importer
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import registry
from tensorflux.platform import gfile

_log = logging.getLogger("tensorflux")

META_GRAPH_VERSION = "v1.0"
TENSORFLOW_VERSION = "1.0.0"  # the graph semantics tensorflux follows
VARIABLE_COLLECTIONS = (ops.GraphKeys.GLOBAL_VARIABLES, ops.GraphKeys.TRAINABLE_VARIABLES,
                        ops.GraphKeys.LOCAL_VARIABLES, ops.GraphKeys.MODEL_VARIABLES,
                        ops.GraphKeys.MOVING_AVERAGE_VARIABLES, ops.GraphKeys.GLOBAL_STEP)


VariableDef = protos.VariableDef
SaveSliceInfoDef = protos.SaveSliceInfoDef


def _strip_scope(name, export_scope):
    if not export_scope:
        return name
    prefix = export_scope.rstrip("/") + "/"
    return name[len(prefix):] if name.startswith(prefix) else name


def variable_to_proto(variable, export_scope=None):
    """The VariableDef of a tf.Variable (names of its op, initializer, snapshot, initial value)."""
    initial = getattr(variable, "initial_value", None)
    proto = VariableDef(
        variable_name=_strip_scope(variable._ref().name, export_scope),
        initializer_name=_strip_scope(variable.initializer.name, export_scope),
        snapshot_name=_strip_scope(variable.value().name, export_scope),
        initial_value_name=_strip_scope(initial.name, export_scope) if initial is not None
        else "",
        trainable=bool(getattr(variable, "trainable", True)))
    slice_info = getattr(variable, "_save_slice_info", None)
    if slice_info is not None:  # a shard of a partitioned variable
        slice_def = slice_info.to_proto(export_scope)
        if slice_def is not None:
            proto.save_slice_info_def.CopyFrom(slice_def)
    return proto


# ---- registries ----------------------------------------------------------------------------------
_PROTO_FUNCTIONS = {}
_SAVER_FACTORY = []


def register_proto_function(collection_name, proto_type=None, to_proto=None, from_proto=None):
    """Declares how the objects of collection `collection_name` are written and read.

    Args:
      collection_name: a graph collection key.
      proto_type: the proto class (with FromString) read back from `bytes_list`.
      to_proto: fn(object, export_scope) -> proto, or None to skip the object.
      from_proto: fn(proto, import_scope) -> object.
    """
    _PROTO_FUNCTIONS[collection_name] = (proto_type, to_proto, from_proto)


def get_proto_functions(collection_name):
    """(proto_type, to_proto, from_proto) registered for a collection, or None."""
    return _PROTO_FUNCTIONS.get(collection_name)


def register_saver_factory(factory):
    """Sets fn(saver_def or None, import_scope) -> Saver or None, used by import_meta_graph."""
    _SAVER_FACTORY[:] = [factory]


# ---- export --------------------------------------------------------------------------------------
def _stripped_op_list(graph_def):
    """The OpDefs of the ops the graph and its functions' bodies use (calls of functions are
    not ops, as in TF)."""
    functions = {f.signature.name for f in graph_def.library.function}
    used = {node.op for node in graph_def.node}
    used.update(n.op for f in graph_def.library.function for n in f.node_def)
    op_list = protos.OpList()
    for op_type in sorted(used - functions):
        op_list.op.add().CopyFrom(registry.get_op_def(op_type).to_proto())
    return op_list


def _collection_def(key, items, export_scope):
    """A CollectionDef for `items`, or None if they cannot be written."""
    functions = _PROTO_FUNCTIONS.get(key)
    collection = protos.CollectionDef()
    if functions is not None and functions[1] is not None:
        protos_out = [functions[1](item, export_scope) for item in items]
        collection.bytes_list.value.extend(p.SerializeToString() for p in protos_out
                                           if p is not None)
    elif all(isinstance(i, (ops.Tensor, ops.Operation)) for i in items):
        collection.node_list.value.extend(_strip_scope(i.name, export_scope) for i in items)
    elif all(isinstance(i, (str, bytes)) for i in items):
        collection.bytes_list.value.extend(i.encode() if isinstance(i, str) else i
                                           for i in items)
    elif all(isinstance(i, numbers.Integral) for i in items):
        collection.int64_list.value.extend(int(i) for i in items)
    elif all(isinstance(i, numbers.Real) for i in items):
        collection.float_list.value.extend(float(i) for i in items)
    else:
        kinds = sorted({type(i).__name__ for i in items})
        _log.warning("Collection %r not exported: no proto functions for its items (%s)", key,
                     ", ".join(kinds))
        return None
    return collection


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, clear_devices=False,
                      export_scope=None):
    """Builds a MetaGraphDef of `graph` (default graph) and writes it to `filename` if given.

    Args:
      filename: where to write it (atomically); None to only return it.
      meta_info_def: a MetaInfoDef to use; versions and the stripped op list are filled in.
      graph_def: the GraphDef to include instead of the graph's (with shapes).
      saver_def: a SaverDef to include (Saver.export_meta_graph passes its own).
      collection_list: names of the collections to write; None for all.
      as_text: write the text format instead of binary.
      graph: the graph to export; the default graph if None.
      clear_devices: drop every node's device.
      export_scope: node names in collections are written relative to this name scope.

    Returns:
      The MetaGraphDef.
    """
    graph = graph or ops.get_default_graph()
    meta = protos.MetaGraphDef()
    meta.graph_def.CopyFrom(graph_def if graph_def is not None
                            else graph.as_graph_def(add_shapes=True))
    if clear_devices:
        for node in meta.graph_def.node:
            node.device = ""
    if meta_info_def is not None:
        meta.meta_info_def.CopyFrom(meta_info_def)
    info = meta.meta_info_def
    info.meta_graph_version = info.meta_graph_version or META_GRAPH_VERSION
    info.tensorflow_version = info.tensorflow_version or TENSORFLOW_VERSION
    info.tensorflow_git_version = info.tensorflow_git_version or "tensorflux"
    info.stripped_op_list.CopyFrom(_stripped_op_list(meta.graph_def))
    if saver_def is not None:
        meta.saver_def.CopyFrom(saver_def)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in sorted(k for k in keys if isinstance(k, str)):
        items = graph.get_collection(key)
        if not items:
            continue
        collection = _collection_def(key, items, export_scope)
        if collection is not None:
            meta.collection_def[key].CopyFrom(collection)
    if filename:
        _write(meta, filename, as_text)
    return meta


def _write(message, filename, as_text):
    data = text_format.MessageToString(message) if as_text else message.SerializeToString()
    with gfile.GFile(filename, "w" if as_text else "wb") as f:
        f.write(data)


# ---- import --------------------------------------------------------------------------------------
def read_meta_graph_file(filename):
    """A MetaGraphDef from a binary or text file.

    Raises:
      IOError: if the file does not exist.
      ValueError: if it is neither format.
    """
    if not gfile.Exists(filename):
        raise IOError(f"File {filename} does not exist.")
    with gfile.GFile(filename, "rb") as f:
        data = f.read()
    meta = protos.MetaGraphDef()
    try:
        meta.ParseFromString(data)
        return meta
    except Exception:  # noqa: BLE001 - protobuf raises DecodeError; try text next
        pass
    try:
        text_format.Merge(data.decode("utf-8"), meta)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{filename} is neither a binary nor a text MetaGraphDef: {e}") \
            from None
    return meta


def _as_meta_graph(meta_graph_or_file):
    if isinstance(meta_graph_or_file, protos.MetaGraphDef):
        return meta_graph_or_file
    return read_meta_graph_file(meta_graph_or_file)


def import_scoped_meta_graph(meta_graph_or_file, clear_devices=False, graph=None,
                             import_scope=None, input_map=None, allowed_ops=None):
    """Imports the graph and collections of a MetaGraphDef into `graph` (default graph).

    `allowed_ops` (a set of op type names; None allows all) refuses graphs using other ops
    with PermissionDeniedError, as tf.import_graph_def does (importer.SAFE_OPS, SAVER_OPS).

    Returns:
      A dict {variable name: Variable} of the imported global variables (empty if the
      variable collections have no registered proto functions).
    """
    meta = _as_meta_graph(meta_graph_or_file)
    graph = graph or ops.get_default_graph()
    graph_def = protos.GraphDef()
    graph_def.CopyFrom(meta.graph_def)
    if clear_devices:
        for node in graph_def.node:
            node.device = ""
    with graph.as_default():
        _, created = importer.import_graph_def_and_map(graph_def, input_map=input_map,
                                                       name=import_scope or "",
                                                       allowed_ops=allowed_ops)
        for key in sorted(meta.collection_def):
            _import_collection(graph, key, meta.collection_def[key], created, import_scope)
    variables = graph.get_collection(ops.GraphKeys.GLOBAL_VARIABLES)
    return {v.name: v for v in variables if hasattr(v, "initializer")}


def _element(graph, name, created):
    source, colon, index = name.partition(":")
    op = created.get(source)
    if op is None:
        return graph.as_graph_element(name)
    return op._outputs[int(index)] if colon else op


def _import_collection(graph, key, collection, created, import_scope):
    kind = collection.WhichOneof("kind")
    if kind is None:
        return
    values = getattr(collection, kind).value
    functions = _PROTO_FUNCTIONS.get(key)
    if kind == "node_list":
        for name in values:
            graph.add_to_collection(key, _element(graph, name, created))
    elif kind == "bytes_list" and functions is not None and functions[2] is not None:
        proto_type = functions[0] or VariableDef
        scope = _actual_scope(created, import_scope)
        for data in values:
            graph.add_to_collection(key, functions[2](_parse_item(proto_type, data, key), scope))
    else:
        for value in values:
            graph.add_to_collection(key, value)


def _parse_item(proto_type, data, key):
    try:
        return proto_type.FromString(data)
    except Exception as e:  # noqa: BLE001 - protobuf's DecodeError
        raise ValueError(f"Collection {key!r} holds an item that is not a "
                         f"{proto_type.__name__}: {e}") from None


def _actual_scope(created, import_scope):
    """The prefix the importer really used (it may have made the scope name unique)."""
    if not import_scope or not created:
        return import_scope
    name, op = next(iter(created.items()))
    return op.name[:-len(name) - 1] if op.name.endswith("/" + name) else import_scope


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Imports a MetaGraphDef (a proto or a .meta file) into the default graph. kwargs go to
    import_scoped_meta_graph (input_map, allowed_ops).

    Returns:
      A Saver built from the MetaGraphDef's saver_def (or for the imported variables), as
      made by the factory the Saver module registered; None if there is none to make.
    """
    meta = _as_meta_graph(meta_graph_or_file)
    import_scoped_meta_graph(meta, clear_devices=clear_devices, import_scope=import_scope,
                             **kwargs)
    if not _SAVER_FACTORY:
        if meta.HasField("saver_def"):
            _log.warning("import_meta_graph: no Saver factory registered; returning None")
        return None
    return _SAVER_FACTORY[0](meta.saver_def if meta.HasField("saver_def") else None,
                             import_scope)
