"""Element-wise fusion (TF's "remapping"): a chain of element-wise ops becomes one step that
runs their NumPy ufuncs in a generated function, writing every intermediate into one buffer
(`out=`), so a 400-op chain costs one plan step and one allocation instead of 400 of each.

A node joins the group producing one of its inputs when that input is the group's output, read
by this node alone, not fetched, and the node's other inputs broadcast into it (their static
shapes say so, or SameShapes shows they have its run-time shape: then writing in place cannot
change the shape). All ops are float32/float64 with
a known rank >= 1. The fused step runs where the group's last op ran (its other ops only move
later, past nodes that never read them, never past a stateful node such as an assignment) and
carries that op's kernel context.

The ufuncs are the ones the registered kernels call, in the same order and dtypes, so results
are identical to the unfused plan. If the generated function fails (an input shape the static
shapes did not pin down), the step replays the ops one by one with their own kernels, so the
error is the one the op would raise, naming that op.
"""
import numpy as np

from tensorflux.framework import dtypes
from tensorflux.runtime import kernel_binding
from tensorflux.runtime.optimizer.graph import Node

_BINARY = {"Add": "add", "AddV2": "add", "Sub": "subtract", "Mul": "multiply",
           "Maximum": "maximum", "Minimum": "minimum", "RealDiv": "true_divide"}
_UNARY = {"Neg": "negative", "Tanh": "tanh", "Square": "square", "Abs": "absolute",
          "Sin": "sin", "Cos": "cos", "Floor": "floor", "Ceil": "ceil", "Exp": "exp",
          "Log": "log", "Log1p": "log1p", "Sqrt": "sqrt", "Reciprocal": "reciprocal",
          "Inv": "reciprocal"}
_SPECIAL = frozenset(("Sigmoid", "Relu", "Rsqrt"))
# Kernels that silence NumPy's floating-point warnings (TF gives inf/nan silently): a group
# holding one runs under np.errstate(all="ignore").
_QUIET = frozenset(("RealDiv", "Exp", "Log", "Log1p", "Sqrt", "Reciprocal", "Inv", "Rsqrt",
                    "Sigmoid"))
_FLOATS = (dtypes.float32, dtypes.float64)


class Group:
    """Ops fused into one step: `ops` in order, each with its (rewired) input tensors."""

    def __init__(self, node):
        self.ops = [node.op]
        self.inputs = [list(node.inputs)]
        self.output = node.outputs[0]

    def external(self, constants):
        """The tensors the group reads from outside, in order (constants excepted)."""
        seen = []
        for k, inputs in enumerate(self.inputs):
            for t in inputs:
                internal = k > 0 and t is self.ops[k - 1]._outputs[0]
                if not internal and t not in constants and t not in seen:
                    seen.append(t)
        return seen


def run(graph):
    """Fuses element-wise chains of `graph`; returns (groups made, ops fused into them)."""
    graph.same_shape = SameShapes(graph.nodes)
    groups, nodes = {}, list(graph.nodes)  # output tensor -> (Group, node index)
    readers = {}
    for node in nodes:
        for t in set(node.inputs):
            readers[t] = readers.get(t, 0) + 1
    controllers = {c for node in nodes for op in node.ops for c in op._control_inputs}
    barrier = -1  # the last stateful node so far: a group never moves past one
    for k, node in enumerate(nodes):
        if any(op._op_def.is_stateful for op in node.ops):
            barrier = k
        if not _fusible(node):
            continue
        joined = _join_target(graph, node, groups, readers, controllers, barrier)
        if joined is None:
            groups[node.outputs[0]] = (Group(node), k)
            continue
        group, old = groups.pop(joined)
        group.ops.append(node.op)
        group.inputs.append(list(node.inputs))
        group.output = node.outputs[0]
        nodes[old] = None
        groups[group.output] = (group, k)
    made = fused = 0
    for group, k in groups.values():
        if len(group.ops) > 1:
            nodes[k] = _group_node(group, graph)
            made, fused = made + 1, fused + len(group.ops)
    graph.nodes = [n for n in nodes if n is not None]
    return made, fused


def finalize(graph, context_for, device):
    """Replaces each fused node's Group by its generated function (after memory.py chose)."""
    for node in graph.nodes:
        if isinstance(node.fn, Group):
            node.fn = _compile(node.fn, node, graph.constants, context_for, device)


def _fusible(node):
    op = node.op
    if node.fn is not None or (op.type not in _BINARY and op.type not in _UNARY
                               and op.type not in _SPECIAL):
        return False
    dtype = op._attrs.get("T")
    if dtype not in _FLOATS or len(op._outputs) != 1:
        return False
    shape = op._outputs[0].get_shape()
    return shape.ndims is not None and shape.ndims >= 1 and not any(
        t.dtype._is_ref_dtype for t in node.inputs)


def _join_target(graph, node, groups, readers, controllers, barrier):
    """The output of the group `node` may join (one of its inputs), or None.

    Not past a stateful node (an assignment, say): the group's ops would then read a
    variable's buffer after it instead of before."""
    for t in node.inputs:
        entry = groups.get(t)
        if entry is None or readers.get(t) != 1 or t in graph.fetched or entry[1] < barrier:
            continue
        if entry[0].ops[-1] in controllers:
            continue
        if all(fits(graph, u, t) for u in node.inputs):
            return t
    return None


def fits(graph, small, big):
    """Whether tensor `small` broadcasts into tensor `big` at run time, giving big's shape."""
    return (small is big or graph.same_shape.same(small, big)
            or _broadcasts_into(small.get_shape(), big.get_shape()))


class SameShapes:
    """Which tensors of a plan have one run-time shape even where static shapes have unknown
    dimensions (a [None, 10] batch): a shape-preserving unary op's output has its input's
    shape, and a broadcasting binary op's output has the shape of the input the other one
    provably broadcasts into. Union-find over tensors."""

    _UNARY = frozenset(_UNARY) | {"Sigmoid", "Relu", "Relu6", "Elu", "Softplus", "Softsign",
                                  "Exp", "Log", "Log1p", "Sqrt", "Rsqrt", "Reciprocal", "Inv",
                                  "Sign", "Identity", "StopGradient", "Softmax", "LogSoftmax",
                                  "ZerosLike", "OnesLike"}

    def __init__(self, nodes):
        self._parent = {}
        for node in nodes:
            if node.fn is not None or len(node.outputs) != 1:
                continue
            kind, ins, out = node.op.type, node.inputs, node.outputs[0]
            if kind in self._UNARY and len(ins) == 1:
                self._union(out, ins[0])
            elif kind in _BINARY and len(ins) == 2:
                x, y = ins
                if self.same(x, y) or _broadcasts_into(y.get_shape(), x.get_shape()):
                    self._union(out, x)
                elif _broadcasts_into(x.get_shape(), y.get_shape()):
                    self._union(out, y)

    def _find(self, t):
        parent = self._parent
        while t in parent:  # roots have no entry
            t = parent[t]
        return t

    def _union(self, a, b):
        ra, rb = self._find(a), self._find(b)
        if ra is not rb:
            self._parent[ra] = rb

    def same(self, a, b):
        return self._find(a) is self._find(b)


def _broadcasts_into(small, big):
    """Whether every shape `small` may have broadcasts into every shape `big` may have,
    giving `big`'s shape."""
    if small.ndims is None or big.ndims is None or small.ndims > big.ndims:
        return False
    for s, b in zip(reversed(small.as_list()), reversed(big.as_list())):
        if s != 1 and (s is None or b is None or s != b):
            return False
    return True


def _group_node(group, graph):
    node = Node(group.ops[-1], group.external(graph.constants), [group.output], fn=group,
                ops=tuple(group.ops))
    return node


def head_operands(group, tensor):
    """Whether `tensor` is read by the group's first op only."""
    return tensor in group.inputs[0] and not any(tensor in ins for ins in group.inputs[1:])


def _compile(group, node, constants, context_for, device):
    names = {t: f"a{i}" for i, t in enumerate(node.inputs)}
    namespace = {"np": np}
    for ins in group.inputs:
        for t in ins:
            if t not in names and t in constants:
                names[t] = f"k{len(namespace)}"
                namespace[names[t]] = constants[t]
    lines = []
    for k, (op, ins) in enumerate(zip(group.ops, group.inputs)):
        operands = ["b" if k and t is group.ops[k - 1]._outputs[0] else names[t] for t in ins]
        out = None if k else (names[node.inputs[node.reuse]] if node.reuse is not None else "")
        lines.extend(_instructions(op, operands, out, namespace))
    args = ", ".join(names[t] for t in node.inputs)
    if any(op.type in _QUIET for op in group.ops):
        namespace["errstate"] = np.errstate
        lines = ['with errstate(all="ignore"):'] + ["    " + line for line in lines]
    lines.append("return b")
    body = "\n".join("        " + line for line in lines)
    source = (f"def fused(ctx, {args}):\n    try:\n{body}\n"
              f"    except Exception:\n        return replay({args})\n")
    namespace["replay"] = _replay(group, node.inputs, constants, context_for, device)
    exec(compile(source, f"<fused {node.op.name}>", "exec"), namespace)  # noqa: S102
    return namespace["fused"]


def _instructions(op, operands, out, namespace):
    """Source lines computing `op` into b; the first op (out not None) creates b, writing into
    the input named `out` when it is non-empty. Ufuncs are called by local names with a
    positional out, and literals are 0-d arrays of the dtype: the same values, fewer cycles."""
    kind = op.type
    dtype = op._attrs["T"].as_numpy_dtype
    one, zero = (_literal(namespace, dtype, v) for v in (1, 0))
    if kind == "Sigmoid":  # the kernel's 1 / (1 + exp(-x)), step by step
        steps = [("negative", [operands[0]]), ("exp", ["b"]), ("add", ["b", one]),
                 ("reciprocal", ["b"])]
    elif kind == "Relu":
        steps = [("maximum", [operands[0], zero])]
    elif kind == "Rsqrt":  # the kernel's 1 / sqrt(x)
        steps = [("sqrt", [operands[0]]), ("true_divide", [one, "b"])]
    else:
        steps = [(_BINARY.get(kind) or _UNARY[kind], operands)]
    lines = []
    for i, (ufunc, args) in enumerate(steps):
        namespace[ufunc] = getattr(np, ufunc)
        # maximum and minimum take out= by keyword only (a positional one is deprecated)
        keyword = "out=" if ufunc in ("maximum", "minimum") else ""
        if i == 0 and out is not None:
            target = [keyword + out] if out else []
            lines.append(f"b = {ufunc}({', '.join(args + target)})")
        else:
            lines.append(f"{ufunc}({', '.join(args)}, {keyword}b)")
    return lines


def _literal(namespace, dtype, value):
    name = f"c_{np.dtype(dtype).name}_{str(value).replace('.', '_')}"
    namespace.setdefault(name, np.array(value, dtype=dtype))
    return name


def _replay(group, args, constants, context_for, device):
    kernels = [(op, kernel_binding.kernel_def(op, device).fn, context_for(op, device), ins)
               for op, ins in zip(group.ops, group.inputs)]

    def replay(*values):
        vals = dict(constants)
        vals.update(zip(args, values))
        result = None
        for op, fn, ctx, ins in kernels:
            inputs = [vals[t] for t in ins]
            try:
                result = vals[op._outputs[0]] = fn(ctx, *inputs)
            except Exception as e:  # noqa: BLE001 - the op's own error, naming it
                raise kernel_binding.member_error(op, e, inputs) from e
        return result
    return replay
