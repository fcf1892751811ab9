"""TensorFlow's generated op modules (`gen_math_ops`, `gen_nn_ops`, ...): one Python function per
registered op, made from the registry at import, so nothing here repeats an op's definition.

TF's op generator named each function after the op type in snake case ("MatMul" -> `mat_mul`,
"Conv2DBackpropInput" -> `conv2d_backprop_input`, "L2Loss" -> `l2_loss`) and put a leading
underscore on ops its wrappers hid (`gen_math_ops._mat_mul`, `gen_nn_ops._relu_grad`). Which ops
were hidden changed between releases, so every op is here under both spellings. Arguments are
TF's: the op's inputs in order, then the attrs not inferred from the inputs, then `name`.
"""
import inspect
import os

from tensorflux.framework import op_def_library
from tensorflux.framework import registry


def snake_case(op_type):
    """TF's op-generator rule: "_" before a capital that follows a lower-case letter, or that
    starts a word ("BiasAddGrad" -> bias_add_grad, "LRN" -> lrn, "MaxPool3D" -> max_pool3d)."""
    out = []
    for i, c in enumerate(op_type):
        if c.isupper() and i > 0:
            prev, nxt = op_type[i - 1], op_type[i + 1:i + 2]
            if prev.islower() or (nxt.islower() and prev != "_"):
                out.append("_")
        out.append(c.lower())
    return "".join(out)


def _inferred_attrs(op_def):
    """Attrs that apply_op infers from the inputs (their types and list lengths)."""
    names = set()
    for arg in op_def.inputs:
        names.update(a for a in (arg.type_attr, arg.type_list_attr, arg.number_attr) if a)
    return names


def make_op_function(op_type):
    """A TF-style generated function creating one `op_type` op in the default graph."""
    op_def = registry.get_op_def(op_type)
    input_names = [arg.name for arg in op_def.inputs]
    inferred = _inferred_attrs(op_def)
    attr_names = [a for a in op_def.attrs if a not in inferred]
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in input_names]
    for attr in attr_names:
        default = None if op_def.attrs[attr].required else op_def.attrs[attr].default
        params.append(inspect.Parameter(attr, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        default=default))
    params.append(inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    default=None))
    signature = inspect.Signature(params)

    def op_function(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        missing = [n for n in input_names if values[n] is None]
        if missing:
            raise TypeError(f"{op_type} is missing input(s) {', '.join(missing)}")
        attrs = {a: values[a] for a in attr_names if values[a] is not None}
        return op_def_library.apply_op(op_type, *(values[n] for n in input_names),
                                       name=values["name"], **attrs)

    op_function.__name__ = op_function.__qualname__ = snake_case(op_type)
    op_function.__signature__ = signature
    op_function.__doc__ = f"Creates a `{op_type}` op (registered at {op_def.registered_at})."
    return op_function


def _defining_module(op_def):
    """'ops/math_ops' for an op registered in tensorflux/ops/math_ops.py."""
    path = op_def.registered_at.rsplit(":", 1)[0]
    folder, file = os.path.split(path)
    return f"{os.path.basename(folder)}/{os.path.splitext(file)[0]}"


def export_ops(namespace, families):
    """Adds to `namespace` a function, under both TF spellings, for every op registered in one
    of the modules `families` ("ops/math_ops", ...). Returns the exported names."""
    import tensorflux  # noqa: F401  (every op module registers its ops on import)
    names = []
    for op_type, op_def in sorted(registry.registered_ops().items()):
        if _defining_module(op_def) not in families:
            continue
        fn = make_op_function(op_type)
        snake = snake_case(op_type)
        for public in {snake, "_" + snake.lstrip("_")}:
            namespace[public] = fn
            names.append(public)
    return names
