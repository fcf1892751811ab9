"""Placement: assigns every op that runs to one device of the session.

Rules, as TensorFlow's placer applies them:
  * an op may only go to a device type it has a kernel for (op_def.kernels);
  * the user's constraint (`op.device`, possibly partial such as "/cpu:*" or "/job:localhost")
    restricts the devices further;
  * colocation groups go to one device: ops naming each other in their `_class` attr
    ("loc:@name", set by `tf.colocate_with`), ops taking a reference output of another op
    through a Ref(T) input (a variable with its Assign ops) and ops taking a resource handle
    (a queue with its enqueue and dequeue ops), merged with union-find;
  * `allow_soft_placement` falls back to a feasible device instead of failing;
  * `log_device_placement` prints each decision to stderr.
An op keeps its device for the life of the session, so every plan agrees on where state lives.
"""
import sys

from tensorflux.framework import device as pydev
from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.platform import tf_logging as logging


class _UnionFind:
    def __init__(self):
        self.parent = {}
        self.members = set()

    def find(self, x):
        parent = self.parent
        root = x
        while parent.get(root, root) is not root:
            root = parent[root]
        while x is not root:  # path compression
            parent[x], x = root, parent.get(x, x)
        return root

    def union(self, a, b):
        self.members.add(a)
        self.members.add(b)
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            # The op created first is the root: groups are described by their oldest member.
            if rb._id < ra._id:
                ra, rb = rb, ra
            self.parent[rb] = ra


def colocation_groups(graph):
    """{op: root op} for every op of `graph` whose group has more than one member."""
    uf = _UnionFind()
    by_name = graph._ops_by_name
    for op in graph.get_operations():
        for group in op._attrs.get("_class") or ():
            group = group.decode() if isinstance(group, bytes) else group
            if group.startswith("loc:@"):
                other = by_name.get(group[5:])
                if other is not None and other is not op:
                    uf.union(op, other)
        for t in op._inputs:
            if t.dtype.base_dtype == dtypes.resource:  # a handle never leaves its device
                uf.union(op, t.op)
        if any(t.dtype._is_ref_dtype for t in op._inputs):
            for t, is_ref in zip(op._inputs, registry.input_ref_flags(op)):
                if is_ref and t.dtype._is_ref_dtype:
                    uf.union(op, t.op)
    return {op: uf.find(op) for op in uf.members}


class Placer:
    """Places ops on a DeviceMgr's devices; remembers every decision it made."""

    def __init__(self, device_mgr, allow_soft_placement=False, log_device_placement=False,
                 log_stream=None):
        self.device_mgr = device_mgr
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        self._log_stream = log_stream
        self.assignment = {}  # op -> LocalDevice, for the life of the session
        self._groups = {}
        self._members = {}
        self._groups_version = None
        self._single = device_mgr.devices[0] if len(device_mgr) == 1 else None

    def place(self, graph, ops):
        """{op: LocalDevice} for `ops` (placing the ones not placed yet and their groups)."""
        assignment = self.assignment
        todo = [op for op in ops if op not in assignment]
        if todo:
            self._refresh_groups(graph)
            for op in todo:
                if op not in assignment:
                    self._place_group(self._groups.get(op, op))
        return {op: assignment[op] for op in ops}

    def _refresh_groups(self, graph):
        if self._groups_version == graph.version:
            return
        self._groups = colocation_groups(graph)
        members = {}
        for op, root in self._groups.items():
            members.setdefault(root, []).append(op)
        for group in members.values():
            group.sort(key=lambda o: o._id)
        self._members = members
        self._groups_version = graph.version

    def _place_group(self, root):
        members = self._members.get(root, [root])
        placed = [self.assignment[m] for m in members if m in self.assignment]
        device = placed[0] if placed else self._choose_device(members)
        for op in members:
            if op not in self.assignment:
                self.assignment[op] = device
                if self.log_device_placement:
                    self._log(op, device)

    def _log(self, op, device):
        stream = self._log_stream or sys.stderr
        stream.write(f"{op.name}: ({op.type}): {device.name}\n")

    # ---- choosing a device for one group -------------------------------------------------------
    def _choose_device(self, members):
        types = _supported_types(members)
        spec, conflict = self._merged_constraint(members)
        if conflict is not None and not self.allow_soft_placement:
            raise conflict
        if spec is None and self._single is not None and self._single.device_type in types:
            return self._single
        devices = self.device_mgr.devices
        candidates = [d for d in devices if d.device_type in types and
                      (spec is None or spec.is_satisfied_by(d.spec))]
        if candidates:
            return candidates[0]
        if self.allow_soft_placement:
            fallback = self._soft_candidates(spec, types)
            if fallback:
                return fallback[0]
        raise self._unsatisfiable(members, spec, types)

    def _merged_constraint(self, members):
        """The merged DeviceSpec of the members' constraints (None if none), and a conflict.

        As in TensorFlow, an op taking a reference or a resource handle runs where that state
        lives: its own conflicting device request is ignored (and logged), as when
        SyncReplicasOptimizer assigns the worker's local step under the ps's device scope.
        Other conflicts are errors."""
        spec, source, conflict = None, None, None
        for op in sorted(members, key=_consumes_state):
            if not op.device:
                continue
            own = pydev.DeviceSpec.from_string(op.device)
            if spec is None:
                spec, source = own, op
                continue
            field = spec.conflicts_with(own)
            if field is not None:
                if _consumes_state(op):
                    logging.info("Ignoring device specification %s for node '%s' because the "
                                 "input edge from '%s' is a reference connection and already "
                                 "has a device field set to %s", op.device, op.name,
                                 source.name, source.device)
                elif conflict is None:
                    conflict = errors.InvalidArgumentError(
                        None, op, f"Cannot colocate nodes '{source.name}' and '{op.name}': "
                                  f"conflicting device specifications ({field}): "
                                  f"'{source.name}' asks for '{source.device}' and '{op.name}' "
                                  f"for '{op.device}'. {op._created_at_text()}")
                continue
            spec = spec.copy().merge_from(own)
        return spec, conflict

    def _soft_candidates(self, spec, types):
        """Feasible devices for soft placement: same device type if possible, else any."""
        feasible = [d for d in self.device_mgr.devices if d.device_type in types]
        if spec is not None and spec.device_type is not None:
            same_type = [d for d in feasible if d.device_type == spec.device_type]
            if same_type:
                return same_type
        return feasible

    def _unsatisfiable(self, members, spec, types):
        op = next((m for m in members if m.device), members[0])
        existing = ", ".join(self.device_mgr.names())
        group = ""
        if len(members) > 1:
            group = (f" (colocated with {', '.join(repr(m.name) for m in members if m is not op)})")
        if spec is not None and self.device_mgr.matching(spec):
            reason = (f"no supported kernel for {spec.device_type or 'the matching'} devices is "
                      f"available; kernels exist for {sorted(types) or 'no device type'}")
        elif spec is not None:
            reason = "no devices matching that specification are registered in this process"
        else:
            reason = (f"no device of a type with a kernel ({sorted(types) or 'none'}) exists "
                      "in this process")
        asked = spec.to_string() if spec is not None else "(any device)"
        return errors.InvalidArgumentError(
            None, op, f"Cannot assign a device for operation '{op.name}' ({op.type}){group}: "
                      f"Could not satisfy explicit device specification '{asked}' because "
                      f"{reason}; available devices: {existing}. Set "
                      f"allow_soft_placement=True in ConfigProto to place it on a device that "
                      f"exists. {op._created_at_text()}")


def _consumes_state(op):
    """Whether `op` takes a reference or a resource handle as an input."""
    return any(t.dtype._is_ref_dtype or t.dtype.base_dtype == dtypes.resource
               for t in op._inputs)


def _supported_types(members):
    types = None
    for op in members:
        kernels = set(op._op_def.kernels)
        types = kernels if types is None else types & kernels
    return types or set()
