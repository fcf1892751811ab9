"""Gradients of function call nodes (framework/function.py), as TF defines them.

A function's gradient is, in order: its `python_grad_func(op, *grads)`, called while
tf.gradients builds the graph; a call of its `grad_func`, a function taking the call's inputs
and the gradients of its outputs and returning one gradient per input; or else its *symbolic
gradient* (TF's SymbolicGradient): a generated function `<name>_SymbolicGradient` of the same
arguments whose body is a copy of the function's body differentiated by tf.gradients. The
generated function is built once per function and added to the caller's library like any
other, so GraphDefs carry it.
"""
from tensorflux.autodiff import gradients as gradients_lib
from tensorflux.framework import function, ops, registry, tensor_conversion

_CONTROL_FLOW = frozenset(("Enter", "RefEnter", "Exit", "RefExit", "Switch", "RefSwitch",
                           "Merge", "RefMerge", "NextIteration", "RefNextIteration",
                           "LoopCond"))


def function_gradient(op, *grads):
    """The input gradients of call node `op` given its output gradients."""
    fn = function.function_of(op)
    if fn is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: "
                          f"{op.type}): the function is only declared. "
                          f"{op._created_at_text()}")
    if fn.python_grad_func is not None:
        return fn.python_grad_func(op, *grads)
    grad_fn = gradient_function_of(fn)
    result = grad_fn(*(list(op.inputs) + list(grads)))
    result = list(result) if isinstance(result, (list, tuple)) else [result]
    if len(result) != len(op.inputs):
        raise ValueError(f"Gradient function {grad_fn.name} of {fn.name} returned "
                         f"{len(result)} gradients for {len(op.inputs)} inputs (call "
                         f"'{op.name}')")
    return result


def symbolic_gradient(fn):
    """The generated gradient function of `fn` (built once)."""
    with fn._build_lock:
        if fn._symbolic_grad is None:
            fn._symbolic_grad = _build_symbolic_gradient(fn)
    return fn._symbolic_grad


def _build_symbolic_gradient(fn):
    body = fn._built()
    loops = sorted({op.type for op in body.order if op.type in _CONTROL_FLOW})
    if loops:
        raise LookupError(f"No symbolic gradient for function '{body.name}': its body has "
                          f"control flow ({', '.join(loops)}); give Defun a grad_func or a "
                          "python_grad_func")
    n = len(body.inputs)

    def grad_body(*args):
        xs, dys = list(args[:n]), list(args[n:])
        ys = inline_body(body, xs)
        grads = gradients_lib.gradients(ys, xs, grad_ys=dys)
        return [_zeros_like(x) if g is None else tensor_conversion.convert_to_tensor(g)
                for g, x in zip(grads, xs)]

    out_names = ["d_" + name for name in body.output_names]
    return function._DefinedFunction(
        grad_body, body.input_names + out_names,
        [t.dtype.base_dtype for t in body.inputs + body.outputs],
        func_name=f"{body.name}_SymbolicGradient",
        out_names=["d_" + name for name in body.input_names])


def inline_body(body, xs):
    """Copies the ops of a function body into the default graph, its arguments replaced by
    `xs`; returns the copies of its outputs."""
    graph = ops.get_default_graph()
    mapping = dict(zip(body.inputs, xs))
    copies = {}
    for op in body.order:
        for nested in function.functions_used_by(op):
            nested.add_to_graph(graph)
        new = graph.create_op(op.type, [mapping[t] for t in op.inputs],
                              [t.dtype for t in op._outputs], name=op.name,
                              attrs=dict(op._attrs), op_def=op._op_def)
        new._add_control_inputs([copies[c] for c in op.control_inputs if c in copies])
        copies[op] = new
        mapping.update(zip(op._outputs, new._outputs))
    return [mapping[t] for t in body.outputs]


def _zeros_like(x):
    from tensorflux.ops import array_ops
    return array_ops.zeros_like(x)


def gradient_function_of(fn):
    """`fn`'s grad_func, else its generated symbolic gradient function."""
    return fn._grad_func if fn._grad_func is not None else symbolic_gradient(fn)


registry.function_gradient = function_gradient
registry.gradient_function_of = gradient_function_of
