"""Gradients of while loops: a gradient loop running the forward iterations in reverse.

tf.gradients treats a while loop as one unit whose inputs are the loop's initial values and the
outside tensors it captured, and whose outputs are its Exits. For a loop W, `loop_grad` builds
a gradient loop G (a WhileContext with a GradLoopState) with one variable per differentiable
loop variable (its gradient, starting from the gradient of W's Exit), one per differentiable
captured tensor (a sum over iterations) and a counter running from W's trip count - 1 down to
0. G's body is the gradient of W's body (tf.gradients' core, with W's body as base).

Forward values the body gradient needs are kept per iteration: W gets an iteration counter and,
per needed value, an accumulator (a TensorArray written at the iteration number; it travels
through W as an extra loop variable so every write is done before W's Exit). G reads the
accumulator at its counter, so gradient iterations may run in parallel. A value inside a cond
in W is written only when its branch runs and read in G behind a Switch on the (accumulated)
predicate. Loop-invariant values (captured tensors) enter G directly; constants are copied.
"""
from tensorflux.framework import ops
from tensorflux.ops import array_ops
from tensorflux.ops import constant_op
from tensorflux.ops import control_flow_ops as cf
from tensorflux.ops import math_ops
from tensorflux.ops import tensor_array_ops


def is_differentiable(dtype):
    dtype = dtype.base_dtype
    return dtype.is_floating or dtype.is_complex


class GradLoopState:
    """What a gradient loop G knows about its forward loop W."""

    def __init__(self, forward, grad):
        self.forward = forward
        self.grad = grad
        self.index = None  # G's counter inside its body: the forward iteration being reversed

    def real_value(self, tensor):
        """`tensor` (a value of the forward loop's frame) as a value in this gradient loop."""
        op = tensor.op
        if op.type in ("Enter", "RefEnter") and op.get_attr("is_constant") and \
                cf.context_of(op) is self.forward:
            return self.grad.capture(op.inputs[0])
        if op.type == "Const":
            with cf.in_context(self.grad), ops.control_dependencies(None):
                return constant_op.constant(op.get_attr("value"), dtype=tensor.dtype.base_dtype,
                                            name="forward_const")
        handle, flow = accumulate(self.forward, tensor)
        conds = _cond_chain(cf.value_context(tensor), self.forward)
        with cf.in_context(self.grad), ops.control_dependencies(None):
            for cond_ctx in reversed(conds):
                pred = self.grad.capture(cond_ctx.pred)
                handle = cf.switch(handle, pred)[cond_ctx.branch]
            value = tensor_array_ops.read(handle, self.index, flow, tensor.dtype.base_dtype,
                                          name="forward_value")
        value.set_shape(tensor.get_shape())
        return value


def _cond_chain(ctx, loop):
    """The cond contexts from `ctx` out to (not including) `loop`, innermost first."""
    chain = []
    while ctx is not None and ctx is not loop:
        if not ctx.is_while:
            chain.append(ctx)
        ctx = ctx.outer
    return chain


def accumulate(loop, tensor):
    """(handle, final flow) of an accumulator holding `tensor`'s value of every iteration."""
    found = loop.accumulators.get(tensor)
    if found is not None:
        return found
    with cf.in_context(loop.outer), ops.name_scope(loop._scope or None), \
            ops.control_dependencies(None):
        handle, flow0 = tensor_array_ops.new_accumulator(tensor.dtype.base_dtype)
    index, _ = loop.iteration_counter()
    conds = _cond_chain(cf.value_context(tensor), loop)

    def body(idents):
        flow_in = idents[0]
        if not conds:
            return [tensor_array_ops.write(handle, index, tensor, flow_in, name="accumulate")]
        with cf.in_context(conds[0]):
            flow = tensor_array_ops.write(handle, index, tensor, flow_in, name="accumulate")
        for cond_ctx in conds:
            outer = cond_ctx.outer
            with cf.in_context(outer):
                level = flow_in if outer is loop else outer.capture(flow_in)
                other = cf.switch(level, cond_ctx.pred)[1 - cond_ctx.branch]
                flow = cf.merge([flow, other], name="accumulate_merge")[0]
        return [flow]
    _, exits = loop.add_loop_vars([flow0], body)
    found = loop.accumulators[tensor] = (handle, exits[0])
    return found


def loop_grad(loop, exit_grads, inputs, wanted, grad_core):
    """Gradients for `inputs` (loop.grad_inputs() when tf.gradients looked) of the loop.

    Args:
      loop: the forward WhileContext.
      exit_grads: gradient (or None) of each of loop.grad_outputs().
      inputs: the loop's input tensors as tf.gradients saw them.
      wanted: the subset of `inputs` whose gradients are needed.
      grad_core: tf.gradients' core, grad_core(ys, xs, grad_ys, base).
    """
    result = [None] * len(inputs)
    if not loop.back_prop or all(g is None for g in exit_grads):
        return result
    n_user = loop.num_user_vars
    var_ids = [k for k in range(n_user) if is_differentiable(loop.enters[k].dtype)]
    const_ids = [n_user + j for j, e in enumerate(loop.const_enters[:len(inputs) - n_user])
                 if is_differentiable(e.dtype) and e.op.inputs[0] in wanted]
    consts = [loop.const_enters[i - n_user] for i in const_ids]
    if not var_ids:
        return result
    _, count = loop.iteration_counter()
    outer = cf.current_context()
    with ops.name_scope(loop._scope.rstrip("/").rsplit("/", 1)[-1] + "_grad") as scope:
        grad = cf.WhileContext(scope + "while_context", outer, loop.parallel_iterations,
                               back_prop=False)
        state = grad.grad_state = GradLoopState(loop, grad)
        inits = [math_ops.subtract(count, 1, name="last_iteration")]
        inits += [_dense(exit_grads[k]) if exit_grads[k] is not None
                  else array_ops.zeros_like(loop.exits[k]) for k in var_ids]
        inits += [array_ops.zeros_like(e.op.inputs[0]) for e in consts]
        invariants = [count.get_shape()] + [loop.merges[k].get_shape() for k in var_ids] + \
            [e.get_shape() for e in consts]
        merges = grad.make_vars(inits, invariants)
        grad._pivot_now = merges[0]
        with cf.in_context(grad):
            grad.pivot = cf.loop_cond(math_ops.greater_equal(merges[0], 0), name="LoopCond")
            grad.pivot.op._cf_loop_part = grad
        grad._pivot_now = None
        identities = grad.make_switches(merges)
        n_vars = len(var_ids)

        def body(idents):
            state.index = idents[0]
            ys = [loop.nexts[k].op.inputs[0] for k in var_ids]
            xs = [loop.identities[k] for k in var_ids] + list(consts)
            grads = grad_core(ys, xs, idents[1:1 + n_vars], loop)
            new_vars = [_dense(g) if g is not None else array_ops.zeros_like(v)
                        for g, v in zip(grads[:n_vars], idents[1:1 + n_vars])]
            sums = [math_ops.add(acc, _dense(g)) if g is not None else acc
                    for g, acc in zip(grads[n_vars:], idents[1 + n_vars:])]
            return [math_ops.subtract(idents[0], 1)] + new_vars + sums
        nexts = grad.build(identities[0], body, identities)
        grad.close_vars(merges, nexts)
        grad.num_user_vars = len(merges)
    for k, e in zip(var_ids + const_ids, grad.exits[1:]):
        result[k] = e
    return result


def _dense(grad):
    if isinstance(grad, ops.IndexedSlices):
        return ops.convert_to_tensor(grad)
    return grad

