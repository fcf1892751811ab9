"""The op registry: each op type is declared once, with its signature, shape function, gradient
and kernels, in one block of one module under tensorflux/ops/.

    MatMul = register_op("MatMul", inputs=["a: T", "b: T"], outputs=["product: T"],
                         attrs={"transpose_a": False, "transpose_b": False, "T": FLOATS})

    @MatMul.shape
    def _matmul_shape(op): ...            # -> TensorShape or list of them, unknown dims allowed
    @MatMul.gradient
    def _matmul_grad(op, grad): ...       # -> one graph tensor (or None) per input
    @MatMul.kernel("CPU")
    def _matmul_kernel(ctx, a, b): ...    # -> array, or a tuple of arrays for several outputs

Argument specs follow TensorFlow's OpDef syntax: "x: T" (type from attr T), "x: int32" (fixed
type), "values: N * T" (a list whose length is attr N), "components: Tcomponents" (a list of
types), "ref: Ref(T)" (a reference to a variable's buffer).
"""
import re
import sys

from tensorflux.framework import dtypes

_REQUIRED = object()
_ARG_RE = re.compile(r"^\s*(\w+)\s*:\s*(?:(\w+)\s*\*\s*)?(Ref\((\w+)\)|\w+)\s*$")
_ATTR_TYPES = ("type", "list(type)", "int", "float", "bool", "string", "shape", "tensor",
               "list(int)", "list(float)", "list(string)", "list(shape)", "list(bool)", "func")


class Attr:
    """An attr declaration: its OpDef type name, default (or required) and allowed values."""

    def __init__(self, type, default=_REQUIRED, allowed=None):
        if type not in _ATTR_TYPES:
            raise ValueError(f"Unknown attr type {type!r}; expected one of {_ATTR_TYPES}")
        self.type = type
        self.default = default
        self.allowed = None if allowed is None else tuple(allowed)

    @property
    def required(self):
        return self.default is _REQUIRED


def _attr_from_shorthand(value):
    """Reads the short forms of `attrs=`: a default value, a type name, or a set of dtypes."""
    if isinstance(value, Attr):
        return value
    if isinstance(value, str) and value in _ATTR_TYPES:
        return Attr(value)
    if isinstance(value, (set, frozenset, tuple)) and value and all(
            isinstance(v, dtypes.DType) for v in value):
        return Attr("type", allowed=sorted(value, key=lambda d: d.as_datatype_enum))
    if isinstance(value, dtypes.DType):
        return Attr("type", default=value)
    if isinstance(value, bool):
        return Attr("bool", value)
    if isinstance(value, int):
        return Attr("int", value)
    if isinstance(value, float):
        return Attr("float", value)
    if isinstance(value, (str, bytes)):
        return Attr("string", value)
    if isinstance(value, list) and value:
        kind = _attr_from_shorthand(value[0]).type
        return Attr(f"list({kind})", list(value))
    raise ValueError(f"Cannot read attr declaration {value!r}; use Attr(type, default, allowed)")


class ArgDef:
    """One input or output argument of an op: fixed type, type attr, list length attr, ref."""

    def __init__(self, spec):
        match = _ARG_RE.match(spec)
        if not match:
            raise ValueError(f"Bad argument spec {spec!r}; expected 'name: [N *] type'")
        self.name, self.number_attr, type_text, ref_attr = match.groups()
        self.is_ref = ref_attr is not None
        type_name = ref_attr or type_text
        self.type_attr = None
        self.type_list_attr = None
        self.dtype = None
        try:
            self.dtype = dtypes.as_dtype(type_name)
        except TypeError:
            self.type_attr = type_name  # resolved to a list attr in OpDef if declared so

    def __repr__(self):
        return f"ArgDef({self.name})"


class KernelDef:
    """A kernel for one device type; `is_async` kernels get a call object and may wait
    without holding a thread."""

    def __init__(self, fn, device_type, is_async=False):
        self.fn = fn
        self.device_type = device_type
        self.is_async = is_async


def _caller_location(depth=2):
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class OpDef:
    """Everything tensorflux knows about one op type."""

    def __init__(self, name, inputs, outputs, attrs, stateful, registered_at):
        self.name = name
        self.inputs = [ArgDef(s) for s in inputs]
        self.outputs = [ArgDef(s) for s in outputs]
        self.attrs = {k: _attr_from_shorthand(v) for k, v in attrs.items()}
        self.is_stateful = stateful
        self.registered_at = registered_at
        self.shape_fn = None
        self.grad_fn = None
        self.differentiable = None  # unknown until .gradient or .not_differentiable is called
        self.kernels = {}
        for arg in self.inputs + self.outputs:
            self._resolve_arg(arg)

    def _resolve_arg(self, arg):
        if arg.type_attr is None:
            return
        decl = self.attrs.get(arg.type_attr)
        if decl is None:
            self.attrs[arg.type_attr] = decl = Attr("type")
        if decl.type == "list(type)":
            arg.type_list_attr, arg.type_attr = arg.type_attr, None
        elif decl.type != "type":
            raise ValueError(f"Op {self.name}: argument {arg.name} names attr {arg.type_attr} "
                             f"of type {decl.type}, required a type attr")
        if arg.number_attr and arg.number_attr not in self.attrs:
            self.attrs[arg.number_attr] = Attr("int")

    # ---- decorators used by op modules -------------------------------------------------
    def shape(self, fn):
        _set_once(self, "shape_fn", fn, "shape function")
        return fn

    def gradient(self, fn):
        if self.differentiable is False:
            raise ValueError(f"Op {self.name} was marked not differentiable; cannot add a gradient")
        _set_once(self, "grad_fn", fn, "gradient")
        self.differentiable = True
        return fn

    def not_differentiable(self):
        if self.grad_fn is not None:
            raise ValueError(f"Op {self.name} already has a gradient; cannot mark it not "
                             "differentiable")
        self.differentiable = False
        return self

    def kernel(self, *device_types, is_async=False):
        def register(fn):
            kernel_fn = fn
            if not is_async and self._has_list_output():
                kernel_fn = _unwrap_single_output(fn)
            for device_type in device_types or ("CPU",):
                if device_type in self.kernels:
                    raise ValueError(f"Op {self.name} already has a {device_type} kernel "
                                     f"({self.kernels[device_type].fn.__qualname__})")
                self.kernels[device_type] = KernelDef(kernel_fn, device_type, is_async)
            return fn
        return register

    def _has_list_output(self):
        return any(a.number_attr or a.type_list_attr for a in self.outputs)

    def to_proto(self):
        """The OpDef proto describing this op (for MetaGraphDef stripped op lists)."""
        from tensorflux.framework import attr_values
        return attr_values.op_def_to_proto(self)

    def __repr__(self):
        return f"<OpDef {self.name} registered at {self.registered_at}>"


def _unwrap_single_output(fn):
    """Kernels of ops with list outputs return a list; with one element, the executor wants
    the array itself (e.g. tf.split(x, 1) or tf.unstack(x, num=1))."""
    def kernel(ctx, *inputs):
        result = fn(ctx, *inputs)
        if isinstance(result, (list, tuple)) and len(result) == 1:
            return result[0]
        return result
    kernel.__qualname__ = fn.__qualname__
    kernel.__wrapped__ = fn
    return kernel


def _set_once(op_def, field, fn, what):
    if getattr(op_def, field) is not None:
        raise ValueError(f"Op {op_def.name} already has a {what} "
                         f"({getattr(op_def, field).__qualname__}); registered at "
                         f"{op_def.registered_at}")
    setattr(op_def, field, fn)


_OPS = {}
_PENDING_SHAPES = {}  # tf.RegisterShape for op types not registered yet


def register_op(name, inputs=(), outputs=(), attrs=None, stateful=False):
    """Declares op type `name`. Returns its OpDef, whose decorators add the rules."""
    where = _caller_location()
    if name in _OPS:
        raise ValueError(f"Op {name} is already registered at {_OPS[name].registered_at}; "
                         f"second registration at {where}")
    op_def = OpDef(name, inputs, outputs, attrs or {}, stateful, where)
    _OPS[name] = op_def
    if name in _PENDING_SHAPES:
        op_def.shape_fn = _PENDING_SHAPES.pop(name)
    return op_def


class RegisterShape:
    """TF 0.9's decorator giving op type `op_type` its shape function.

    The function takes the Operation and returns a list of TensorShapes, one per output.
    `RegisterShape(t)(None)` (0.9: "use the C++ shape function") keeps the registered one.
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError(f"op_type must be a string, got {type(op_type).__name__}")
        self._op_type = op_type

    def __call__(self, fn):
        if fn is None:
            return fn
        op_def = _OPS.get(self._op_type)
        if self._op_type in _PENDING_SHAPES or (op_def is not None and op_def.shape_fn):
            raise KeyError(f"Registering two shape functions with name {self._op_type!r}")
        if op_def is None:
            _PENDING_SHAPES[self._op_type] = fn
        else:
            op_def.shape_fn = fn
        return fn


def get_op_def(name):
    """The OpDef registered as `name`; KeyError listing close names if there is none."""
    try:
        return _OPS[name]
    except KeyError:
        close = sorted(n for n in _OPS if n.lower().startswith(name[:3].lower()))
        raise KeyError(f"No op named {name!r} is registered"
                       + (f"; similar: {', '.join(close[:10])}" if close else "")) from None


def registered_ops():
    """A dict of every registered op type to its OpDef."""
    return dict(_OPS)


# ---- user-level gradient registry (tf.RegisterGradient / gradient_override_map) -----------
_GRADIENTS = {}


class RegisterGradient:
    """Decorator registering a gradient function under a name, as TensorFlow's does.

    The name is an op type, or a name used with `Graph.gradient_override_map`.
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError(f"op_type must be a string, got {type(op_type).__name__}")
        self._op_type = op_type

    def __call__(self, fn):
        if self._op_type in _GRADIENTS:
            raise KeyError(f"Registering two gradient functions with name {self._op_type!r}")
        _GRADIENTS[self._op_type] = fn
        return fn


def NotDifferentiable(op_type):  # noqa: N802 (TensorFlow's name)
    """Marks `op_type` as having no gradient."""
    _GRADIENTS[op_type] = None


NoGradient = NotDifferentiable


def input_ref_flags(op):
    """For each input of `op`: whether its OpDef declares it a reference (Ref(T)) input."""
    flags = []
    for arg in op._op_def.inputs:
        count = 1
        if arg.number_attr:
            count = op._attrs[arg.number_attr]
        elif arg.type_list_attr:
            count = len(op._attrs[arg.type_list_attr])
        flags.extend([arg.is_ref] * count)
    return flags


def lookup_gradient(op):
    """Returns (found, fn) for `op`, honouring `_gradient_op_type` overrides."""
    override = op._attrs.get("_gradient_op_type")
    if override is not None:
        if override not in _GRADIENTS:
            raise LookupError(f"No gradient registered under override name {override!r} for "
                              f"op {op.name} ({op.type})")
        return True, _GRADIENTS[override]
    if op.type in _GRADIENTS:
        return True, _GRADIENTS[op.type]
    op_def = op.op_def
    if op_def.differentiable is False:
        return True, None
    return op_def.grad_fn is not None, op_def.grad_fn


# ---- graph functions (framework/function.py) ----------------------------------------------
# Functions are per graph, not registered ops: each has an OpDef of its own whose kernels are
# this dict, filled by runtime/function_call.py (the framework never imports the runtime).
FUNCTION_KERNELS = {}


def function_gradient(op, *grads):
    """The gradient of a function call node; autodiff/function_grad.py replaces this."""
    raise LookupError(f"No gradient for function call {op.name} ({op.type}): "
                      "tensorflux.autodiff.function_grad is not loaded")


def gradient_function_of(fn):
    """The function computing the gradient of function `fn` (its grad_func, else its symbolic
    gradient); autodiff/function_grad.py replaces this."""
    raise LookupError(f"No gradient function for {fn!r}: tensorflux.autodiff.function_grad is "
                      "not loaded")
