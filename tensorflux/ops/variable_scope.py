"""Variable scopes and tf.get_variable: variables shared by name, per graph.

Each graph keeps a variable store (the variables get_variable made, by full name) and the
current VariableScope, in graph collections under non-string keys (so they never show up in
exported collections). Opening a variable scope also opens a name scope, as in TF 1.x.
"""
import contextlib
import inspect
import traceback

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import tensor_shape

__all__ = [
    "VariableScope",
    "get_variable",
    "get_local_variable",
    "get_variable_scope",
    "variable_scope",
    "variable_op_scope",
    "no_regularizer",
]

_STORE_KEY = ("__variable_store",)
_SCOPE_KEY = ("__varscope",)


def no_regularizer(_):
    """Use as `regularizer=` to turn off a scope's regularizer for one variable."""
    return None


class _VariableStore:
    """The variables made by get_variable in one graph, and how often each scope was opened."""

    def __init__(self):
        self.vars = {}
        self.partitioned_vars = {}
        self.created_at = {}
        self.scope_counts = {}

    def get_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=True, collections=None,
                     validate_shape=True, partitioner=None):
        is_scalar = isinstance(shape, (list, tuple)) and not shape
        shape = tensor_shape.as_shape(shape) if shape is not None else None
        dtype = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
        if partitioner is not None and not is_scalar:  # scalars are never split, as in TF
            if not callable(partitioner):
                raise ValueError(f"Partitioner must be callable, but received: {partitioner}")
            return self._get_partitioned(name, shape, dtype, initializer, regularizer, reuse,
                                         trainable, collections, validate_shape, partitioner)
        if name in self.partitioned_vars:
            raise ValueError(f"A partitioner was not provided, but a partitioned version of the "
                             f"variable was found: {name}. Perhaps a variable of the same name "
                             f"was already created with partitioning?")
        if name in self.vars:
            return self._existing(name, shape, dtype, reuse)
        if reuse:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=None in VarScope?")
        return self._create(name, shape, dtype, initializer, regularizer, trainable,
                            collections, validate_shape)

    def _existing(self, name, shape, dtype, reuse):
        if not reuse:
            raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set "
                             f"reuse=True in VarScope? Originally defined at:\n\n"
                             f"{self.created_at[name]}")
        found = self.vars[name]
        if shape is not None and not shape.is_compatible_with(found.get_shape()):
            raise ValueError(f"Trying to share variable {name}, but specified shape {shape} "
                             f"and found shape {found.get_shape()}.")
        if dtype is not None and dtype != found.dtype.base_dtype:
            raise ValueError(f"Trying to share variable {name}, but specified dtype "
                             f"{dtype.name} and found dtype {found.dtype.base_dtype.name}.")
        return found

    def _get_partitioned(self, name, shape, dtype, initializer, regularizer, reuse, trainable,
                         collections, validate_shape, partitioner):
        from tensorflux.ops import partitioned_variables as pv
        from tensorflux.ops import variables
        if name in self.vars:
            raise ValueError(f"A partitioner was provided, but an unpartitioned version of the "
                             f"variable was found: {name}. Perhaps a variable of the same name "
                             f"was already created without partitioning?")
        if isinstance(initializer, ops.Tensor) and shape is None:
            shape = initializer.get_shape()
        elif shape is None and initializer is not None and not callable(initializer):
            shape = tensor_shape.as_shape(np.shape(initializer))
        dtype = dtype or (initializer.dtype.base_dtype if isinstance(initializer, ops.Tensor)
                          else dtypes.float32)
        if name in self.partitioned_vars:
            return self._existing_partitioned(name, shape, dtype, reuse, partitioner)
        if reuse:
            raise ValueError(f"PartitionedVariable {name} does not exist, or was not created "
                             f"with tf.get_variable(). Did you mean to set reuse=None in "
                             f"VarScope?")
        if shape is None or not shape.is_fully_defined():
            raise ValueError(f"Shape of a new partitioned variable ({name}) must be fully "
                             f"defined, but instead was {shape}.")
        if shape.ndims < 1:
            raise ValueError(f"A partitioned Variable must have rank at least 1, shape: {shape}")
        partitions = list(partitioner(shape=shape, dtype=dtype))
        axis = pv.check_partitions(name, shape, partitions)
        if f"{name}/part_0" in self.vars:
            raise ValueError(f"Partitioner returned a different partitioning than what was "
                             f"already found: variable {name}/part_0 exists but {name} was not "
                             f"created as a partitioned variable here.")
        shards = []
        for i, (offset, part_shape) in enumerate(pv.slices(shape.as_list(), partitions[axis],
                                                           axis)):
            info = pv._PartitionInfo(shape.as_list(), offset)
            part_init = initializer
            if initializer is not None and not callable(initializer):
                part_init = pv.slice_initial_value(initializer, offset, part_shape)
            v = self._create(f"{name}/part_{i}", tensor_shape.as_shape(part_shape), dtype,
                             part_init, regularizer, trainable, collections, validate_shape,
                             partition_info=info)
            v._set_save_slice_info(variables.Variable.SaveSliceInfo(
                name, shape.as_list(), offset, part_shape))
            shards.append(v)
        result = pv.PartitionedVariable(name, shape, dtype, shards, partitions)
        self.partitioned_vars[name] = result
        return result

    def _existing_partitioned(self, name, shape, dtype, reuse, partitioner):
        if not reuse:
            raise ValueError(f"Partitioned variable with name {name} already exists. Did you "
                             f"mean to set reuse=True in VarScope?")
        found = self.partitioned_vars[name]
        if shape is not None and not shape.is_compatible_with(found.get_shape()):
            raise ValueError(f"Trying to reuse partitioned variable {name}, but specified shape "
                             f"{shape} and found shape {found.get_shape()}.")
        if not dtype.is_compatible_with(found.dtype):
            raise ValueError(f"Trying to reuse partitioned variable {name}, but specified dtype "
                             f"{dtype.name} and found dtype {found.dtype.name}.")
        partitions = list(partitioner(shape=found.get_shape(), dtype=found.dtype))
        if partitions != found._get_partitions():
            raise ValueError(f"Trying to reuse partitioned variable {name}, but specified "
                             f"partitions {partitions} and found partitions "
                             f"{found._get_partitions()}.")
        return found

    def _create(self, name, shape, dtype, initializer, regularizer, trainable, collections,
                validate_shape, partition_info=None):
        from tensorflux.ops import variables
        init_val, dtype = _initial_value(name, shape, dtype, initializer, validate_shape,
                                         partition_info)
        with ops.name_scope(None), ops.control_dependencies(None):
            v = variables.Variable(init_val, trainable=trainable, collections=collections,
                                   name=name, dtype=dtype, validate_shape=validate_shape)
        self.vars[name] = v
        self.created_at[name] = "".join(traceback.format_list(
            traceback.extract_stack()[-6:-3]))
        if regularizer is not None:
            with ops.name_scope(None), ops.name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                ops.add_to_collection(ops.GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _initial_value(name, shape, dtype, initializer, validate_shape, partition_info=None):
    """(initial value or a function making it, dtype) for a new variable."""
    if initializer is not None and not callable(initializer):  # a tensor or a constant value
        if shape is not None and isinstance(initializer, ops.Tensor):
            if not shape.is_compatible_with(initializer.get_shape()):
                raise ValueError(f"Shape of variable {name} ({shape}) does not match the "
                                 f"shape of its initializer ({initializer.get_shape()})")
        return initializer, dtype
    dtype = dtype or dtypes.float32
    if initializer is None:
        from tensorflux.ops import init_ops
        initializer = (init_ops.glorot_uniform_initializer() if dtype.is_floating
                       else init_ops.zeros_initializer())
    if shape is None or (validate_shape and not shape.is_fully_defined()):
        raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but instead "
                         f"was {shape}.")
    dims = shape.as_list()
    if _accepts_partition_info(initializer):
        return (lambda: initializer(dims, dtype=dtype, partition_info=partition_info)), dtype
    return (lambda: initializer(dims, dtype=dtype)), dtype


def _accepts_partition_info(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "partition_info" in params or any(
        p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())


def _store(graph=None):
    collection = (graph or ops.get_default_graph()).get_collection_ref(_STORE_KEY)
    if not collection:
        collection.append(_VariableStore())
    return collection[0]


class VariableScope:
    """Defaults for the get_variable calls inside a `variable_scope` (`tf.VariableScope`)."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=dtypes.float32):
        self._name = name
        self._reuse = bool(reuse)
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    dtype = property(lambda self: self._dtype)

    def reuse_variables(self):
        """From now on, get_variable in this scope returns existing variables."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def set_dtype(self, dtype):
        self._dtype = dtypes.as_dtype(dtype)

    def _copy(self, **changes):
        fields = dict(reuse=self._reuse, name=self._name, initializer=self._initializer,
                      regularizer=self._regularizer, caching_device=self._caching_device,
                      partitioner=self._partitioner, custom_getter=self._custom_getter,
                      name_scope=self._name_scope, dtype=self._dtype)
        fields.update({k: v for k, v in changes.items() if v is not None or k == "reuse"})
        return VariableScope(**fields)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, trainable=True, collections=None, caching_device=None,
                     partitioner=None, validate_shape=True, custom_getter=None):
        """get_variable(name) under this scope: the variable `<scope name>/<name>`."""
        if name is None:  # the scope itself names the variable (create_partitioned_variables)
            full_name = self._name
        else:
            full_name = f"{self._name}/{name}" if self._name else name
        initializer = initializer if initializer is not None else self._initializer
        regularizer = regularizer if regularizer is not None else self._regularizer
        if dtype is None and not (initializer is not None and not callable(initializer)):
            dtype = self._dtype
        custom_getter = custom_getter or self._custom_getter

        partitioner = partitioner if partitioner is not None else self._partitioner

        def getter(name, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=True, collections=None, validate_shape=True, partitioner=None,
                   **_):
            return var_store.get_variable(name, shape, dtype, initializer, regularizer,
                                          self._reuse, trainable, collections, validate_shape,
                                          partitioner)
        kwargs = dict(shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, trainable=trainable, collections=collections,
                      validate_shape=validate_shape, partitioner=partitioner)
        if custom_getter is not None:
            return custom_getter(getter, full_name, **kwargs)
        return getter(full_name, **kwargs)


def get_variable_scope():
    """The current VariableScope of the default graph."""
    collection = ops.get_default_graph().get_collection_ref(_SCOPE_KEY)
    if not collection:
        collection.append(VariableScope(False))
    return collection[0]


def _set_variable_scope(scope):
    ops.get_default_graph().get_collection_ref(_SCOPE_KEY)[:] = [scope]


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, custom_getter=None, use_resource=None):
    """The variable `<current scope>/<name>`: created if new (ValueError if the scope reuses),
    returned if it exists (ValueError unless the scope reuses)."""
    return get_variable_scope().get_variable(
        _store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        custom_getter=custom_getter)


def _get_partitioned_variable(name, shape=None, dtype=None, initializer=None,
                              regularizer=None, trainable=True, collections=None,
                              caching_device=None, partitioner=None, validate_shape=True):
    """get_variable that always returns a PartitionedVariable (scalars too are split in one).

    `name` None names the variable after the current scope."""
    if partitioner is None:
        partitioner = get_variable_scope().partitioner
    if partitioner is None:
        raise ValueError("No partitioner was provided")
    scope = get_variable_scope()
    full_name = scope.name if name is None else (f"{scope.name}/{name}" if scope.name else name)
    initializer = initializer if initializer is not None else scope.initializer
    return _store().get_variable(full_name, shape, dtype or scope.dtype, initializer,
                                 regularizer or scope.regularizer, scope.reuse, trainable,
                                 collections, validate_shape, partitioner)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape=True, custom_getter=None):
    """get_variable for a non-trainable variable in LOCAL_VARIABLES."""
    collections = list(collections or []) + [ops.GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, False, collections,
                        caching_device, partitioner, validate_shape, custom_getter)


def _unique_scope_name(store, prefix):
    name, i = prefix, 1
    while store.scope_counts.get(name):
        name = f"{prefix}_{i}"
        i += 1
    return name


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None):
    """Opens a variable scope (and a name scope) for get_variable; yields the VariableScope.

    `name_or_scope` is a name (relative to the current scope) or a VariableScope (re-entered
    with its absolute name); reuse is inherited: once True it stays True in sub-scopes.
    """
    if name_or_scope is None and default_name is None:
        raise ValueError("If default_name is None then name_or_scope is required")
    if name_or_scope is None and reuse:
        raise ValueError("reuse=True cannot be used without a name_or_scope")
    if not isinstance(name_or_scope, (VariableScope, str, type(None))):
        raise TypeError(f"VariableScope: name_or_scope must be a string or VariableScope, got "
                        f"{type(name_or_scope).__name__}")
    graph = ops._graph_of(values)
    with graph.as_default():
        old = get_variable_scope()
        store = _store(graph)
        if isinstance(name_or_scope, VariableScope):
            new = name_or_scope._copy(reuse=name_or_scope.reuse if reuse is None else reuse)
            name_scope = name_or_scope.original_name_scope
            scope_cm = ops.name_scope(name_scope or None)
        else:
            name = name_or_scope
            if name is None:
                prefix = f"{old.name}/{default_name}" if old.name else default_name
                name = _unique_scope_name(store, prefix).rsplit("/", 1)[-1]
            new = old._copy(reuse=bool(reuse or old.reuse),
                            name=f"{old.name}/{name}" if old.name else name)
            scope_cm = ops.name_scope(name)
        with scope_cm as opened:
            if not isinstance(name_or_scope, VariableScope):
                new._name_scope = opened
            for field, value in (("_initializer", initializer), ("_regularizer", regularizer),
                                 ("_caching_device", caching_device),
                                 ("_partitioner", partitioner),
                                 ("_custom_getter", custom_getter)):
                if value is not None:
                    setattr(new, field, value)
            if dtype is not None:
                new.set_dtype(dtype)
            store.scope_counts[new.name] = store.scope_counts.get(new.name, 0) + 1
            _set_variable_scope(new)
            try:
                yield new
            finally:
                _set_variable_scope(old)


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None):
    """TensorFlow 0.9's argument order for variable_scope (values first)."""
    return variable_scope(name_or_scope, default_name=default_name, values=values,
                          initializer=initializer, regularizer=regularizer,
                          caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype)
