"""FunctionDef protos <-> function bodies (TF's `FunctionDef`, GraphDef version 21 and later).

A function body is a tf.Graph whose arguments are Placeholders. In a FunctionDef the
arguments are named by the signature (`input_arg`), the other nodes keep their NodeDefs, and an
input names either an argument ("a") or an output *argument* of a node, "node:out_arg:index"
("mul:z:0"), not the flat "node:k" of a GraphDef; `ret` maps each output argument to such a
name. This module converts both ways; the function library (framework/function.py) builds on it.
"""
import re

from tensorflux.framework import attr_values, protos

_ARG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # TF's rule for argument names


def arg_name(name, used):
    """`name` made a valid, unused argument name (lower case, [a-z0-9_], a letter first)."""
    text = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not _ARG_NAME.match(text):
        text = "arg_" + text
    base, k = text, 0
    while text in used:
        text, k = f"{base}_{k}", k + 1
    used.add(text)
    return text


def output_arg_counts(op_def, attrs):
    """[(output argument name, number of tensors)] of an op given its attrs."""
    counts = []
    for arg in op_def.outputs:
        if arg.number_attr:
            count = attrs[arg.number_attr]
        elif arg.type_list_attr:
            count = len(attrs[arg.type_list_attr])
        else:
            count = 1
        counts.append((arg.name, int(count)))
    return counts


def _reference(tensor, arg_of):
    """The FunctionDef name of a body tensor: its argument name, or node:out_arg:index."""
    if tensor.op in arg_of:
        return arg_of[tensor.op]
    offset = 0
    for name, count in output_arg_counts(tensor.op._op_def, tensor.op._attrs):
        if tensor.value_index < offset + count:
            return f"{tensor.op.name}:{name}:{tensor.value_index - offset}"
        offset += count
    raise ValueError(f"Tensor {tensor.name} is beyond the outputs its op declares")


def to_function_def(name, inputs, input_names, outputs, output_names, graph, attrs=None,
                    is_stateful=False):
    """The FunctionDef of the body `graph`: `inputs` (its Placeholder tensors) and `outputs`
    named by `input_names` and `output_names`, every other op a node_def."""
    fdef = protos.function_pb2.FunctionDef()
    sig = fdef.signature
    sig.name = name
    sig.is_stateful = bool(is_stateful)
    for arg, t in zip(input_names, inputs):
        sig.input_arg.add(name=arg, type=t.dtype.base_dtype.as_datatype_enum)
    for arg, t in zip(output_names, outputs):
        sig.output_arg.add(name=arg, type=t.dtype.base_dtype.as_datatype_enum)
    arg_of = {t.op: arg for arg, t in zip(input_names, inputs)}
    for op in graph.get_operations():
        if op in arg_of:
            continue
        node = fdef.node_def.add()
        node.CopyFrom(attr_values.node_def_of(op))
        del node.input[:]
        node.input.extend(_reference(t, arg_of) for t in op.inputs)
        node.input.extend("^" + c.name for c in op.control_inputs if c not in arg_of)
    for arg, t in zip(output_names, outputs):
        fdef.ret[arg] = _reference(t, arg_of)
    for key, value in (attrs or {}).items():
        fdef.attr[key].CopyFrom(attr_values.attr_value_to_proto(value))
    return fdef


# ---- FunctionDef -> GraphDef ---------------------------------------------------------------
def _check_signature(fdef):
    sig = fdef.signature
    for arg in list(sig.input_arg) + list(sig.output_arg):
        if arg.type_attr or arg.number_attr or arg.type_list_attr or not arg.type:
            raise ValueError(f"Function '{sig.name}': argument '{arg.name}' has a type given "
                             "by an attr; only functions with fixed argument types (Defun with "
                             "input types) are supported")
    names = [a.name for a in sig.input_arg] + [n.name for n in fdef.node_def]
    if len(set(names)) != len(names):
        raise ValueError(f"Function '{sig.name}': argument and node names must be distinct, "
                         f"got {sorted(names)}")


def _flat_index(node_def, out_arg, index, op_def_of, where):
    op_def = op_def_of(node_def.op)
    if op_def is None:
        raise ValueError(f"{where}: node '{node_def.name}' has unknown op type "
                         f"'{node_def.op}'")
    attrs = {}
    for key, decl in op_def.attrs.items():
        if key in node_def.attr:
            attrs[key] = attr_values.attr_value_from_proto(node_def.attr[key])
        elif not decl.required:
            attrs[key] = decl.default
    offset = 0
    for name, count in output_arg_counts(op_def, attrs):
        if name == out_arg and index < count:
            return offset + index
        offset += count
    raise ValueError(f"{where}: node '{node_def.name}' ({node_def.op}) has no output "
                     f"'{out_arg}:{index}'")


def _flat_name(text, nodes, args, op_def_of, where):
    """A FunctionDef input name as a GraphDef one ("^x" and argument names unchanged)."""
    if text.startswith("^") or text in args:
        return text
    parts = text.split(":")
    if len(parts) == 1:
        return text
    if len(parts) != 3 or parts[0] not in nodes or not parts[2].isdigit():
        raise ValueError(f"{where}: input {text!r} names no argument or node output "
                         "('node:out_arg:index')")
    index = _flat_index(nodes[parts[0]], parts[1], int(parts[2]), op_def_of, where)
    return f"{parts[0]}:{index}"


def to_graph_def(fdef, op_def_of):
    """A GraphDef of the body of `fdef` (arguments as Placeholders named like them) and the
    GraphDef names ("node:k") of its outputs, in signature order.

    `op_def_of(op_type)` gives the OpDef of a node's op (a registered op or a function).
    """
    _check_signature(fdef)
    sig = fdef.signature
    where = f"Function '{sig.name}'"
    args = {a.name for a in sig.input_arg}
    nodes = {n.name: n for n in fdef.node_def}
    graph_def = protos.GraphDef()
    for arg in sig.input_arg:
        node = graph_def.node.add(name=arg.name, op="Placeholder")
        node.attr["dtype"].type = arg.type
    for node_def in fdef.node_def:
        node = graph_def.node.add()
        node.CopyFrom(node_def)
        del node.input[:]
        node.input.extend(_flat_name(t, nodes, args, op_def_of, where) for t in node_def.input)
    outputs = []
    for arg in sig.output_arg:
        if arg.name not in fdef.ret:
            raise ValueError(f"{where}: output '{arg.name}' has no ret entry")
        name = _flat_name(fdef.ret[arg.name], nodes, args, op_def_of, where)
        outputs.append(name if ":" in name else name + ":0")
    return graph_def, outputs


def called_functions(fdef, names):
    """The op types of `fdef`'s nodes that are among `names` (functions it calls)."""
    return {n.op for n in fdef.node_def if n.op in names}
