"""SymbolicGradient: TF's op computing the gradient of a graph function (framework/function.py).

TensorFlow's tf.gradients emits one for a Defun call without a gradient function: its inputs
are the call's inputs and the gradients of its outputs, its outputs the gradients of the
inputs, and attr `f` names the function. tensorflux's own tf.gradients calls a generated
gradient function instead (autodiff/function_grad.py); this op is here so that GraphDefs that
TensorFlow wrote run. Its CPU kernel is runtime/function_call.py's (it runs the body of `f`'s
gradient function: `f`'s grad_func, else its symbolic gradient).
"""
from tensorflux.framework import ops, registry
from tensorflux.framework.op_def_library import apply_op

SymbolicGradient = registry.register_op(
    "SymbolicGradient", inputs=["input: Tin"], outputs=["output: Tout"],
    attrs={"Tin": "list(type)", "Tout": "list(type)", "f": "func"})


@SymbolicGradient.shape
def _symbolic_gradient_shape(op):
    # the gradient of each of f's inputs has that input's shape: outputs match inputs[:len(Tout)]
    return [t.get_shape() for t in op.inputs[:len(op.outputs)]]


SymbolicGradient.not_differentiable()  # (as in TF: no gradient of the gradient op)


def symbolic_gradient(input, Tout, f, name=None):  # noqa: A002,N803 (TensorFlow's names)
    """The gradients of function `f` (a name or a Defun function) at `input` (f's inputs
    followed by the gradients of its outputs); `Tout` lists the dtypes of f's inputs."""
    add_to_graph = getattr(f, "add_to_graph", None)
    if add_to_graph is not None:
        add_to_graph(ops._graph_of(input))
    result = apply_op("SymbolicGradient", list(input), Tout=list(Tout), f=f, name=name)
    return list(result) if isinstance(result, (list, tuple)) else [result]

