"""apply_op: turns a Python call (values and attrs) into a typed op in the default graph.

It converts inputs to tensors, infers type and length attrs from them, checks dtypes against
the OpDef, fills attr defaults and computes output dtypes, then calls Graph.create_op.
"""
import contextlib

from tensorflux.framework import dtypes
from tensorflux.framework import ops
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape


def apply_op(op_type, *inputs, name=None, **attrs):
    """Creates an op of type `op_type`; returns its output tensor(s) (or the op if none).

    Inputs are given positionally in OpDef order; list inputs as Python lists.
    """
    op_def = registry.get_op_def(op_type)
    if len(inputs) != len(op_def.inputs):
        raise TypeError(f"{op_type} takes {len(op_def.inputs)} inputs "
                        f"({', '.join(a.name for a in op_def.inputs)}), got {len(inputs)}")
    attrs = {k: v for k, v in attrs.items() if v is not None}
    graph = ops._graph_of(_flat_graph_elements(inputs))
    with graph.as_default():
        scope_name = name if name is not None else op_type
        tensors = _convert_inputs(op_def, inputs, attrs, scope_name)
        _fill_defaults(op_def, attrs)
        _check_attrs(op_def, attrs)
        out_types = _output_types(op_def, attrs)
        with _colocated_with_refs(graph, op_def, tensors):
            op = graph.create_op(op_type, tensors, out_types, name=name, attrs=attrs,
                                 op_def=op_def)
    if not op._outputs:
        return op
    if len(op_def.outputs) == 1 and not _is_list_arg(op_def.outputs[0]):
        return op._outputs[0]
    return _group_outputs(op_def, op)


def _colocated_with_refs(graph, op_def, tensors):
    """An op updating a variable (a Ref(T) input) is created colocated with the variable, as
    TF does: it gets the variable's device and a `loc:@variable` colocation group."""
    stack = contextlib.ExitStack()
    flags = [a.is_ref for a in op_def.inputs]
    if any(flags) and not any(a.number_attr or a.type_list_attr for a in op_def.inputs):
        for is_ref, t in zip(flags, tensors):
            if is_ref and t.dtype._is_ref_dtype:
                stack.enter_context(graph.colocate_with(t.op))
    return stack


def _flat_graph_elements(inputs):
    for value in inputs:
        if isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, (ops.Tensor, ops.Operation)))
        elif isinstance(value, (ops.Tensor, ops.Operation)):
            yield value


def _is_list_arg(arg):
    return arg.number_attr is not None or arg.type_list_attr is not None


def _type_hints(op_def, inputs, attrs):
    """dtype of the first Tensor given for each unbound type attr (so `2 * x` works)."""
    hints = {}
    for arg, value in zip(op_def.inputs, inputs):
        if arg.type_attr is None or attrs.get(arg.type_attr) is not None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, ops.Tensor) and arg.type_attr not in hints:
                hints[arg.type_attr] = v.dtype.base_dtype
    return hints


def _convert_inputs(op_def, inputs, attrs, op_name):
    hints = _type_hints(op_def, inputs, attrs)
    tensors = []
    for arg, value in zip(op_def.inputs, inputs):
        if arg.type_list_attr is not None:
            converted = _convert_type_list(arg, value, attrs, op_def, op_name)
        elif arg.number_attr is not None:
            converted = _convert_number_list(arg, value, attrs, op_def, op_name,
                                             hints.get(arg.type_attr))
        else:
            converted = [_convert_one(arg, value, attrs, op_def, op_name,
                                      hints.get(arg.type_attr))]
        tensors.extend(converted)
    return tensors


def _want_dtype(arg, attrs):
    if arg.dtype is not None:
        return arg.dtype
    return attrs.get(arg.type_attr)


def _convert_one(arg, value, attrs, op_def, op_name, dtype_hint=None):
    want = _want_dtype(arg, attrs) or dtype_hint
    try:
        tensor = ops.convert_to_tensor(value, dtype=want, as_ref=arg.is_ref)
    except (TypeError, ValueError) as e:
        raise _conversion_error(arg, value, want, attrs, op_def, op_name, e) from None
    if arg.is_ref and not tensor.dtype._is_ref_dtype:
        raise TypeError(f"Input '{arg.name}' of '{op_def.name}' Op requires l-value input "
                        f"(a tf.Variable), got {tensor.name}{_for(op_name)}")
    base = tensor.dtype.base_dtype
    if arg.dtype is not None and base != arg.dtype:
        raise TypeError(f"Input '{arg.name}' of '{op_def.name}' Op has type {base.name} that "
                        f"does not match expected type of {arg.dtype.name}.{_for(op_name)}")
    if arg.type_attr is not None:
        _bind_type(op_def, op_name, arg, attrs, base)
    return tensor


def _conversion_error(arg, value, want, attrs, op_def, op_name, error):
    """TF's TypeError for an input that does not convert to the dtype it must have."""
    if want is None or isinstance(error, TypeError):
        what = want.name if want else "a Tensor"
        return TypeError(f"Expected {what} passed to parameter '{arg.name}' of op "
                         f"'{op_def.name}', got {value!r:.80} of type "
                         f"'{type(value).__name__}' instead. Error: {error}{_for(op_name)}")
    try:  # what it would have been without the dtype asked for
        seen = ops.convert_to_tensor(value, as_ref=arg.is_ref).dtype.base_dtype.name
    except (TypeError, ValueError):
        seen = type(value).__name__
    return TypeError(f"Input '{arg.name}' of '{op_def.name}' Op has type {seen} that does not "
                     f"match {_expected(arg, attrs, op_def, want)}.{_for(op_name)}")


def _expected(arg, attrs, op_def, want):
    if arg.type_attr is not None and attrs.get(arg.type_attr) is not None:
        first = next(a.name for a in op_def.inputs if a.type_attr == arg.type_attr)
        if first != arg.name:  # the type was inferred from an earlier input, as TF says
            return f"type {want.name} of argument '{first}'"
    return f"expected type of {want.name}"


def _for(op_name):
    """Our context after TF's wording: the op being built."""
    return f" (for op '{op_name}')"


def _bind_type(op_def, op_name, arg, attrs, base):
    bound = attrs.get(arg.type_attr)
    if bound is None:
        attrs[arg.type_attr] = base
    elif dtypes.as_dtype(bound) != base:
        first = next(a.name for a in op_def.inputs if a.type_attr == arg.type_attr)
        raise TypeError(f"Input '{arg.name}' of '{op_def.name}' Op has type {base.name} that "
                        f"does not match type {dtypes.as_dtype(bound).name} of argument "
                        f"'{first}'.{_for(op_name)}")


def _convert_number_list(arg, value, attrs, op_def, op_name, hint):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected list for '{arg.name}' argument to '{op_def.name}' Op, not "
                        f"{_describe(value)}.{_for(op_name)}")
    tensors = [_convert_one(arg, v, attrs, op_def, op_name, hint) for v in value]
    attrs[arg.number_attr] = len(tensors)
    return tensors


def _convert_type_list(arg, value, attrs, op_def, op_name):
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected list for '{arg.name}' argument to '{op_def.name}' Op, not "
                        f"{_describe(value)}.{_for(op_name)}")
    wanted = attrs.get(arg.type_list_attr)
    tensors = []
    for i, v in enumerate(value):
        want = dtypes.as_dtype(wanted[i]) if wanted else None
        tensors.append(ops.convert_to_tensor(v, dtype=want))
    attrs[arg.type_list_attr] = [t.dtype.base_dtype for t in tensors]
    return tensors


def _fill_defaults(op_def, attrs):
    for name, decl in op_def.attrs.items():
        if name not in attrs:
            if decl.required:
                raise TypeError(f"{op_def.name}: missing required attr {name!r} "
                                f"(of type {decl.type})")
            attrs[name] = decl.default


def _check_attrs(op_def, attrs):
    for name, decl in op_def.attrs.items():
        value = attrs[name]
        if decl.type == "type":
            value = attrs[name] = dtypes.as_dtype(value)
            if decl.allowed and value.base_dtype not in decl.allowed:
                allowed = ", ".join(d.name for d in decl.allowed)
                raise TypeError(f"Value passed to parameter '{_param(op_def, name)}' has "
                                f"DataType {value.name} not in list of allowed values: "
                                f"{allowed} (attr '{name}' of '{op_def.name}' Op)")
        elif decl.type == "shape":
            attrs[name] = tensor_shape.as_shape(value)
        elif decl.type == "list(type)":
            attrs[name] = [dtypes.as_dtype(v) for v in value]
        elif decl.type == "int" and not isinstance(value, int):
            raise TypeError(f"Expected int for argument '{name}' not {value!r} "
                            f"('{op_def.name}' Op).")
        elif decl.type == "int" and name in _list_length_attrs(op_def):
            _check_list_length(op_def, name, value)
        elif decl.allowed and value not in decl.allowed:
            allowed = ", ".join(f'"{v}"' for v in decl.allowed)
            raise ValueError(f"Attr '{name}' of '{op_def.name}' Op passed string '{value}' not "
                             f"in: {allowed}.")


# A list attr beyond this makes millions of Tensor objects before any kernel runs; TF's
# allocators would fail on it too, later and less clearly.
MAX_LIST_LENGTH = 1 << 16


def _list_length_attrs(op_def):
    return {a.number_attr for a in op_def.inputs + op_def.outputs if a.number_attr}


def _check_list_length(op_def, name, value):
    if value < 0:
        raise ValueError(f"Value for attr '{name}' of {value} must be at least minimum 0 "
                         f"({op_def.name})")
    if value > MAX_LIST_LENGTH:
        raise ValueError(f"Value for attr '{name}' of {value} asks {op_def.name} for {value} "
                         f"tensors; at most {MAX_LIST_LENGTH} are supported")


def _output_types(op_def, attrs):
    types = []
    for arg in op_def.outputs:
        if arg.type_list_attr is not None:
            types.extend(attrs[arg.type_list_attr])
            continue
        dtype = arg.dtype if arg.dtype is not None else attrs[arg.type_attr]
        if arg.is_ref:
            dtype = dtypes.as_dtype(dtype)._as_ref
        count = attrs[arg.number_attr] if arg.number_attr else 1
        types.extend([dtype] * count)
    return types


def _group_outputs(op_def, op):
    """Splits an op's flat outputs into one entry per OpDef output (lists for list args)."""
    result, pos = [], 0
    for arg in op_def.outputs:
        if arg.type_list_attr is not None:
            n = len(op.get_attr(arg.type_list_attr))
        elif arg.number_attr is not None:
            n = op.get_attr(arg.number_attr)
        else:
            result.append(op._outputs[pos])
            pos += 1
            continue
        result.append(op._outputs[pos:pos + n])
        pos += n
    return result[0] if len(result) == 1 else tuple(result)


def _param(op_def, attr_name):
    """The input whose dtype set `attr_name` (TF names it), else the attr itself."""
    return next((a.name for a in op_def.inputs if a.type_attr == attr_name), attr_name)


def _describe(value):
    if isinstance(value, ops.Tensor):
        return f"{value.name} of dtype {value.dtype.name}"
    return f"{type(value).__name__} {value!r:.60}"
