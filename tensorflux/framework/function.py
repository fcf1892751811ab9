"""Graph functions: TF's `tensorflow.python.framework.function` (Defun).

    @function.Defun(tf.float32, tf.float32)
    def PlusMinus(a, b):
        return a + b, a - b

    s, d = PlusMinus(x, y)     # one call node whose op type is the function's name

The decorated Python function runs once, on Placeholders in a graph of its own (the *body*).
A call adds the function (with the functions it calls and its gradient function) to the
graph's function library once, and creates a call node. Each function has an OpDef of its own,
kept out of the global op registry (functions are per graph, as in TF): its shape function
re-infers the body with the call's input shapes, its gradient and CPU kernel come through the
registry's function slots, filled by autodiff/function_grad.py (grad_func, python_grad_func or
the symbolic gradient of the body) and runtime/function_call.py (runs the body with a plan
compiled once per call node and session). `Graph.as_graph_def()` writes the library as
FunctionDefs (framework/function_def.py) and `import_graph_def` reads it back.
"""
import collections
import hashlib
import inspect
import re
import threading

from tensorflux.framework import dtypes, ops, registry, tensor_shape
from tensorflux.framework import function_def as fdef_lib
from tensorflux.framework import tensor_conversion

__all__ = ["Defun", "Declare", "define_function"]


class _FuncGraph(ops.Graph):
    """A function body: an ordinary Graph whose functions end up in the caller's library."""

    def __init__(self, name):
        super().__init__()
        self._building_function = True
        self._function_name = name
        self.captured = collections.OrderedDict()  # outer tensor -> its Placeholder here

    def create_op(self, op_type, inputs, *args, **kwargs):
        inputs = [self._capture(t) if isinstance(t, ops.Tensor) and t.graph is not self else t
                  for t in inputs]
        return super().create_op(op_type, inputs, *args, **kwargs)

    def _capture(self, tensor):
        """A Placeholder standing for `tensor` of an outer graph (TF 1.0's captured input)."""
        if tensor.dtype._is_ref_dtype:
            raise ValueError(f"Function '{self._function_name}' uses the variable buffer "
                             f"{tensor.name} of an outer graph; read it first (v.value())")
        placeholder = self.captured.get(tensor)
        if placeholder is None:
            with self.as_default(), self.control_dependencies(None):
                placeholder = ops.Graph.create_op(
                    self, "Placeholder", [], [tensor.dtype],
                    name="captured_" + tensor.op.name.replace("/", "_"),
                    attrs={"dtype": tensor.dtype, "shape": tensor.get_shape()})._outputs[0]
            placeholder._shape = tensor.get_shape()
            self.captured[tensor] = placeholder
        return placeholder


def library(graph):
    """The graph's function library: an ordered {name: _DefinedFunction} (made on first use)."""
    lib = graph.__dict__.get("_functions")
    if lib is None:
        lib = graph.__dict__.setdefault("_functions", collections.OrderedDict())
    return lib


def fill_library(library_proto, graph):
    """Writes `graph`'s functions, and their gradient functions, into a FunctionDefLibrary."""
    for fn in library(graph).values():
        library_proto.function.add().CopyFrom(fn.definition)
        if fn.grad_func_name:
            library_proto.gradient.add(function_name=fn.name, gradient_func=fn.grad_func_name)


def write_library_of(op_list, library_proto):
    """Writes the functions that the call nodes among `op_list` run (with the functions they
    call and their gradient functions) into a FunctionDefLibrary."""
    scratch = ops.Graph()
    for op in op_list:
        for fn in functions_used_by(op):
            fn.add_to_graph(scratch)
    fill_library(library_proto, scratch)


class _FunctionOpDef(registry.OpDef):
    """The OpDef of a function's call nodes: signature from the function, shapes from its body,
    gradient and kernels from the registry's function slots."""

    def __init__(self, fn, body):
        inputs = [f"{n}: {t.dtype.base_dtype.name}" for n, t in zip(body.input_names,
                                                                    body.inputs)]
        outputs = [f"{n}: {t.dtype.base_dtype.name}" for n, t in zip(body.output_names,
                                                                     body.outputs)]
        super().__init__(body.name, inputs, outputs, {}, body.is_stateful, fn._defined_at)
        self.function = fn
        self.shape_fn = fn._call_shapes
        self.grad_fn = _call_gradient
        self.differentiable = True
        self.kernels = registry.FUNCTION_KERNELS  # filled by runtime/function_call.py


def _call_gradient(op, *grads):
    return registry.function_gradient(op, *grads)


class _Body:
    """A built function: its body graph, argument tensors, outputs, FunctionDef and OpDef."""

    def __init__(self, graph, inputs, input_names, outputs, output_names):
        self.graph = graph
        self.inputs = inputs
        self.input_names = input_names
        self.outputs = outputs
        self.output_names = output_names
        arg_ops = {t.op for t in inputs}
        self.order = [op for op in graph.get_operations() if op not in arg_ops]
        self.is_stateful = any(op._op_def.is_stateful for op in self.order)
        self.name = None
        self.definition = None
        self.op_def = None
        self.captured = []


class _DefinedFunction:
    """A function made by Defun (or read from a FunctionDefLibrary), built on first use."""

    def __init__(self, func, argnames, input_types, func_name=None, grad_func=None,
                 python_grad_func=None, out_names=None, shape_func=None, **kwargs):
        self._func = func
        self._argnames = list(argnames)
        self._input_types = tuple(dtypes.as_dtype(t) for t in input_types)
        self._func_name = func_name
        self._grad_func = grad_func
        self._python_grad_func = python_grad_func
        self._out_names = out_names
        self._shape_func = shape_func
        self._attrs = _parse_kwargs_as_attrs(kwargs)
        self._body = None
        self._build_lock = threading.RLock()
        self._shape_lock = threading.Lock()
        self._symbolic_grad = None
        self._defined_at = _defined_at(func)

    # ---- TF's properties -----------------------------------------------------------------
    @property
    def name(self):
        return self._built().name

    @property
    def definition(self):
        """The FunctionDef proto."""
        return self._built().definition

    @property
    def grad_func_name(self):
        return self._grad_func.name if self._grad_func is not None else None

    @property
    def python_grad_func(self):
        return self._python_grad_func

    @property
    def declared_input_types(self):
        return self._input_types

    @property
    def captured_inputs(self):
        """Tensors of outer graphs the body uses: every call passes them as extra inputs."""
        return list(self._built().captured)

    def set_grad_func(self, grad_func):
        """Sets the gradient function (a _DefinedFunction), once."""
        if self._grad_func is not None:
            raise ValueError(f"Gradient function of {self.name} is already set")
        self._grad_func = grad_func

    # ---- building ------------------------------------------------------------------------
    def _built(self):
        body = self._body
        if body is None:
            with self._build_lock:
                if self._body is None:
                    self._body = self._build()
                body = self._body
        return body

    def _build(self):
        graph = _FuncGraph(self._func_name or self._func.__name__)
        used = set()
        names = [fdef_lib.arg_name(n, used) for n in self._argnames]
        with graph.as_default():
            inputs = [graph.create_op("Placeholder", [], [t], name=n,
                                      attrs={"dtype": t, "shape": None})._outputs[0]
                      for n, t in zip(names, self._input_types)]
            outputs = _as_outputs(self._func(*inputs), self._func.__name__)
        for placeholder in graph.captured.values():  # outer tensors: extra arguments
            names.append(fdef_lib.arg_name(placeholder.op.name, used))
            inputs.append(placeholder)
        body = _Body(graph, inputs, names, outputs, self._output_names(outputs, used, graph))
        body.captured = list(graph.captured)
        self._finish(body, self._attrs)
        return body

    def _output_names(self, outputs, used, graph):
        if self._out_names is not None:
            if len(self._out_names) != len(outputs):
                raise ValueError(f"Length of out_names ({len(self._out_names)}) does not match "
                                 f"number of outputs ({len(outputs)}): {self._out_names}")
            return [fdef_lib.arg_name(n, used) for n in self._out_names]
        used.update(op.name for op in graph.get_operations())
        return [fdef_lib.arg_name(t.op.name.split("/")[-1], used) for t in outputs]

    def _finish(self, body, attrs, name=None):
        definition = fdef_lib.to_function_def(
            name or "", body.inputs, body.input_names, body.outputs, body.output_names,
            body.graph, attrs, body.is_stateful)
        if name is None:
            name = self._func_name or _hashed_name(self._func.__name__, definition)
            definition.signature.name = name
        body.name, body.definition = name, definition
        body.op_def = _FunctionOpDef(self, body)

    # ---- calling -------------------------------------------------------------------------
    def add_to_graph(self, graph):
        """Adds this function, the functions its body calls and its gradient function to the
        library of `graph` (once)."""
        body = self._built()
        if graph.finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        lib = library(graph)
        existing = lib.get(body.name)
        if existing is self:
            return
        if existing is not None:
            if same_definition(existing.definition, body.definition):
                return
            raise ValueError(f"Cannot add function '{body.name}' because a different function "
                             "with the same name already exists.")
        if body.name in registry.registered_ops():
            raise ValueError(f"Cannot add function '{body.name}' because an op with the same "
                             "name already exists.")
        for nested in list(library(body.graph).values()):
            nested.add_to_graph(graph)
        if self._grad_func is not None:
            self._grad_func.add_to_graph(graph)
        lib[body.name] = self

    def __call__(self, *args, **kwargs):
        name = kwargs.pop("name", None)
        if kwargs:
            raise ValueError(f"Unknown keyword arguments: {sorted(kwargs)}")
        body = self._built()
        if len(args) != len(self._input_types):
            raise ValueError(f"Expected number of arguments: {len(self._input_types)}, "
                             f"received: {len(args)} (function '{body.name}')")
        graph = ops._graph_of(args)
        inputs = [_as_input(a, t, n, body.name) for a, t, n in
                  zip(args, self._input_types, body.input_names)]
        if body.captured:
            graph = _check_captured_graph(body, graph if args else body.captured[0].graph)
            inputs += body.captured
        self.add_to_graph(graph)
        op = graph.create_op(body.name, inputs, [t.dtype for t in body.outputs],
                             name=name or body.name.lstrip("_.") or "call", op_def=body.op_def)
        outputs = op.outputs
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _call_shapes(self, op):
        """Output shapes of a call: the body's shape functions rerun with the call's input
        shapes (the body's own shapes when that fails), then refined by shape_func."""
        body = self._built()
        shapes = _reinferred_shapes(body, [t.get_shape() for t in op.inputs], self._shape_lock)
        if self._shape_func is not None:
            shapes = [s.merge_with(tensor_shape.as_shape(d)) for s, d in
                      zip(shapes, self._shape_func(op))]
        return shapes

    def __repr__(self):
        return f"<_DefinedFunction {self._func_name or self._func.__name__}>"


class _ImportedFunction(_DefinedFunction):
    """A function read from a FunctionDef: its body is the FunctionDef's nodes."""

    def __init__(self, definition, body_builder):
        super().__init__(None, [a.name for a in definition.signature.input_arg],
                         [a.type for a in definition.signature.input_arg],
                         func_name=definition.signature.name)
        self._definition = definition
        self._body_builder = body_builder

    def _build(self):
        body = self._body_builder(self._definition)
        self._finish(body, {}, name=self._definition.signature.name)
        body.definition = self._definition  # written back exactly as read
        return body

    def __repr__(self):
        return f"<_DefinedFunction {self._func_name} (imported)>"


def same_definition(a, b):
    """Whether two FunctionDefs are the same function."""
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def _check_captured_graph(body, graph):
    outer = body.captured[0].graph
    if graph is not outer and not graph._building_function:  # a body captures them again
        raise ValueError(f"Function '{body.name}' uses tensors of another graph "
                         f"({body.captured[0].name}); it can only be called in that graph")
    return graph


def _defined_at(func):
    code = getattr(func, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else "FunctionDef"


def _hashed_name(base, definition):
    """TF 1.x's default name: the Python name and a hash of the definition, so that two
    functions of one name with different bodies or types do not collide."""
    digest = hashlib.sha1(definition.SerializeToString(deterministic=True)).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9_]', '_', base).strip('_') or 'function'}_{digest}"


def _as_outputs(result, func_name):
    if result is None:
        raise ValueError(f"Function can not return None (function '{func_name}').")
    values = list(result) if isinstance(result, (list, tuple)) else [result]
    if not values or any(v is None for v in values):
        raise ValueError(f"Function can not return None (function '{func_name}' returned "
                         f"{result!r}).")
    outputs = []
    for v in values:
        if isinstance(v, ops.Operation):
            raise ValueError(f"Function '{func_name}' returned the operation {v.name}; a "
                             "function returns tensors")
        outputs.append(tensor_conversion.convert_to_tensor(v))
    return outputs


_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _type_text(dtype):
    return _TF_TYPE_NAMES.get(dtype.base_dtype.name, dtype.base_dtype.name)


def _as_input(value, dtype, arg, func_name):
    """`value` as the tensor for argument `arg`; a tensor of another dtype is TF's ValueError
    (its NodeDef builder's wording)."""
    if isinstance(value, ops.Tensor) and value.dtype.base_dtype != dtype:
        raise ValueError(f"Input '{arg}' passed {_type_text(value.dtype)} expected "
                         f"{_type_text(dtype)} while building NodeDef '{func_name}' (argument "
                         f"{arg} of function '{func_name}' given {value.name})")
    return tensor_conversion.convert_to_tensor(value, dtype=dtype)


def _reinferred_shapes(body, input_shapes, lock):
    generic = [t.get_shape() for t in body.outputs]
    if all(s.is_fully_defined() for s in generic) or all(
            s.ndims is None for s in input_shapes):
        return generic
    with lock:
        saved = {}
        try:
            for t, shape in zip(body.inputs, input_shapes):
                saved[t] = t._shape
                t._shape = shape
            for op in body.order:
                saved.update((t, t._shape) for t in op._outputs if t not in saved)
                ops._run_shape_fn(op)
            specific = [t.get_shape() for t in body.outputs]
        except Exception:  # noqa: BLE001 - a shape fn unhappy with real shapes: keep generic
            return generic
        finally:
            for t, shape in saved.items():
                t._shape = shape
    try:
        return [g.merge_with(s) for g, s in zip(generic, specific)]
    except ValueError:
        return specific


_KNOWN_ATTRS = {"noinline": "_noinline", "compiled": "_XlaCompile",
                "separate_compiled_gradients": "_XlaSeparateCompiledGradients"}


def _parse_kwargs_as_attrs(kwargs):
    """Defun's extra keyword arguments as FunctionDef attrs (TF: noinline -> _noinline, ...)."""
    attrs = {}
    for key, attr in _KNOWN_ATTRS.items():
        value = kwargs.pop(key, None)
        if value is not None:
            attrs[attr] = bool(value)
    if kwargs:
        raise ValueError(f"Unknown keyword arguments: {sorted(kwargs)}")
    return attrs


class _OverloadedFunction:
    """A Defun without input types: one _DefinedFunction per tuple of argument dtypes."""

    def __init__(self, func, argnames, **kwargs):
        self._func = func
        self._argnames = argnames
        self._kwargs = kwargs
        self._overloads = {}
        self._lock = threading.Lock()

    def instantiate(self, input_types):
        key = tuple(dtypes.as_dtype(t) for t in input_types)
        with self._lock:
            fn = self._overloads.get(key)
            if fn is None:
                names = self._argnames + [f"arg{i}" for i in range(len(self._argnames),
                                                                    len(key))]
                fn = self._overloads[key] = _DefinedFunction(self._func, names, key,
                                                             **self._kwargs)
        return fn

    def __call__(self, *args, **kwargs):
        tensors = [tensor_conversion.convert_to_tensor(a) for a in args]
        return self.instantiate([t.dtype.base_dtype for t in tensors])(*tensors, **kwargs)


class Defun:
    """Decorator making a Python function a graph function.

    `Defun(*input_types, func_name=None, grad_func=None, python_grad_func=None,
    out_names=None, noinline=None, ...)`. With input types the body is built once (on first
    use); without them, once per tuple of argument dtypes seen at call sites.

    grad_func: a _DefinedFunction taking the inputs and the output gradients, returning one
      gradient per input. python_grad_func: `f(op, *grads)`, called while tf.gradients builds
      the graph, as a registered gradient is. With neither, the body is differentiated
      symbolically.
    """

    def __init__(self, *input_types, **kwargs):
        self._input_types = input_types
        self._func_name = kwargs.pop("func_name", None)
        self._grad_func = kwargs.pop("grad_func", None)
        self._python_grad_func = kwargs.pop("python_grad_func", None)
        self._out_names = kwargs.pop("out_names", None)
        self._shape_func = kwargs.pop("shape_func", None)
        self._extra = kwargs
        _parse_kwargs_as_attrs(dict(kwargs))  # unknown keywords fail at decoration

    def __call__(self, func):
        if not callable(func):
            raise ValueError(f"func {func!r} must be callable")
        argnames, has_varargs = _argnames(func)
        kwargs = dict(func_name=self._func_name, grad_func=self._grad_func,
                      python_grad_func=self._python_grad_func, out_names=self._out_names,
                      shape_func=self._shape_func, **self._extra)
        if not self._input_types:
            return _OverloadedFunction(func, argnames, **kwargs)
        num = len(self._input_types)
        if num < len(argnames) or (num > len(argnames) and not has_varargs):
            raise ValueError("The function has fewer arguments than the number of specified "
                             "input types." if num > len(argnames) else
                             "The function has more arguments than the number of specified "
                             f"input types: {len(argnames)} arguments, {num} input types.")
        names = argnames + [f"arg{i}" for i in range(len(argnames), num)]
        return _DefinedFunction(func, names, self._input_types, **kwargs)


def _argnames(func):
    spec = inspect.getfullargspec(func)
    if spec.defaults or spec.kwonlyargs or spec.varkw:
        raise ValueError("Functions with argument defaults or keyword arguments are not "
                         f"supported ({func.__name__}).")
    args = list(spec.args)
    if inspect.ismethod(func):
        args = args[1:]
    return args, spec.varargs is not None


def define_function(func, input_types, func_name=None, grad_func=None,
                    python_grad_func=None):
    """TF 0.9's functional form: `define_function(f, {"x": tf.float32, ...})` (a dict of
    argument name to type, or a list of types) is `Defun(*types)(f)`."""
    if isinstance(input_types, dict):
        argnames, _ = _argnames(func)
        types = [input_types[n] for n in argnames]
    else:
        types = list(input_types)
    return Defun(*types, func_name=func_name, grad_func=grad_func,
                 python_grad_func=python_grad_func)(func)


class Declare:
    """A function declared by name and signature before its body exists (TF's `Declare`):
    calls make call nodes of op type `func_name`; running them needs a function of that
    name, with that signature, in the graph's library by then."""

    def __init__(self, func_name, inputs, outputs):
        self._name = func_name
        self._inputs = [(n, dtypes.as_dtype(t)) for n, t in inputs]
        self._outputs = [(n, dtypes.as_dtype(t)) for n, t in outputs]
        self._op_def = registry.OpDef(func_name, [f"{n}: {t.name}" for n, t in self._inputs],
                                      [f"{n}: {t.name}" for n, t in self._outputs], {}, True,
                                      "Declare")
        self._op_def.not_differentiable()
        self._op_def.shape_fn = lambda op: [None] * len(op._outputs)
        self._op_def.kernels = registry.FUNCTION_KERNELS

    name = property(lambda self: self._name)

    def __call__(self, *args, **kwargs):
        name = kwargs.pop("name", None)
        if kwargs:
            raise ValueError(f"Unknown keyword arguments: {sorted(kwargs)}")
        if len(args) != len(self._inputs):
            raise ValueError(f"Expected number of arguments: {len(self._inputs)}, received: "
                             f"{len(args)} (function '{self._name}')")
        graph = ops._graph_of(args)
        inputs = [_as_input(a, t, n, self._name) for a, (n, t) in zip(args, self._inputs)]
        op = graph.create_op(self._name, inputs, [t for _, t in self._outputs], name=name,
                             op_def=self._op_def)
        return op.outputs[0] if len(op.outputs) == 1 else tuple(op.outputs)


def function_of(op):
    """The _DefinedFunction a call node runs (looked up in its graph's library for nodes made
    by Declare); for a SymbolicGradient node, the gradient function of its `f`; None for
    ordinary ops."""
    fn = getattr(op._op_def, "function", None)
    if fn is None and op._op_def.kernels is registry.FUNCTION_KERNELS:
        fn = library(op.graph).get(op.type)
    if fn is None and op.type == "SymbolicGradient":
        f = library(op.graph).get(gradient_target(op))
        fn = None if f is None else registry.gradient_function_of(f)
    return fn


def gradient_target(op):
    """The name of the function a SymbolicGradient node differentiates (its attr `f`)."""
    f = op._attrs.get("f")
    return getattr(f, "name", f.decode() if isinstance(f, bytes) else f)


def functions_used_by(op):
    """The functions `op` needs in its graph's library: a call's function, a SymbolicGradient's
    `f`."""
    if op.type == "SymbolicGradient":
        f = library(op.graph).get(gradient_target(op))
        return [] if f is None else [f]
    fn = function_of(op)
    return [] if fn is None else [fn]


# ---- FunctionDefLibrary -> functions ------------------------------------------------------
def functions_from_library(library_proto, known):
    """{name: function} for the FunctionDefs of `library_proto`, their bodies built on first
    use; bodies may call each other and the functions in `known`. Gradient entries set the
    functions' grad_func."""
    lookup = dict(known)
    result = {}
    for fdef in library_proto.function:
        fn = _ImportedFunction(fdef, lambda d: _import_body(d, lookup))
        result[fdef.signature.name] = lookup[fdef.signature.name] = fn
    for entry in library_proto.gradient:
        fn, grad = result.get(entry.function_name), lookup.get(entry.gradient_func)
        if fn is None or grad is None:
            raise ValueError(f"Gradient entry {entry.function_name} -> {entry.gradient_func} "
                             "names a function not in the library")
        fn._grad_func = grad
    return result


def _import_body(definition, lookup):
    from tensorflux.framework import importer  # (importer reads libraries through here)
    name = definition.signature.name

    def op_def_of(op_type):
        op_def = registry.registered_ops().get(op_type)
        if op_def is None and op_type in lookup:
            if op_type == name:
                raise ValueError(f"Function '{name}' calls itself; recursive functions are "
                                 "not supported")
            op_def = lookup[op_type]._built().op_def
        return op_def

    graph_def, output_names = fdef_lib.to_graph_def(definition, op_def_of)
    graph = _FuncGraph(name)
    with graph.as_default():
        _, created = importer.import_graph_def_and_map(graph_def, name="", functions=lookup)
    inputs = [created[a.name]._outputs[0] for a in definition.signature.input_arg]
    outputs = []
    for text in output_names:
        node, _, index = text.rpartition(":")
        outputs.append(created[node]._outputs[int(index)])
    return _Body(graph, inputs, [a.name for a in definition.signature.input_arg], outputs,
                 [a.name for a in definition.signature.output_arg])
