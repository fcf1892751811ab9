"""Partitioning: one subgraph per device, cross-device edges replaced by _Send/_Recv pairs.

Given the ops of a step in topological order and their devices:
  * a data edge from device A to device B becomes a _Send on A and a _Recv on B, one pair per
    (tensor, destination device) however many ops on B consume the tensor;
  * a control edge from A to B becomes, as in TensorFlow, a dummy Const on A (running after the
    source op), a _Send of it, and a _Recv on B that the destination op depends on.
The _Send/_Recv/Const ops live in a private scratch graph: partitioning never changes the
user's graph. Partition.to_graph_def() shows a partition as TensorFlow would (run a step with
RunOptions(output_partition_graphs=True) to get them in RunMetadata.partition_graphs).
"""
import numpy as np

from tensorflux.framework import attr_values
from tensorflux.framework import dtypes
from tensorflux.framework import function
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import registry
from tensorflux.ops import sendrecv_ops  # noqa: F401  (registers _Send/_Recv)


class PartitionNode:
    """One node of a partition: an op, the tensors it reads and the ops it waits for."""

    __slots__ = ("op", "inputs", "control_inputs")

    def __init__(self, op, inputs, control_inputs):
        self.op = op
        self.inputs = inputs
        self.control_inputs = control_inputs

    def __repr__(self):
        return f"<PartitionNode {self.op.name} ({self.op.type})>"


class Partition:
    """The subgraph of one device, its nodes in a topological order."""

    def __init__(self, device):
        self.device = device
        self.nodes = []

    @property
    def sends(self):
        return [n.op for n in self.nodes if n.op.type == "_Send"]

    @property
    def recvs(self):
        return [n.op for n in self.nodes if n.op.type == "_Recv"]

    def to_graph_def(self):
        """This partition as a GraphDef (inputs rewired to the _Recv nodes, devices filled)."""
        graph_def = protos.GraphDef()
        for node in self.nodes:
            node_def = graph_def.node.add()
            node_def.CopyFrom(attr_values.node_def_of(node.op))
            del node_def.input[:]
            node_def.input.extend(t._as_node_def_input() for t in node.inputs)
            node_def.input.extend("^" + c.name for c in node.control_inputs)
            node_def.device = self.device.name
        function.write_library_of([node.op for node in self.nodes], graph_def.library)
        return graph_def

    def __repr__(self):
        return f"<Partition {self.device.name}: {len(self.nodes)} nodes>"


class _Partitioner:
    def __init__(self, assignment, fed):
        self.assignment = assignment
        self.fed = fed
        self.scratch = ops.Graph()
        self.partitions = {}
        self._recv_of_tensor = {}   # (tensor, dst device name) -> _Recv output tensor
        self._recv_of_control = {}  # (src op, dst device name) -> _Recv op

    def partition_of(self, device):
        part = self.partitions.get(device.name)
        if part is None:
            part = self.partitions[device.name] = Partition(device)
        return part

    def add(self, op):
        device = self.assignment[op]
        inputs = [t if t in self.fed or self.assignment[t.op] is device
                  else self._recv_tensor(t, device) for t in op._inputs]
        controls = [c if self.assignment[c] is device else self._recv_control(c, device)
                    for c in op._control_inputs if c in self.assignment]
        self.partition_of(device).nodes.append(PartitionNode(op, inputs, controls))

    def _new_op(self, op_type, name, output_types, attrs):
        return ops.Operation(self.scratch, registry.get_op_def(op_type), name, [], output_types,
                             attrs, [])

    def _transfer_attrs(self, tensor_name, src, dst):
        return {"tensor_name": tensor_name, "send_device": src.name,
                "send_device_incarnation": src.incarnation, "recv_device": dst.name,
                "client_terminated": False}

    def _recv_tensor(self, tensor, dst):
        key = (tensor, dst.name)
        recv = self._recv_of_tensor.get(key)
        if recv is not None:
            return recv
        src = self.assignment[tensor.op]
        dtype = tensor.dtype.base_dtype
        attrs = self._transfer_attrs(tensor.name, src, dst)
        suffix = f"{tensor.op.name}_{tensor.value_index}_{_short(src)}_to_{_short(dst)}"
        send = self._new_op("_Send", f"_send_{suffix}", [], dict(attrs, T=dtype))
        self.partition_of(src).nodes.append(PartitionNode(send, [tensor], []))
        recv_op = self._new_op("_Recv", f"_recv_{suffix}", [dtype], dict(attrs, tensor_type=dtype))
        recv = recv_op._outputs[0]
        recv._shape = tensor.get_shape()
        self.partition_of(dst).nodes.append(PartitionNode(recv_op, [], []))
        self._recv_of_tensor[key] = recv
        return recv

    def _recv_control(self, src_op, dst):
        key = (src_op, dst.name)
        recv = self._recv_of_control.get(key)
        if recv is not None:
            return recv
        src = self.assignment[src_op]
        suffix = f"{src_op.name}_{_short(src)}_to_{_short(dst)}"
        dummy = self._new_op("Const", f"_ctrl_{suffix}", [dtypes.float32],
                             {"value": np.zeros((), np.float32), "dtype": dtypes.float32})
        src_part = self.partition_of(src)
        src_part.nodes.append(PartitionNode(dummy, [], [src_op]))
        attrs = self._transfer_attrs(f"^{src_op.name}", src, dst)
        send = self._new_op("_Send", f"_send_ctrl_{suffix}", [], dict(attrs, T=dtypes.float32))
        src_part.nodes.append(PartitionNode(send, [dummy._outputs[0]], []))
        recv = self._new_op("_Recv", f"_recv_ctrl_{suffix}", [dtypes.float32],
                            dict(attrs, tensor_type=dtypes.float32))
        self.partition_of(dst).nodes.append(PartitionNode(recv, [], []))
        self._recv_of_control[key] = recv
        return recv


def _short(device):
    """CPU1 for a device of this process; ps0_CPU1 for one of task 0 of job ps elsewhere (so
    transfers to two tasks never share a name)."""
    spec = device.spec
    if spec.job in (None, "localhost"):
        return f"{device.device_type}{device.index}"
    return f"{spec.job}{spec.task or 0}_{device.device_type}{device.index}"


def send_name_of(recv_op):
    """The name of the _Send node feeding a _Recv the partitioner made (for traces)."""
    name = recv_op.name
    return "_send_" + name[len("_recv_"):] if name.startswith("_recv_") else name


def partition(order, assignment, fed=frozenset(), device_order=None):
    """Splits `order` (ops in a topological order) by device.

    Args:
      order: the ops of the step, each after its data and control inputs.
      assignment: {op: LocalDevice}.
      fed: tensors whose values the client feeds (they never cross devices: each partition
        reads the fed value directly).
      device_order: devices in the order partitions should be listed (default: first use).

    Returns:
      A list of Partitions, each with its nodes in a topological order.
    """
    partitioner = _Partitioner(assignment, fed)
    for op in order:
        partitioner.add(op)
    parts = list(partitioner.partitions.values())
    if device_order is not None:
        rank = {d.name: i for i, d in enumerate(device_order)}
        parts.sort(key=lambda p: rank.get(p.device.name, len(rank)))
    return parts
