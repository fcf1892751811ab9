"""GraphDef surgery (`tf.graph_util`): freezing variables into constants, extracting the
subgraph that some nodes need, and dropping training-only pass-through nodes."""
import collections
import logging

from tensorflux.framework import protos
from tensorflux.framework import tensor_util

_log = logging.getLogger("tensorflux")

_VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")


def _node_name(input_name):
    """The node an input string refers to: "^x" and "x:1" both give "x"."""
    return input_name.lstrip("^").split(":")[0]


def _check_graph_def(graph_def):
    if not isinstance(graph_def, protos.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")


def _copy_header(source, target):
    target.versions.CopyFrom(source.versions)
    target.library.CopyFrom(source.library)


def extract_sub_graph(graph_def, dest_nodes):
    """The GraphDef of `dest_nodes` and every node they depend on (data and control inputs),
    in the original order.

    Raises:
      TypeError: if graph_def is not a GraphDef or dest_nodes is a single string.
      AssertionError: naming the dest nodes missing from the graph (TensorFlow's error type).
    """
    _check_graph_def(graph_def)
    if isinstance(dest_nodes, str):
        raise TypeError(f"dest_nodes must be a list of node names, got the string "
                        f"{dest_nodes!r}")
    nodes = {node.name: node for node in graph_def.node}
    missing = [d for d in dest_nodes if _node_name(d) not in nodes]
    if missing:
        raise AssertionError(f"Nodes not in graph: {missing}")
    keep, queue = set(), collections.deque(_node_name(d) for d in dest_nodes)
    while queue:
        name = queue.popleft()
        if name in keep or name not in nodes:
            continue
        keep.add(name)
        queue.extend(_node_name(i) for i in nodes[name].input)
    out = protos.GraphDef()
    out.node.extend(node for node in graph_def.node if node.name in keep)
    _copy_header(graph_def, out)
    return out


def _variables_to_freeze(graph_def, whitelist, blacklist):
    names = []
    for node in graph_def.node:
        if node.op not in _VARIABLE_OPS:
            continue
        if whitelist is not None and node.name not in whitelist:
            continue
        if blacklist is not None and node.name in blacklist:
            continue
        names.append(node.name)
    return names


def _reader_of(graph_def, handle_name):
    """The ReadVariableOp reading resource variable `handle_name` (its value is fetched)."""
    for node in graph_def.node:
        if node.op == "ReadVariableOp" and node.input and _node_name(node.input[0]) == handle_name:
            return node.name + ":0"
    return None


def convert_variables_to_constants(sess, input_graph_def, output_node_names,
                                   variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """Freezes a graph: variables the outputs need become Const nodes holding their values
    in `sess`; everything the outputs do not need is dropped.

    Args:
      sess: the Session holding the variables' values.
      input_graph_def: the GraphDef (usually sess.graph.as_graph_def()).
      output_node_names: names of the nodes to keep, with their dependencies.
      variable_names_whitelist: if given, only these variables are converted.
      variable_names_blacklist: variables never converted.

    Returns:
      The frozen GraphDef.
    """
    graph_def = extract_sub_graph(input_graph_def, output_node_names)
    names = _variables_to_freeze(graph_def, variable_names_whitelist, variable_names_blacklist)
    by_name = {node.name: node for node in graph_def.node}
    fetches = {}
    for name in names:
        fetch = (_reader_of(input_graph_def, name) if by_name[name].op == "VarHandleOp"
                 else name + ":0")
        if fetch is not None:
            fetches[name] = fetch
    values = dict(zip(fetches, sess.run(list(fetches.values())))) if fetches else {}
    out = protos.GraphDef()
    for node in graph_def.node:
        out.node.add().CopyFrom(_frozen_node(node, values, by_name))
    _copy_header(graph_def, out)
    _log.info("Froze %d variables; converted %d variables to const ops.", len(values),
              len(values))
    return out


def _frozen_node(node, values, by_name):
    if node.name in values:
        dtype = node.attr["dtype"]
        const = protos.NodeDef(name=node.name, op="Const")
        const.attr["dtype"].CopyFrom(dtype)
        const.attr["value"].tensor.CopyFrom(
            tensor_util.make_tensor_proto(values[node.name], dtype=dtype.type))
        return const
    if node.op == "ReadVariableOp" and node.input and _node_name(node.input[0]) in values:
        identity = protos.NodeDef(name=node.name, op="Identity", device=node.device)
        identity.input.extend(node.input)
        identity.attr["T"].CopyFrom(node.attr["dtype"])
        return identity
    return node


def remove_training_nodes(input_graph, protected_nodes=None):
    """Removes Identity and CheckNumerics nodes (not in `protected_nodes` and without control
    inputs), rewiring their consumers to the node's own input."""
    _check_graph_def(input_graph)
    protected = set(protected_nodes or ())
    removable = {}
    for node in input_graph.node:
        if (node.op in ("Identity", "CheckNumerics") and node.name not in protected
                and node.input and not any(i.startswith("^") for i in node.input)):
            removable[node.name] = node.input[0]

    def resolve(input_name):
        """Follows removed pass-through nodes back to the tensor they forward."""
        control = input_name.startswith("^")
        name = input_name.lstrip("^")
        for _ in range(len(removable) + 1):
            source, _, index = name.partition(":")
            if source not in removable or index not in ("", "0"):
                break
            name = removable[source]
        return "^" + _node_name(name) if control else name

    out = protos.GraphDef()
    for node in input_graph.node:
        if node.name in removable:
            continue
        copy = out.node.add()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(resolve(i) for i in node.input)
    _copy_header(input_graph, out)
    return out
