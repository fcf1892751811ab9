"""tf.Variable (TF 1.x reference variables) and the functions over variable collections."""
from tensorflux.framework import dtypes
from tensorflux.framework import meta_graph
from tensorflux.framework import ops
from tensorflux.framework import tensor_shape
from tensorflux.ops import array_ops
from tensorflux.ops import control_flow_ops
from tensorflux.ops import state_ops

__all__ = [
    "Variable",
    "global_variables",
    "all_variables",
    "local_variables",
    "trainable_variables",
    "model_variables",
    "moving_average_variables",
    "variables_initializer",
    "initialize_variables",
    "global_variables_initializer",
    "initialize_all_variables",
    "local_variables_initializer",
    "initialize_local_variables",
    "is_variable_initialized",
    "report_uninitialized_variables",
    "assert_variables_initialized",
]


class Variable:
    """A tensor whose value persists across Session.run calls and can be updated in place.

    Ops: `name` (VariableV2), `name/Assign` (initializer), `name/read` (Identity snapshot).
    """

    class SaveSliceInfo:
        """Where a shard sits in its partitioned variable: the Saver writes it as the slice
        `spec` of the checkpoint tensor `full_name`."""

        def __init__(self, full_name=None, full_shape=None, var_offset=None, var_shape=None,
                     save_slice_info_def=None, import_scope=None):
            if save_slice_info_def is not None:
                full_name = save_slice_info_def.full_name
                if import_scope:
                    full_name = f"{import_scope}/{full_name}"
                full_shape = list(save_slice_info_def.full_shape)
                var_offset = list(save_slice_info_def.var_offset)
                var_shape = list(save_slice_info_def.var_shape)
            self.full_name = full_name
            self.full_shape = [int(d) for d in full_shape]
            self.var_offset = [int(d) for d in var_offset]
            self.var_shape = [int(d) for d in var_shape]

        @property
        def spec(self):
            """"d0 d1 ... offset,length:offset,length": the shape_and_slices entry."""
            full = " ".join(str(d) for d in self.full_shape)
            parts = ":".join(f"{o},{n}" for o, n in zip(self.var_offset, self.var_shape))
            return f"{full} {parts}"

        def to_proto(self, export_scope=None):
            """This info as a SaveSliceInfoDef (None if full_name is outside export_scope)."""
            name = self.full_name
            if export_scope:
                if not name.startswith(export_scope.rstrip("/") + "/"):
                    return None
                name = name[len(export_scope.rstrip("/")) + 1:]
            return meta_graph.SaveSliceInfoDef(full_name=name, full_shape=self.full_shape,
                                               var_offset=self.var_offset,
                                               var_shape=self.var_shape)

        def __repr__(self):
            return f"<SaveSliceInfo {self.full_name} {self.spec}>"

    _save_slice_info = None

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None):
        if variable_def is not None:
            self._init_from_def(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [ops.GraphKeys.GLOBAL_VARIABLES]
        if trainable and ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [ops.GraphKeys.TRAINABLE_VARIABLES]
        init_values = [] if callable(initial_value) else [initial_value]
        # Like TF, a variable (and its initializer) lives outside any cond or while_loop
        # it is created in: initializers run once, not per iteration.
        with ops.control_dependencies(None), control_flow_ops.in_context(None), \
                ops.name_scope(name, "Variable", init_values) as scope:
            with ops.name_scope("Initializer"):
                value = initial_value() if callable(initial_value) else initial_value
                self._initial_value = ops.convert_to_tensor(value, name="initial_value",
                                                            dtype=dtype)
            shape = (self._initial_value.get_shape() if validate_shape
                     else tensor_shape.unknown_shape())
            self._variable = state_ops.variable_op(shape, self._initial_value.dtype.base_dtype,
                                                   name=scope)
            with ops.colocate_with(self._variable.op):
                self._initializer_op = state_ops.assign(
                    self._variable, self._initial_value, validate_shape=validate_shape).op
            with ops.colocate_with(self._variable.op):
                self._snapshot = array_ops.identity(self._variable, name="read")
        self._caching_device = caching_device
        self._trainable = trainable
        ops.add_to_collections(collections, self)

    def _init_from_def(self, variable_def, import_scope):
        graph = ops.get_default_graph()

        def scoped(name):
            return f"{import_scope}/{name}" if import_scope else name
        self._variable = graph.as_graph_element(scoped(variable_def.variable_name))
        self._initializer_op = graph.as_graph_element(scoped(variable_def.initializer_name))
        self._snapshot = graph.as_graph_element(scoped(variable_def.snapshot_name))
        self._initial_value = None
        if variable_def.initial_value_name:
            self._initial_value = graph.as_graph_element(scoped(variable_def.initial_value_name))
        self._caching_device = None
        self._trainable = getattr(variable_def, "trainable", True)
        if variable_def.HasField("save_slice_info_def"):
            self._save_slice_info = Variable.SaveSliceInfo(
                save_slice_info_def=variable_def.save_slice_info_def, import_scope=import_scope)

    # ---- graph handles -----------------------------------------------------------------------
    name = property(lambda self: self._variable.name)
    op = property(lambda self: self._variable.op)
    graph = property(lambda self: self._variable.graph)
    device = property(lambda self: self._variable.device)
    dtype = property(lambda self: self._variable.dtype)
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)
    shape = property(lambda self: self._variable.get_shape())

    def get_shape(self):
        return self._variable.get_shape()

    def value(self):
        """The snapshot `name/read` of the variable's value."""
        return self._snapshot

    def read_value(self):
        return array_ops.identity(self._variable, name="read")

    def _ref(self):
        return self._variable

    def ref(self):
        """The variable's reference tensor (TF 0.9's public name for `_ref`)."""
        return self._variable

    def _as_graph_element(self):
        return self._variable

    def _set_save_slice_info(self, save_slice_info):
        """Marks this variable as one shard of a partitioned variable (for the Saver)."""
        self._save_slice_info = save_slice_info

    def _get_save_slice_info(self):
        return self._save_slice_info

    def set_shape(self, shape):
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    def initialized_value(self):
        """The variable's value after running its initializer (for initializing others)."""
        with ops.control_dependencies(None), ops.control_dependencies([self._initializer_op]):
            with ops.colocate_with(self._variable.op):
                return array_ops.identity(self._variable)

    # ---- updates -------------------------------------------------------------------------
    def assign(self, value, use_locking=False):
        return state_ops.assign(self._variable, value, use_locking=use_locking)

    def assign_add(self, delta, use_locking=False):
        return state_ops.assign_add(self._variable, delta, use_locking=use_locking)

    def assign_sub(self, delta, use_locking=False):
        return state_ops.assign_sub(self._variable, delta, use_locking=use_locking)

    def scatter_sub(self, sparse_delta, use_locking=False):
        return state_ops.scatter_sub(self._variable, sparse_delta.indices, sparse_delta.values,
                                     use_locking=use_locking)

    def count_up_to(self, limit):
        return state_ops.count_up_to(self._variable, limit=limit)

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        session = session or ops.get_default_session()
        session.run(self._initializer_op, {self._initial_value: value})

    def to_proto(self, export_scope=None):
        """This variable as a VariableDef proto (names relative to `export_scope`)."""
        return meta_graph.variable_to_proto(self, export_scope)

    @staticmethod
    def from_proto(variable_def, import_scope=None):
        return Variable(variable_def=variable_def, import_scope=import_scope)

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.get_shape()} dtype={self.dtype.name}>"

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    # No __bool__: a TF 0.9-1.x Variable is truthy like any object (only Tensor refuses), and
    # Keras 1.x relies on it (`if b:` for an optional bias Variable).

    @classmethod
    def _overload_all_operators(cls):
        for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                     "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
                     "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
                     "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__",
                     "__or__", "__ror__", "__xor__", "__rxor__", "__invert__", "__getitem__"):
            cls._overload_operator(name)

    @classmethod
    def _overload_operator(cls, name):
        def method(self, *args):
            tensor_method = getattr(ops.Tensor, name, None)
            if tensor_method is None:
                return NotImplemented
            return tensor_method(self._snapshot, *args)
        setattr(cls, name, method)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


Variable._overload_all_operators()


def _variable_to_tensor(v, dtype=None, name=None, as_ref=False):
    tensor = v._ref() if as_ref else v.value()
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(tensor.dtype):
        raise ValueError(f"Incompatible type conversion requested to type {dtype.name} for "
                         f"variable of type {tensor.dtype.name} ({v.name})")
    return tensor


ops.register_tensor_conversion_function(Variable, _variable_to_tensor, 0)

for _key in meta_graph.VARIABLE_COLLECTIONS:
    meta_graph.register_proto_function(
        _key, meta_graph.VariableDef, meta_graph.variable_to_proto,
        lambda proto, scope=None: Variable.from_proto(proto, import_scope=scope))


# ---- collections and initializers -------------------------------------------------------------
def global_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables():
    return global_variables()


def local_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """An op running the initializers of `var_list`."""
    if var_list:
        return control_flow_ops.group(*[v.initializer for v in var_list], name=name)
    return control_flow_ops.no_op(name=name)


def initialize_variables(var_list, name="init"):
    return variables_initializer(var_list, name)


def global_variables_initializer():
    return variables_initializer(global_variables())


def initialize_all_variables():
    return global_variables_initializer()


def local_variables_initializer():
    return variables_initializer(local_variables())


def initialize_local_variables():
    return local_variables_initializer()


def is_variable_initialized(variable):
    """A bool scalar tensor: whether `variable` has been initialized."""
    return state_ops.is_variable_initialized(variable)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor: the op names of the variables in `var_list` (default: global and
    local variables) that are not initialized yet."""
    from tensorflux.ops import constant_op
    from tensorflux.ops import math_ops
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    with ops.name_scope(name) as scope:
        if not var_list:
            return constant_op.constant([], dtype=dtypes.string, name=scope)
        initialized = []
        for v in var_list:
            with ops.colocate_with(v.op):  # reads the buffer where it lives, whatever the scope
                initialized.append(state_ops.is_variable_initialized(v))
        mask = math_ops.logical_not(array_ops.stack(initialized))
        names = constant_op.constant([v.op.name for v in var_list])
        return array_ops.boolean_mask(names, mask, name=scope)


def assert_variables_initialized(var_list=None):
    """A tensor whose evaluation raises FailedPreconditionError (naming the variable) if any
    variable in `var_list` (default: all global and local variables) is uninitialized."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    if not var_list:
        return None
    ranks = []
    for v in var_list:
        with ops.colocate_with(v.op):
            ranks.append(array_ops.rank(v._ref() if isinstance(v, Variable) else v))
    return ranks[0] if len(ranks) == 1 else array_ops.stack(ranks)
