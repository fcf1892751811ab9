"""The optimizer's view of an inline plan: the step's ops in order, rewired, never the user's
tf.Graph.

Each Node is one step of the plan: an op (its kernel context and the name errors and traces
give), the tensors it reads (after rewrites: an input may now be another op's output, a fed
tensor or a folded constant) and the tensors it writes. A fused node (fusion.py) runs several
ops with one generated function `fn`; its `ops` lists them.
"""
import bisect


class Node:
    __slots__ = ("op", "inputs", "outputs", "fn", "ops", "reuse", "launch")

    def __init__(self, op, inputs, outputs, fn=None, ops=None):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.fn = fn          # None: the op's registered kernel
        self.ops = ops or (op,)
        self.reuse = None     # the input position a fused node may write into (memory.py)
        self.launch = False   # runs on a second thread until its first reader (lanes.py)

    def __repr__(self):
        return f"<Node {self.op.name} ({self.op.type}, {len(self.ops)} ops)>"


class PlanGraph:
    """The nodes of an inline plan and what no rewrite may change.

    Attributes:
      nodes: Nodes in execution order.
      fed: fed tensors (the client's feeds and the folded constants).
      constants: {tensor: array} of the folded constants.
      fetched: fetched tensors (their ops keep their names and values: never replaced).
      targets: target ops.
    """

    def __init__(self, order, feeds, constants, fetches, targets):
        self.nodes = [Node(op, op._inputs, op._outputs) for op in order]
        self.fed = set(feeds) | set(constants)
        self.constants = constants
        self.fetched = set(fetches)
        self.targets = set(targets)
        self._subst = {}
        self.same_shape = None  # fusion.SameShapes, once fusion has run
        self._read = {t for node in self.nodes for t in node.inputs}  # before any rewrite

    def replace(self, tensor, by):
        """Makes every later reader of `tensor` read `by` (an equal value) instead."""
        self._subst[tensor] = by

    def resolve(self, tensor):
        while tensor in self._subst:
            tensor = self._subst[tensor]
        return tensor

    def rewire(self):
        """Applies the replacements to every node's inputs."""
        if self._subst:
            for node in self.nodes:
                node.inputs = [self.resolve(t) for t in node.inputs]

    def keeps(self, op):
        """Whether `op` must stay as it is: fetched, a target, or stateful."""
        return (op in self.targets or op._op_def.is_stateful
                or any(t in self.fetched for t in op._outputs))

    @staticmethod
    def writes(node):
        """Whether `node` may change state others read (an assignment, an apply, a dequeue):
        a stateful op with inputs. Rewrites never move a read across one."""
        return any(op._op_def.is_stateful and op._inputs for op in node.ops)

    def writes_between(self):
        """between(i, j): whether a node strictly between positions i and j of the current
        nodes writes state (`writes`); for passes that rewrite nodes in place (positions kept).
        """
        positions = [k for k, node in enumerate(self.nodes) if self.writes(node)]

        def between(i, j):
            n = bisect.bisect_right(positions, i)
            return n < len(positions) and positions[n] < j
        return between

    def constant(self, tensor):
        """The folded value of `tensor`, or the value of a Const op, or None."""
        value = self.constants.get(tensor)
        if value is None and tensor.op.type == "Const" and tensor not in self.fed:
            value = tensor.op._attrs.get("value")
        return value

    def read_counts(self):
        """{tensor: how many node inputs read it} over the current nodes (a rewrite may take a
        tensor over only when nothing else reads it)."""
        reads = {}
        for node in self.nodes:
            for t in node.inputs:
                reads[t] = reads.get(t, 0) + 1
        return reads

    def consumers(self):
        """{tensor: [(node index, input position), ...]} over the current nodes."""
        uses = {}
        for k, node in enumerate(self.nodes):
            for pos, t in enumerate(node.inputs):
                uses.setdefault(t, []).append((k, pos))
        return uses

    def remove_dead(self):
        """Drops nodes whose outputs were read before the rewrites and no longer are (ops that
        only ever ran for a control edge or a target stay); returns how many."""
        used = set(self.fetched)
        kept = []
        for node in reversed(self.nodes):
            if (any(t in used for t in node.outputs) or any(self.keeps(op) for op in node.ops)
                    or not any(t in self._read for t in node.outputs)):
                kept.append(node)
                used.update(node.inputs)
        removed = len(self.nodes) - len(kept)
        self.nodes = kept[::-1]
        return removed
