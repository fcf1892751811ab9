"""The kernel of function call nodes (framework/function.py): runs the function's body.

Each call node has, per session, a plan of its body compiled on its first run (pruned to the
outputs, optimized with the session's settings, with kernel contexts of the calling session:
same device, resources and session) and kept in the node's kernel context; every later run is
one `plan.run(inputs)`. Nested calls are call nodes of the body and get plans of their own the
same way; a call inside a while loop or cond is an ordinary node of the loop. A body with
control flow runs on the control-flow plan, in the calling thread. An error inside the body
keeps its class and names the body's node, the function and the call node. SymbolicGradient
nodes (TF's gradients of functions) run the body of their function's gradient function so.
"""
from tensorflux.framework import errors, function, registry
from tensorflux.ops import function_ops
from tensorflux.runtime import executor


class _BodyPlan:
    """A function body compiled for one call node in one session."""

    def __init__(self, ctx):
        op = ctx.op
        fn = function.function_of(op)
        if fn is None:
            name = function.gradient_target(op) if op.type == "SymbolicGradient" else op.type
            raise errors.NotFoundError(
                None, op, f"Function '{name}' is not defined in the graph's library (needed "
                          f"by {op.type} op '{op.name}'). {op._created_at_text()}")
        body = fn._built()
        self.name = body.name
        _check_kernels(body)

        def context_for(body_op, device):
            return executor.KernelContext(body_op, ctx.device, ctx.resources, ctx.session,
                                          ctx.xp)

        # the calling session's graph optimizer settings apply to the body too
        self.plan = executor.compile_plan(list(body.inputs), list(body.outputs), [],
                                          context_for, graph=body.graph,
                                          optimizer=getattr(ctx.session, "_optimizer", None))
        self.single = len(body.outputs) == 1

    def run(self, op, inputs):
        try:
            if self.plan.inline:
                results = self.plan.run(list(inputs))
            else:  # a control-flow plan: it runs in this thread and needs no pool
                results = self.plan.run(list(inputs), None)
        except errors.OpError as e:
            raise _named(e, op, self.name) from e
        return results[0] if self.single else tuple(results)


def _check_kernels(body):
    for op in body.order:
        kernel = op._op_def.kernels.get("CPU")
        if kernel is not None and kernel.is_async:
            raise errors.UnimplementedError(
                None, op, f"Function '{body.name}': node '{op.name}' ({op.type}) has an "
                          "asynchronous kernel; queues and readers cannot run inside a "
                          "function body")


def _named(exc, op, name):
    message = f"{exc.message}\n\tin function '{name}' called by {op.type} op '{op.name}'"
    if type(exc) is errors.OpError:
        return errors.OpError(None, op, message, exc.error_code)
    return type(exc)(None, op, message)


def _call_kernel(ctx, *inputs):
    body = ctx.init_state(lambda: _BodyPlan(ctx))
    return body.run(ctx.op, inputs)


registry.FUNCTION_KERNELS["CPU"] = registry.KernelDef(_call_kernel, "CPU")
function_ops.SymbolicGradient.kernel("CPU")(_call_kernel)  # the body of f's gradient function
