"""Graph, Operation and Tensor: the dataflow graph users build, as TensorFlow 1.x defines it."""
import contextlib
import os
import re
import sys
import threading

from tensorflux.framework import device as pydev
from tensorflux.framework import dtypes
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework.graph_keys import GraphKeys  # noqa: F401 (re-exported)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


def _user_location():
    """file:line of the first frame outside the tensorflux package (where the user built the op)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "<unknown>")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


class Tensor:
    """One output of an Operation: a symbolic handle to a value computed when the graph runs."""

    # Operator overloads are installed by tensorflux.ops.math_ops / array_ops (see
    # Tensor._override_operator), keeping the framework free of op definitions.
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype):
        self._op = op
        self._value_index = value_index
        self._dtype = dtypes.as_dtype(dtype)
        self._shape = tensor_shape.unknown_shape()
        self._consumers = []

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op._graph)
    device = property(lambda self: self._op.device)
    name = property(lambda self: f"{self._op.name}:{self._value_index}")

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        """The static (possibly partial) shape of this tensor."""
        return self._shape

    def set_shape(self, shape):
        """Refines the static shape; ValueError if `shape` is incompatible with it."""
        try:
            self._shape = self._shape.merge_with(tensor_shape.as_shape(shape))
        except ValueError:
            raise ValueError(f"Tensor {self.name}: cannot set shape "
                             f"{tensor_shape.as_shape(shape)}, "
                             f"incompatible with its shape {self._shape}; "
                             f"{self._op._created_at_text()}") from None

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Runs the graph in `session` (default session) and returns this tensor's value."""
        return _run_with_session(self, feed_dict, session)

    def _as_node_def_input(self):
        return self._op.name if self._value_index == 0 else self.name

    def __repr__(self):
        return (f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>")

    def __hash__(self):
        return id(self)

    def __eq__(self, other):  # TensorFlow 1.x: tensors compare by identity
        return self is other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not "
                        "None:` instead of `if t:` to test if a tensor is defined, and use "
                        "control flow ops such as tf.cond to execute subgraphs "
                        f"(tensor {self.name})")

    def __iter__(self):
        # Replaced by array_ops (unstack along dimension 0) when the ops are loaded.
        raise TypeError(f"Tensor {self.name} is not iterable")

    @staticmethod
    def _override_operator(operator, func):
        setattr(Tensor, operator, func)


class IndexedSlices:
    """A sparse slice of a dense tensor: `values[i]` replaces row `indices[i]`."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    name = property(lambda self: self._values.name)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)
    device = property(lambda self: self._values.device)

    def get_shape(self):
        return self._values.get_shape()

    def __repr__(self):
        return f"IndexedSlices(indices={self._indices}, values={self._values})"


class IndexedSlicesValue:
    """The value of an IndexedSlices fetched from a session."""

    def __init__(self, values, indices, dense_shape):
        self.values, self.indices, self.dense_shape = values, indices, dense_shape

    def __iter__(self):
        return iter((self.values, self.indices, self.dense_shape))

    def __repr__(self):
        return f"IndexedSlicesValue(values={self.values}, indices={self.indices})"


class Operation:
    """A node of the graph: an op type, its inputs, attrs, device and outputs."""

    def __init__(self, graph, op_def, name, inputs, output_types, attrs, control_inputs):
        self._graph = graph
        self._op_def = op_def
        self._name = name
        self._inputs = list(inputs)
        self._control_inputs = []
        self._attrs = attrs
        self._device = ""
        self._id = graph._next_id()
        self._created_at = _user_location()
        self._outputs = [Tensor(self, i, t) for i, t in enumerate(output_types)]
        self._control_outputs = []
        for t in self._inputs:
            t._consumers.append(self)
        self._add_control_inputs(control_inputs)

    name = property(lambda self: self._name)
    type = property(lambda self: self._op_def.name)
    op_def = property(lambda self: self._op_def)
    graph = property(lambda self: self._graph)
    device = property(lambda self: self._device)
    outputs = property(lambda self: list(self._outputs))
    control_inputs = property(lambda self: list(self._control_inputs))

    @property
    def inputs(self):
        return tuple(self._inputs)

    @property
    def traceback(self):
        """Where the op was created: [(file, line, function, None)]."""
        return [self._created_at + (None,)]

    def _created_at_text(self):
        return f"Op created at: {self._created_at[0]}:{self._created_at[1]}"

    def values(self):
        return tuple(self._outputs)

    def get_attr(self, name):
        """The value of attr `name`; ValueError listing the attrs if there is none."""
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError(f"Operation {self._name!r} ({self.type}) has no attr named {name!r}; "
                             f"it has {sorted(self._attrs)}") from None

    def _set_attr(self, name, value):
        self._attrs[name] = value

    def _set_device(self, device):
        self._device = pydev.canonical_name(device)

    def _add_control_inputs(self, ops):
        for op in ops:
            if not isinstance(op, Operation):
                raise TypeError(f"Control input must be an Operation, got {op!r}")
            if op not in self._control_inputs:
                self._control_inputs.append(op)
                op._control_outputs.append(self)

    def _add_control_input(self, op):
        self._add_control_inputs([op])

    def _update_input(self, index, tensor):
        self._inputs[index]._consumers.remove(self)
        self._inputs[index] = tensor
        tensor._consumers.append(self)

    def colocation_groups(self):
        group = self._attrs.get("_class")
        if group:
            return [g.encode() if isinstance(g, str) else g for g in group]
        return [f"loc:@{self._name}".encode()]

    @property
    def node_def(self):
        from tensorflux.framework import attr_values
        return attr_values.node_def_of(self)

    def run(self, feed_dict=None, session=None):
        """Runs this operation in `session` (default session)."""
        _run_with_session(self, feed_dict, session)

    def __repr__(self):
        return f"<tf.Operation '{self._name}' type={self.type}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def _run_with_session(fetch, feed_dict, session):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(f"Cannot evaluate {fetch.name}: no default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "eval(session=sess) / run(session=sess)")
    if session.graph is not fetch.graph:
        raise ValueError(f"Cannot use the given session to evaluate {fetch.name}: its graph is "
                         "different from the session's graph")
    return session.run(fetch, feed_dict)


class _ControlDependenciesController:
    """One `control_dependencies` block: its control inputs and the ops created inside it."""

    def __init__(self, control_inputs):
        self.control_inputs = control_inputs
        self.new_ops = set()


class Graph:
    """A TensorFlow computation: a set of Operations and the Tensors flowing between them."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ops_by_name = {}
        self._ops = []
        self._names_in_use = {}
        self._last_id = 0
        self._finalized = False
        self._collections = {}
        self._seed = None
        self._unfeedable = set()
        self._unfetchable = set()
        self._gradient_override_map = {}
        self._building_function = False
        self._thread_local = threading.local()
        self.version_info = {"producer": 24, "min_consumer": 12}

    # ---- per-thread scope stacks -------------------------------------------------------
    def _stack(self, key):
        stack = getattr(self._thread_local, key, None)
        if stack is None:
            stack = []
            setattr(self._thread_local, key, stack)
        return stack

    @property
    def _name_stack(self):
        return getattr(self._thread_local, "name_stack", "")

    @_name_stack.setter
    def _name_stack(self, value):
        self._thread_local.name_stack = value

    # ---- basic properties --------------------------------------------------------------
    def _next_id(self):
        self._last_id += 1
        return self._last_id

    @property
    def version(self):
        """Grows whenever an op is added (used to notice graph extension)."""
        return self._last_id

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = value

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        """Makes the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    def get_operations(self):
        with self._lock:
            return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Finds the Tensor or Operation that `obj` names or is; clear errors otherwise."""
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        else:
            types_str = "Operation"
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None and callable(conv):
            obj = conv()
        if isinstance(obj, str):
            return self._element_by_name(obj, allow_tensor, allow_operation, types_str)
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {types_str}.")

    def _element_by_name(self, name, allow_tensor, allow_operation, types_str):
        if ":" in name:
            if not allow_tensor:
                raise ValueError(f"Name {name!r} appears to refer to a Tensor, not a {types_str}.")
            op_name, _, index = name.rpartition(":")
            try:
                index = int(index)
            except ValueError:
                raise ValueError(f"The name {name!r} looks a like a Tensor name, but is not a "
                                 "valid one. Tensor names must be of the form "
                                 "\"<op_name>:<output_index>\".") from None
            op = self._ops_by_name.get(op_name)
            if op is None:
                raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. The "
                               f"operation, {op_name!r}, does not exist in the graph.")
            if index >= len(op._outputs) or index < 0:
                raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. The "
                               f"operation, {op_name!r}, exists but only has "
                               f"{len(op._outputs)} outputs.")
            return op._outputs[index]
        op = self._ops_by_name.get(name)
        if op is None:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
        if not allow_operation:
            hint = f" Did you mean {name + ':0'!r}?" if op._outputs else ""
            raise ValueError(f"The name {name!r} refers to an Operation, not a {types_str}."
                             + hint)
        return op

    # ---- names ---------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """`name` under the current name scope, with `_N` appended if already used."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = name
            while True:
                name = f"{base}_{count}"
                if name.lower() not in self._names_in_use:
                    break
                count += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    def get_name_scope(self):
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Opens name scope `name` (made unique); 'a/b/' re-enters exactly; None resets."""
        old = self._name_stack
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not _VALID_OP_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield "" if not new else new + "/"
        finally:
            self._name_stack = old

    # ---- collections ---------------------------------------------------------------------
    def add_to_collection(self, name, value):
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`, filtered to names matching regex `scope` if given."""
        with self._lock:
            items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [x for x in items if hasattr(x, "name") and pattern.match(x.name)]

    def get_all_collection_keys(self):
        with self._lock:
            return [k for k, v in self._collections.items() if isinstance(k, str)]

    def clear_collection(self, name):
        with self._lock:
            self._collections.pop(name, None)

    # ---- control dependencies ------------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after `control_inputs` (None clears the enclosing ones)."""
        stack = self._stack("control_stack")
        if control_inputs is None:
            saved = list(stack)
            stack.clear()
            try:
                yield
            finally:
                stack[:] = saved
            return
        ops = []
        for c in control_inputs:
            if isinstance(c, IndexedSlices):
                c = c.op
            c = self.as_graph_element(c)
            ops.append(c.op if isinstance(c, Tensor) else c)
        stack.append(_ControlDependenciesController(ops))
        try:
            yield
        finally:
            stack.pop()

    def _control_inputs_for(self, input_ops):
        result = []
        for controller in self._stack("control_stack"):
            if any(op in controller.new_ops for op in input_ops):
                continue  # an input already runs after this block's dependencies
            for c in controller.control_inputs:
                if c not in result and c not in input_ops:
                    result.append(c)
        return result

    # ---- devices and colocation ------------------------------------------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Places ops created inside on a device (string, DeviceSpec or function of the op)."""
        stack = self._stack("device_stack")
        if device_name_or_function is None:
            entry = None
        elif callable(device_name_or_function) and not isinstance(
                device_name_or_function, (str, pydev.DeviceSpec)):
            entry = device_name_or_function
        else:
            entry = pydev.merge_device(device_name_or_function)
        stack.append(entry)
        try:
            yield
        finally:
            stack.pop()

    def _apply_device_functions(self, op):
        # As TensorFlow: the innermost function first, each seeing the device the inner ones
        # chose (a string scope keeps the fields already set, so the innermost wins), up to
        # the nearest None (tf.device(None) or colocate_with). A function such as
        # replica_device_setter thus sees the op's own inner device spec and merges with it.
        for fn in reversed(self._stack("device_stack")):
            if fn is None:
                break
            result = fn(op)
            if result is not None:
                op._set_device(result.to_string() if isinstance(result, pydev.DeviceSpec)
                               else result)

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Ops created inside are placed with `op` (same device, `_class` colocation attr)."""
        stack = self._stack("colocation_stack")
        if op is None:
            saved = list(stack)
            stack.clear()
            try:
                yield
            finally:
                stack[:] = saved
            return
        if isinstance(op, (Tensor, IndexedSlices)) or hasattr(op, "_as_graph_element"):
            op = op.op if not hasattr(op, "_as_graph_element") else op._as_graph_element().op
        saved = list(stack)
        if ignore_existing:
            stack.clear()
        stack.append(op)
        # Device scopes inside colocate_with are ignored, as in TensorFlow.
        device_stack = self._stack("device_stack")
        device_stack.append(None)
        try:
            yield
        finally:
            device_stack.pop()
            stack[:] = saved

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        """Within the block, ops of type K use the gradient registered under op_type_map[K]."""
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    # ---- feeding / fetching --------------------------------------------------------------
    def prevent_feeding(self, tensor):
        self._unfeedable.add(tensor)

    def is_feedable(self, tensor):
        return tensor not in self._unfeedable

    def prevent_fetching(self, op):
        self._unfetchable.add(op)

    def is_fetchable(self, tensor_or_op):
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # ---- default graph -------------------------------------------------------------------
    def as_default(self):
        """Context manager making this the default graph (per thread)."""
        return _default_graph_stack.get_controller(self)

    # ---- op creation ---------------------------------------------------------------------
    def create_op(self, op_type, inputs, dtypes=None, input_types=None, name=None, attrs=None,
                  op_def=None, compute_shapes=True, compute_device=True):
        """Adds an op: validates, names it, adds control deps, infers shapes, places it."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        op_def = op_def or registry.get_op_def(op_type)
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"Op {op_type}: input {i} must be a Tensor, got {t!r}")
            if t.graph is not self:
                raise ValueError(f"Op {op_type}: input {t.name} is from a different graph")
        attrs = dict(attrs or {})
        if dtypes is None:
            raise TypeError(f"Op {op_type}: output dtypes must be given")
        with self._lock:
            name = self._op_name(op_type, name)
            override = self._gradient_override_map.get(op_type)
            if override is not None:
                attrs["_gradient_op_type"] = override
            colocation = self._stack("colocation_stack")
            if colocation:
                attrs["_class"] = [f"loc:@{colocation[-1].colocation_groups()[0].decode()[5:]}"]
            input_ops = {t.op for t in inputs}
            op = Operation(self, op_def, name, inputs, dtypes, attrs,
                           self._control_inputs_for(input_ops))
            if compute_shapes:
                _run_shape_fn(op)
            if compute_device:
                self._apply_device_functions(op)
                if colocation:
                    op._set_device(colocation[-1].device)
            self._add_op(op)
        return op

    def _op_name(self, op_type, name):
        if name is None:
            name = op_type
        elif name.endswith("/"):
            name = name[:-1]  # an explicit scope name: use as is
            if name in self._ops_by_name:
                raise ValueError(f"Duplicate node name in graph: {name!r}")
            return name
        if not _VALID_OP_NAME.match(name):
            raise ValueError(f"'{name}' is not a valid node name")
        return self.unique_name(name)

    def _add_op(self, op):
        if op.name in self._ops_by_name:
            raise ValueError(f"Duplicate node name in graph: {op.name!r}")
        self._ops_by_name[op.name] = op
        self._ops.append(op)
        for controller in self._stack("control_stack"):
            controller.new_ops.add(op)

    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as a GraphDef proto."""
        from tensorflux.framework import attr_values
        return attr_values.graph_to_graph_def(self, from_version, add_shapes)

    @property
    def graph_def_versions(self):
        from tensorflux.framework import protos
        return protos.VersionDef(**self.version_info)

    def __enter__(self):  # pragma: no cover - TF graphs are not context managers themselves
        raise AttributeError("Use `with graph.as_default():`")


def _input_shapes_text(op):
    texts = []
    for t in op._inputs:
        shape = t.get_shape()
        dims = None if shape.ndims is None else shape.as_list()
        texts.append("?" if dims is None else
                     "[" + ",".join("?" if d is None else str(d) for d in dims) + "]")
    return ", ".join(texts)


def _run_shape_fn(op):
    """Sets each output's static shape from the op's shape function; errors name the op."""
    shape_fn = op._op_def.shape_fn
    if shape_fn is None:
        return
    try:
        shapes = shape_fn(op)
    except (ValueError, TypeError) as e:
        # TF's layout: the shape function's message, then "for 'name' (op: 'Type') with input
        # shapes: [2], [2]." (shapes as TF prints them), then where the op was created.
        raise type(e)(f"{e} for '{op.name}' (op: '{op.type}') with input "
                      f"shapes: {_input_shapes_text(op)}. {op._created_at_text()}") from None
    if isinstance(shapes, tensor_shape.TensorShape) or shapes is None:
        shapes = [shapes]
    if len(shapes) != len(op._outputs):
        raise RuntimeError(f"Shape function of {op.type} returned {len(shapes)} shapes for "
                           f"{len(op._outputs)} outputs")
    for t, s in zip(op._outputs, shapes):
        t._shape = tensor_shape.unknown_shape() if s is None else tensor_shape.as_shape(s)


# ---- default graph and session stacks ------------------------------------------------------
class _DefaultStack(threading.local):
    def __init__(self):
        self.stack = []

    def get_default(self):
        return self.stack[-1] if self.stack else None

    @contextlib.contextmanager
    def get_controller(self, default):
        self.stack.append(default)
        try:
            yield default
        finally:
            if self.stack and self.stack[-1] is default:
                self.stack.pop()
            elif default in self.stack:
                self.stack.remove(default)


class _DefaultGraphStack(_DefaultStack):
    _global_default = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if _DefaultGraphStack._global_default is None:
            _DefaultGraphStack._global_default = Graph()
        return _DefaultGraphStack._global_default

    def reset(self):
        if self.stack:
            raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                                 "If you need a cleared graph, exit the nesting and create a "
                                 "new graph.")
        _DefaultGraphStack._global_default = None


_default_graph_stack = _DefaultGraphStack()
_default_session_stack = _DefaultStack()


def get_default_graph():
    """The graph new ops go to in this thread."""
    return _default_graph_stack.get_default()


def reset_default_graph():
    """Clears the default graph (outside any `as_default` block)."""
    _default_graph_stack.reset()


def get_default_session():
    """The innermost `with sess.as_default():` session of this thread, or None."""
    return _default_session_stack.get_default()


def default_session(session):
    return _default_session_stack.get_controller(session)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def _graph_of(values):
    """The graph that the graph elements among `values` belong to (default if none); a
    function body being built (it captures outer tensors: framework/function.py)."""
    default = get_default_graph()
    if default._building_function:
        return default
    graph = None
    for v in values or ():
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            if graph is not None and g is not graph:
                raise ValueError(f"{v!r} must be from the same graph as the other values")
            graph = g
    return graph or default


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """tf.name_scope(name, default_name=None, values=None): opens a name scope."""
    if name is None and default_name is not None:
        name = default_name
    graph = _graph_of(values)
    with graph.as_default(), graph.name_scope(name) as scope:
        yield scope


def op_scope(values, name, default_name=None):
    """TensorFlow 0.9's argument order for name_scope."""
    return name_scope(name, default_name, values)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


# Converting values to tensors lives in tensor_conversion.py (re-exported here, where callers
# have always found it).
from tensorflux.framework.tensor_conversion import (  # noqa: E402,F401
    convert_n_to_tensor, convert_to_tensor, convert_to_tensor_or_indexed_slices,
    register_tensor_conversion_function)
