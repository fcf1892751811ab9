"""The Apply* / SparseApply* ops optimizers use to update variables in place.

Each kernel receives the VariableRefs of the variable and its slots and stores the updated
arrays back into them, like TensorFlow's fused training kernels (Session.run hands out copies,
so fetched values never change afterwards). Sparse updates, and the dense updates of gradient
descent, Momentum and Adam, write into the buffers (the dense ones in cache-sized blocks).

Every update rule is written once, over whole arrays; the sparse ops apply the same rule to the
rows `indices` of the variable and its slots (in order, one index at a time when an index
repeats, as TensorFlow's kernels do).
"""
import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common
from tensorflux.ops import state_ops


# ---- update rules (TensorFlow's documented formulas) ---------------------------------------
def _gradient_descent(attrs, var, alpha, delta):
    return (var - alpha * delta,)


def _momentum(attrs, var, accum, lr, grad, momentum):
    accum = accum * momentum + grad
    if attrs.get("use_nesterov"):
        return var - (grad * lr + accum * momentum * lr), accum
    return var - lr * accum, accum


def _adagrad(attrs, var, accum, lr, grad):
    accum = accum + grad * grad
    return var - lr * grad / np.sqrt(accum), accum


def _adadelta(attrs, var, accum, accum_update, lr, rho, epsilon, grad):
    accum = accum * rho + grad * grad * (1 - rho)
    update = np.sqrt(accum_update + epsilon) / np.sqrt(accum + epsilon) * grad
    accum_update = accum_update * rho + update * update * (1 - rho)
    return var - update * lr, accum, accum_update


def _adam(attrs, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad):
    alpha = lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)
    m = m + (grad - m) * (1 - beta1)
    v = v + (grad * grad - v) * (1 - beta2)
    step = m * beta1 + grad * (1 - beta1) if attrs.get("use_nesterov") else m
    return var - step * alpha / (np.sqrt(v) + epsilon), m, v


_BLOCK = 1 << 16  # elements per block of an in-place update: its temporaries stay in L2


def _blocked(update):
    """`update(attrs, *arrays_and_scalars, t=buffer)` run on blocks of the flattened buffers,
    so the element-wise passes of an update rule hit the cache instead of memory (the
    buffers must be C-contiguous: _writable_floats checks). Array inputs of the var's size
    (the gradient) are cut the same way; scalars pass through."""
    def run(attrs, var, *rest):
        size = var.size
        flat = [a.reshape(-1) if isinstance(a, np.ndarray) and a.size == size and a.ndim
                else a for a in (var,) + rest]
        t = np.empty(min(size, _BLOCK), dtype=var.dtype)
        for start in range(0, size, _BLOCK):
            part = slice(start, start + _BLOCK)
            block = [a[part] if isinstance(a, np.ndarray) and a.ndim else a for a in flat]
            update(attrs, *block, t=t[:len(block[0])])
    return run


@_blocked
def _gradient_descent_in_place(attrs, var, alpha, delta, t):
    np.multiply(delta, alpha, out=t)
    var -= t


@_blocked
def _momentum_in_place(attrs, var, accum, lr, grad, momentum, t):
    accum *= momentum                                 # accum = accum * momentum + grad
    accum += grad
    if attrs.get("use_nesterov"):                     # var -= grad * lr + accum * momentum * lr
        np.multiply(grad, lr, out=t)
        var -= t
        np.multiply(accum, momentum, out=t)
        t *= lr
    else:                                             # var -= lr * accum
        np.multiply(accum, lr, out=t)
    var -= t


@_blocked
def _adam_in_place(attrs, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                   grad, t):
    """_adam computed into the existing buffers (one block-sized temporary instead of about
    ten full-size ones: Adam is the costliest op of a conv net's step on big fully connected
    layers)."""
    dtype = var.dtype.type
    alpha = dtype(lr * np.sqrt(1 - beta2_power) / (1 - beta1_power))
    np.subtract(grad, m, out=t)                       # m += (grad - m) * (1 - beta1)
    t *= dtype(1 - beta1)
    m += t
    np.multiply(grad, grad, out=t)                    # v += (grad^2 - v) * (1 - beta2)
    t -= v
    t *= dtype(1 - beta2)
    v += t
    if attrs.get("use_nesterov"):                     # step = m * beta1 + grad * (1 - beta1)
        step = m * dtype(beta1) + grad * dtype(1 - beta1)
    else:
        step = m
    np.sqrt(v, out=t)                                 # var -= step * alpha / (sqrt(v) + eps)
    t += dtype(epsilon)
    np.divide(step, t, out=t)
    t *= alpha
    var -= t


def _rms_prop(attrs, var, ms, mom, lr, rho, momentum, epsilon, grad):
    ms = ms + (grad * grad - ms) * (1 - rho)
    mom = mom * momentum + grad * lr / np.sqrt(ms + epsilon)
    return var - mom, ms, mom


def _centered_rms_prop(attrs, var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    mg = mg + (grad - mg) * (1 - rho)
    ms = ms + (grad * grad - ms) * (1 - rho)
    mom = mom * momentum + grad * lr / np.sqrt(ms - mg * mg + epsilon)
    return var - mom, mg, ms, mom


def _ftrl(attrs, var, accum, linear, grad, lr, l1, l2, lr_power):
    accum_new = accum + grad * grad
    linear = linear + grad - (accum_new ** -lr_power - accum ** -lr_power) / lr * var
    quadratic = 1 / (accum_new ** lr_power * lr) + 2 * l2
    shrunk = (np.sign(linear) * l1 - linear) / quadratic
    var = np.where(np.abs(linear) > l1, shrunk, np.zeros_like(shrunk))
    return var, accum_new, linear


# ---- shapes --------------------------------------------------------------------------------
def _shape_fn(num_refs, scalars, sparse, grad_name="grad"):
    def shape(op):
        by_name = {a.name: t.get_shape() for a, t in zip(op.op_def.inputs, op.inputs)}
        var = op.inputs[0].get_shape()
        for a, t in list(zip(op.op_def.inputs, op.inputs))[1:num_refs]:
            if not var.is_compatible_with(t.get_shape()):
                raise ValueError(f"{op.type}: var and {a.name} must have the same shape, got "
                                 f"var {var} and {a.name} {t.get_shape()}")
            var = var.merge_with(t.get_shape())
        for n in scalars:
            if by_name[n].ndims not in (None, 0):
                raise ValueError(f"{op.type}: {n} must be a scalar, got shape {by_name[n]}")
        grad = by_name[grad_name]
        if sparse:
            return _sparse_shape(op, var, grad, by_name["indices"])
        if not var.is_compatible_with(grad):
            raise ValueError(f"{op.type}: var and {grad_name} must have the same shape, got "
                             f"var {var} and {grad_name} {grad}")
        return var.merge_with(grad)
    return shape


def _sparse_shape(op, var, grad, indices):
    if indices.ndims not in (None, 1):
        raise ValueError(f"{op.type}: indices must be a vector, got shape {indices}")
    if var.ndims is not None and grad.ndims is not None:
        if var.ndims == 0 or grad.ndims != var.ndims or \
                not var[1:].is_compatible_with(grad[1:]) or \
                (indices.ndims is not None and not grad[:1].is_compatible_with(indices)):
            raise ValueError(f"{op.type}: grad must have shape [len(indices)] + var.shape[1:]; "
                             f"got var {var}, grad {grad}, indices {indices}")
    return var


# ---- kernels -------------------------------------------------------------------------------
def _store(refs, arrays):
    for ref, new in zip(refs, arrays):
        ref.value = np.asarray(new, dtype=ref.value.dtype)


def _dense_kernel(rule, num_refs, grad_index, in_place=None):
    """The kernel of a dense Apply op; `in_place(attrs, *values)`, if given, updates the
    buffers itself (used when every buffer is a writable float array of the var's dtype)."""
    def kernel(ctx, *inputs):
        refs = inputs[:num_refs]
        with refs[0].lock:
            values = [r.get() for r in refs] + list(inputs[num_refs:])
            if np.shape(values[grad_index]) != values[0].shape:
                raise errors.InvalidArgumentError(
                    None, None, f"{ctx.op.type}: var and grad do not have the same shape "
                                f"{list(values[0].shape)} {list(np.shape(values[grad_index]))}")
            if in_place is not None and _writable_floats(values[:num_refs]):
                in_place(ctx.attrs, *values)
            else:
                _store(refs, rule(ctx.attrs, *values))
        return refs[0]
    return kernel


def _writable_floats(arrays):
    dtype = arrays[0].dtype
    return dtype.kind == "f" and all(a.dtype == dtype and a.ndim and a.flags.writeable
                                     and a.flags.c_contiguous for a in arrays)


def _sparse_kernel(rule, num_refs, dense_names):
    def kernel(ctx, *inputs):
        refs = inputs[:num_refs]
        by_name = dict(zip([a.name for a in ctx.op.op_def.inputs], inputs))
        with refs[0].lock:
            arrays = [r.get() for r in refs]  # updated in place, row by row
            indices = _checked_indices(ctx, arrays[0], by_name)
            grad = np.asarray(by_name["grad"])
            if len(np.unique(indices)) == len(indices):
                groups = [(indices, grad)]
            else:  # a repeated index is updated once per occurrence, in order
                groups = [(indices[k:k + 1], grad[k:k + 1]) for k in range(len(indices))]
            for rows, grad_rows in groups:
                args = dict(by_name, grad=grad_rows)
                args.update(zip(dense_names[:num_refs], (a[rows] for a in arrays)))
                for a, n in zip(arrays, rule(ctx.attrs, *[args[n] for n in dense_names])):
                    a[rows] = n
        return refs[0]
    return kernel


def _checked_indices(ctx, var, by_name):
    if var.ndim == 0:
        raise errors.InvalidArgumentError(None, None, f"{ctx.op.type}: var must be at least 1-D")
    indices = state_ops.check_indices(f"{ctx.op.type} '{ctx.op.name}'", by_name["indices"],
                                      var.shape[0])
    grad_shape = np.shape(by_name["grad"])
    if grad_shape != indices.shape + var.shape[1:]:
        raise errors.InvalidArgumentError(
            None, None, f"{ctx.op.type}: grad must have shape [len(indices)] + var.shape[1:] "
                        f"= {list(indices.shape + var.shape[1:])}, got {list(grad_shape)}")
    return indices


def _register(name, inputs, num_refs, scalars, rule, extra_attrs=None, grad_name="grad",
              in_place=None):
    """Registers dense op `name`; returns its OpDef."""
    attrs = {"T": common.NUMBERS, "use_locking": False}
    attrs.update(extra_attrs or {})
    specs = [f"{n}: Ref(T)" for n in inputs[:num_refs]] + [f"{n}: T" for n in inputs[num_refs:]]
    op_def = registry.register_op(name, inputs=specs, outputs=["out: Ref(T)"], attrs=attrs,
                                  stateful=True)
    op_def.shape(_shape_fn(num_refs, scalars, sparse=False, grad_name=grad_name))
    op_def.not_differentiable()
    op_def.kernel("CPU")(_dense_kernel(rule, num_refs, inputs.index(grad_name), in_place))
    return op_def


def _register_sparse(name, inputs, num_refs, scalars, rule, dense_inputs, extra_attrs=None):
    """Registers SparseApply op `name` (inputs include `indices: Tindices`)."""
    attrs = {"T": common.NUMBERS, "Tindices": common.INDEX, "use_locking": False}
    attrs.update(extra_attrs or {})
    specs = [f"{n}: Ref(T)" if i < num_refs else ("indices: Tindices" if n == "indices"
                                                   else f"{n}: T")
             for i, n in enumerate(inputs)]
    op_def = registry.register_op(name, inputs=specs, outputs=["out: Ref(T)"], attrs=attrs,
                                  stateful=True)
    op_def.shape(_shape_fn(num_refs, scalars, sparse=True))
    op_def.not_differentiable()
    op_def.kernel("CPU")(_sparse_kernel(rule, num_refs, dense_inputs))
    return op_def


_NESTEROV = {"use_nesterov": False}
_MOMENTUM_IN = ["var", "accum", "lr", "grad", "momentum"]
_ADAGRAD_IN = ["var", "accum", "lr", "grad"]
_ADADELTA_IN = ["var", "accum", "accum_update", "lr", "rho", "epsilon", "grad"]
_ADAM_IN = ["var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon",
            "grad"]
_RMSPROP_IN = ["var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"]
_CENTERED_RMSPROP_IN = ["var", "mg", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"]
_FTRL_IN = ["var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power"]

ApplyGradientDescent = _register("ApplyGradientDescent", ["var", "alpha", "delta"], 1,
                                 ["alpha"], _gradient_descent, grad_name="delta",
                                 in_place=_gradient_descent_in_place)
ApplyMomentum = _register("ApplyMomentum", _MOMENTUM_IN, 2, ["lr", "momentum"], _momentum,
                          _NESTEROV, in_place=_momentum_in_place)
ApplyAdagrad = _register("ApplyAdagrad", _ADAGRAD_IN, 2, ["lr"], _adagrad)
ApplyAdadelta = _register("ApplyAdadelta", _ADADELTA_IN, 3, ["lr", "rho", "epsilon"], _adadelta)
ApplyAdam = _register("ApplyAdam", _ADAM_IN, 3,
                      ["beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"], _adam,
                      _NESTEROV, in_place=_adam_in_place)
ApplyRMSProp = _register("ApplyRMSProp", _RMSPROP_IN, 3, ["lr", "rho", "momentum", "epsilon"],
                         _rms_prop)
ApplyCenteredRMSProp = _register("ApplyCenteredRMSProp", _CENTERED_RMSPROP_IN, 4,
                                 ["lr", "rho", "momentum", "epsilon"], _centered_rms_prop)
ApplyFtrl = _register("ApplyFtrl", _FTRL_IN, 3, ["lr", "l1", "l2", "lr_power"], _ftrl)

SparseApplyMomentum = _register_sparse(
    "SparseApplyMomentum", ["var", "accum", "lr", "grad", "indices", "momentum"], 2,
    ["lr", "momentum"], _momentum, _MOMENTUM_IN, _NESTEROV)
SparseApplyAdagrad = _register_sparse(
    "SparseApplyAdagrad", ["var", "accum", "lr", "grad", "indices"], 2, ["lr"], _adagrad,
    _ADAGRAD_IN)
SparseApplyAdadelta = _register_sparse(
    "SparseApplyAdadelta", _ADADELTA_IN + ["indices"], 3, ["lr", "rho", "epsilon"], _adadelta,
    _ADADELTA_IN)
SparseApplyRMSProp = _register_sparse(
    "SparseApplyRMSProp", _RMSPROP_IN + ["indices"], 3, ["lr", "rho", "momentum", "epsilon"],
    _rms_prop, _RMSPROP_IN)
SparseApplyCenteredRMSProp = _register_sparse(
    "SparseApplyCenteredRMSProp", _CENTERED_RMSPROP_IN + ["indices"], 4,
    ["lr", "rho", "momentum", "epsilon"], _centered_rms_prop, _CENTERED_RMSPROP_IN)
SparseApplyFtrl = _register_sparse(
    "SparseApplyFtrl", ["var", "accum", "linear", "grad", "indices", "lr", "l1", "l2",
                        "lr_power"], 3, ["lr", "l1", "l2", "lr_power"], _ftrl, _FTRL_IN)


# ---- Python wrappers (TensorFlow's gen_training_ops signatures) ----------------------------
def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None):
    """var -= alpha * delta."""
    return apply_op("ApplyGradientDescent", var, alpha, delta, use_locking=use_locking,
                    name=name)


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, name=None,
                   use_nesterov=False):
    """accum = accum * momentum + grad; var -= lr * accum (or the Nesterov form)."""
    return apply_op("ApplyMomentum", var, accum, lr, grad, momentum, use_locking=use_locking,
                    use_nesterov=use_nesterov, name=name)


def sparse_apply_momentum(var, accum, lr, grad, indices, momentum, use_locking=False,
                          name=None, use_nesterov=False):
    """ApplyMomentum on the rows `indices` of var and accum."""
    return apply_op("SparseApplyMomentum", var, accum, lr, grad, indices, momentum,
                    use_locking=use_locking, use_nesterov=use_nesterov, name=name)


def apply_adagrad(var, accum, lr, grad, use_locking=False, name=None):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""
    return apply_op("ApplyAdagrad", var, accum, lr, grad, use_locking=use_locking, name=name)


def sparse_apply_adagrad(var, accum, lr, grad, indices, use_locking=False, name=None):
    """ApplyAdagrad on the rows `indices`."""
    return apply_op("SparseApplyAdagrad", var, accum, lr, grad, indices,
                    use_locking=use_locking, name=name)


def apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, use_locking=False,
                   name=None):
    """The Adadelta update of var, accum and accum_update."""
    return apply_op("ApplyAdadelta", var, accum, accum_update, lr, rho, epsilon, grad,
                    use_locking=use_locking, name=name)


def sparse_apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, indices,
                          use_locking=False, name=None):
    """ApplyAdadelta on the rows `indices`."""
    return apply_op("SparseApplyAdadelta", var, accum, accum_update, lr, rho, epsilon, grad,
                    indices, use_locking=use_locking, name=name)


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_locking=False, name=None, use_nesterov=False):
    """The Adam update of var, m and v."""
    return apply_op("ApplyAdam", var, m, v, beta1_power, beta2_power, lr, beta1, beta2,
                    epsilon, grad, use_locking=use_locking, use_nesterov=use_nesterov,
                    name=name)


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                   name=None):
    """The RMSProp update of var, ms and mom."""
    return apply_op("ApplyRMSProp", var, ms, mom, lr, rho, momentum, epsilon, grad,
                    use_locking=use_locking, name=name)


def sparse_apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                          use_locking=False, name=None):
    """ApplyRMSProp on the rows `indices`."""
    return apply_op("SparseApplyRMSProp", var, ms, mom, lr, rho, momentum, epsilon, grad,
                    indices, use_locking=use_locking, name=name)


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                            use_locking=False, name=None):
    """RMSProp normalised by the variance (ms - mg^2) instead of the second moment."""
    return apply_op("ApplyCenteredRMSProp", var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                    use_locking=use_locking, name=name)


def sparse_apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                                   use_locking=False, name=None):
    """ApplyCenteredRMSProp on the rows `indices`."""
    return apply_op("SparseApplyCenteredRMSProp", var, mg, ms, mom, lr, rho, momentum, epsilon,
                    grad, indices, use_locking=use_locking, name=name)


def apply_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, use_locking=False, name=None):
    """The FTRL-proximal update of var, accum and linear."""
    return apply_op("ApplyFtrl", var, accum, linear, grad, lr, l1, l2, lr_power,
                    use_locking=use_locking, name=name)


def sparse_apply_ftrl(var, accum, linear, grad, indices, lr, l1, l2, lr_power,
                      use_locking=False, name=None):
    """ApplyFtrl on the rows `indices`."""
    return apply_op("SparseApplyFtrl", var, accum, linear, grad, indices, lr, l1, l2,
                    lr_power, use_locking=use_locking, name=name)
