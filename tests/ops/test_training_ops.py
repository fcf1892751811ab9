"""Harness entries for the Apply*/SparseApply* training ops, against NumPy versions of
TensorFlow's documented update rules."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.ops import state_ops
from tensorflux.training import training_ops as tops


def fresh(x):
    var = state_ops.variable_op(x.get_shape(), x.dtype.base_dtype)
    return state_ops.assign(var, x, validate_shape=False)


def between(lo, hi):
    def gen(rng, shape, dtype):
        return rng.uniform(lo, hi, size=shape).astype(tf.as_dtype(dtype).as_numpy_dtype)
    return gen


def indices_of(n):
    def gen(rng, shape, dtype):
        size = int(np.prod(shape, dtype=np.int64))
        return rng.permutation(n)[:size].reshape(shape).astype(np.int32)
    gen.dtype = tf.int32
    return gen


U = between(-1, 1)
POS = between(0.5, 2)
FRAC = between(0.1, 0.9)
TOL = {tf.float32: 1e-4}


# ---- NumPy reference rules (from TensorFlow's op documentation) ----------------------------
def np_gd(var, alpha, delta):
    return var - alpha * delta


def np_momentum(var, accum, lr, grad, momentum, nesterov=False):
    accum = accum * momentum + grad
    if nesterov:
        var = var - lr * grad - lr * momentum * accum
    else:
        var = var - lr * accum
    return var, accum


def np_adagrad(var, accum, lr, grad):
    accum = accum + grad ** 2
    return var - lr * grad / np.sqrt(accum), accum


def np_adadelta(var, accum, accum_update, lr, rho, eps, grad):
    accum = rho * accum + (1 - rho) * grad ** 2
    update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * grad
    accum_update = rho * accum_update + (1 - rho) * update ** 2
    return var - lr * update, accum, accum_update


def np_adam(var, m, v, b1p, b2p, lr, b1, b2, eps, grad, nesterov=False):
    lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    step = b1 * m + (1 - b1) * grad if nesterov else m
    return var - lr_t * step / (np.sqrt(v) + eps), m, v


def np_rmsprop(var, ms, mom, lr, rho, momentum, eps, grad):
    ms = rho * ms + (1 - rho) * grad ** 2
    mom = momentum * mom + lr * grad / np.sqrt(ms + eps)
    return var - mom, ms, mom


def np_centered_rmsprop(var, mg, ms, mom, lr, rho, momentum, eps, grad):
    mg = rho * mg + (1 - rho) * grad
    ms = rho * ms + (1 - rho) * grad ** 2
    mom = momentum * mom + lr * grad / np.sqrt(ms - mg ** 2 + eps)
    return var - mom, mg, ms, mom


def np_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power):
    new_accum = accum + grad ** 2
    linear = linear + grad - (new_accum ** -lr_power - accum ** -lr_power) / lr * var
    quadratic = 1.0 / (new_accum ** lr_power * lr) + 2 * l2
    var = np.where(np.abs(linear) > l1, (np.sign(linear) * l1 - linear) / quadratic, 0.0)
    return var, new_accum, linear


def sparse_ref(rule, num_refs, grad_pos):
    """The dense rule applied to rows `indices` (inputs: dense order + indices last)."""
    def ref(*args):
        *dense, indices = args
        outs = [np.array(a, copy=True) for a in dense[:num_refs]]
        rows_in = [a[indices] for a in outs] + list(dense[num_refs:])
        new = rule(*rows_in)
        new = new if isinstance(new, tuple) else (new,)
        for o, n in zip(outs, new):
            o[indices] = n
        return outs
    return ref


def _dense_fn(wrapper, num_refs, **attrs):
    def fn(*xs):
        refs = [fresh(x) for x in xs[:num_refs]]
        out = wrapper(*refs, *xs[num_refs:], **attrs)
        return [out] + refs[1:]
    return fn


def _sparse_fn(wrapper, num_refs, order, **attrs):
    """Inputs arrive in dense order + indices; `order` permutes them into the op's order."""
    def fn(*xs):
        refs = [fresh(x) for x in xs[:num_refs]]
        args = list(refs) + list(xs[num_refs:])
        out = wrapper(*[args[i] for i in order], **attrs)
        return [out] + refs[1:]
    return fn


S34 = (3, 4)
SPECS = [
    OpSpec("ApplyGradientDescent", _dense_fn(tops.apply_gradient_descent, 1), np_gd,
           [(S34, (), S34), ((), (), ())], inputs=[U, POS, U], tol=TOL),
    OpSpec("ApplyMomentum", _dense_fn(tops.apply_momentum, 2),
           lambda *a: list(np_momentum(*a)), [(S34, S34, (), S34, ()), ((),) * 5],
           inputs=[U, U, POS, U, FRAC], tol=TOL),
    OpSpec("ApplyMomentum", _dense_fn(tops.apply_momentum, 2, use_nesterov=True),
           lambda *a: list(np_momentum(*a, nesterov=True)), [(S34, S34, (), S34, ())],
           inputs=[U, U, POS, U, FRAC], tol=TOL, name="ApplyMomentum_nesterov"),
    OpSpec("ApplyAdagrad", _dense_fn(tops.apply_adagrad, 2), lambda *a: list(np_adagrad(*a)),
           [(S34, S34, (), S34), ((),) * 4], inputs=[U, POS, POS, U], tol=TOL),
    OpSpec("ApplyAdadelta", _dense_fn(tops.apply_adadelta, 3),
           lambda *a: list(np_adadelta(*a)), [(S34, S34, S34, (), (), (), S34), ((),) * 7],
           inputs=[U, POS, POS, POS, FRAC, between(1e-3, 1e-2), U], tol=TOL),
    OpSpec("ApplyAdam", _dense_fn(tops.apply_adam, 3), lambda *a: list(np_adam(*a)),
           [(S34, S34, S34, (), (), (), (), (), (), S34), ((),) * 10],
           inputs=[U, U, POS, FRAC, FRAC, POS, FRAC, FRAC, between(1e-3, 1e-2), U], tol=TOL),
    OpSpec("ApplyAdam", _dense_fn(tops.apply_adam, 3, use_nesterov=True),
           lambda *a: list(np_adam(*a, nesterov=True)),
           [(S34, S34, S34, (), (), (), (), (), (), S34)],
           inputs=[U, U, POS, FRAC, FRAC, POS, FRAC, FRAC, between(1e-3, 1e-2), U], tol=TOL,
           name="ApplyAdam_nesterov"),
    OpSpec("ApplyRMSProp", _dense_fn(tops.apply_rms_prop, 3), lambda *a: list(np_rmsprop(*a)),
           [(S34, S34, S34, (), (), (), (), S34), ((),) * 8],
           inputs=[U, POS, U, POS, FRAC, FRAC, between(1e-3, 1e-2), U], tol=TOL),
    # mg in [-1, 1) and ms in [2, 3) keep ms - mg^2 positive, as running averages make it.
    OpSpec("ApplyCenteredRMSProp", _dense_fn(tops.apply_centered_rms_prop, 4),
           lambda *a: list(np_centered_rmsprop(*a)),
           [(S34, S34, S34, S34, (), (), (), (), S34), ((),) * 9],
           inputs=[U, U, between(2, 3), U, POS, FRAC, FRAC, between(1e-3, 1e-2), U], tol=TOL),
    OpSpec("ApplyFtrl", _dense_fn(tops.apply_ftrl, 3), lambda *a: list(np_ftrl(*a)),
           [(S34, S34, S34, S34, (), (), (), ()), ((),) * 8],
           inputs=[U, POS, U, U, POS, between(0, 0.5), between(0, 0.5), between(-0.9, -0.1)],
           tol=TOL),
    # Sparse ops: inputs in dense order, indices last; `order` maps to the op's argument order.
    OpSpec("SparseApplyMomentum", _sparse_fn(tops.sparse_apply_momentum, 2, [0, 1, 2, 3, 5, 4]),
           sparse_ref(np_momentum, 2, 3), [((5, 3), (5, 3), (), (2, 3), (), (2,)),
                                           ((4,), (4,), (), (4,), (), (4,))],
           inputs=[U, U, POS, U, FRAC, indices_of(4)], tol=TOL),
    OpSpec("SparseApplyMomentum",
           _sparse_fn(tops.sparse_apply_momentum, 2, [0, 1, 2, 3, 5, 4], use_nesterov=True),
           sparse_ref(lambda *a: np_momentum(*a, nesterov=True), 2, 3),
           [((5, 3), (5, 3), (), (2, 3), (), (2,))],
           inputs=[U, U, POS, U, FRAC, indices_of(5)], tol=TOL, name="SparseApplyMomentum_nag"),
    OpSpec("SparseApplyAdagrad", _sparse_fn(tops.sparse_apply_adagrad, 2, [0, 1, 2, 3, 4]),
           sparse_ref(np_adagrad, 2, 3), [((5, 3), (5, 3), (), (2, 3), (2,))],
           inputs=[U, POS, POS, U, indices_of(5)], tol=TOL),
    OpSpec("SparseApplyAdadelta",
           _sparse_fn(tops.sparse_apply_adadelta, 3, [0, 1, 2, 3, 4, 5, 6, 7]),
           sparse_ref(np_adadelta, 3, 6), [((5, 3), (5, 3), (5, 3), (), (), (), (2, 3), (2,))],
           inputs=[U, POS, POS, POS, FRAC, between(1e-3, 1e-2), U, indices_of(5)], tol=TOL),
    OpSpec("SparseApplyRMSProp",
           _sparse_fn(tops.sparse_apply_rms_prop, 3, [0, 1, 2, 3, 4, 5, 6, 7, 8]),
           sparse_ref(np_rmsprop, 3, 7),
           [((5, 3), (5, 3), (5, 3), (), (), (), (), (2, 3), (2,))],
           inputs=[U, POS, U, POS, FRAC, FRAC, between(1e-3, 1e-2), U, indices_of(5)], tol=TOL),
    OpSpec("SparseApplyCenteredRMSProp",
           _sparse_fn(tops.sparse_apply_centered_rms_prop, 4, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
           sparse_ref(np_centered_rmsprop, 4, 8),
           [((5, 3), (5, 3), (5, 3), (5, 3), (), (), (), (), (2, 3), (2,))],
           inputs=[U, U, between(2, 3), U, POS, FRAC, FRAC, between(1e-3, 1e-2), U,
                   indices_of(5)], tol=TOL),
    OpSpec("SparseApplyFtrl",
           _sparse_fn(tops.sparse_apply_ftrl, 3, [0, 1, 2, 3, 8, 4, 5, 6, 7]),
           sparse_ref(np_ftrl, 3, 3),
           [((5, 3), (5, 3), (5, 3), (2, 3), (), (), (), (), (2,))],
           inputs=[U, POS, U, U, POS, between(0, 0.5), between(0, 0.5), between(-0.9, -0.1),
                   indices_of(5)], tol=TOL),
]

# TF declares T: numbertype for these ops but registers kernels only for floating and complex
# types (tests/test_registry.py knows): integer variables are not trained.
for _spec in SPECS:
    _spec.dtypes = [d for d in _spec.dtypes if not d.is_integer]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run_sparse_adagrad(indices):
    var = tf.Variable(np.ones((3, 2), np.float32))
    acc = tf.Variable(np.full((3, 2), 0.1, np.float32))
    grad = tf.constant(np.array([[1, 2], [3, 4], [5, 6]], np.float32)[:len(indices)])
    up = tops.sparse_apply_adagrad(var, acc, tf.constant(0.5), grad,
                                   tf.constant(indices, tf.int64), use_locking=True)
    with tf.Session() as sess:
        sess.run([var.initializer, acc.initializer])
        return sess.run(up), sess.run(acc)


def test_sparse_repeated_indices_apply_in_order():
    got_var, got_acc = _run_sparse_adagrad([2, 0, 2])
    var = np.ones((3, 2))
    acc = np.full((3, 2), 0.1)
    g = np.array([[1, 2], [3, 4], [5, 6]], np.float64)
    for k, i in enumerate([2, 0, 2]):
        acc[i] += g[k] ** 2
        var[i] -= 0.5 * g[k] / np.sqrt(acc[i])
    np.testing.assert_allclose(got_var, var, rtol=1e-5)
    np.testing.assert_allclose(got_acc, acc, rtol=1e-6)


def test_sparse_bad_index_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 3 is not in"):
        _run_sparse_adagrad([0, 3])


def test_apply_shape_errors():
    var = tf.Variable(np.zeros((2, 3), np.float32))
    acc = tf.Variable(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="grad"):
        tops.apply_adagrad(var, acc, 0.1, np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="lr must be a scalar"):
        tops.apply_adagrad(var, acc, [0.1, 0.2], np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="accum"):
        tops.apply_adagrad(var, tf.Variable(np.zeros((3,), np.float32)), 0.1,
                           np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="indices"):
        tops.sparse_apply_adagrad(var, acc, 0.1, np.zeros((2, 3), np.float32), [[0, 1]])


def test_apply_ops_attrs_and_not_differentiable():
    var = tf.Variable(np.zeros((2,), np.float32))
    acc = tf.Variable(np.zeros((2,), np.float32))
    out = tops.apply_momentum(var, acc, 0.1, [1.0, 1.0], 0.9, use_locking=True,
                              use_nesterov=True)
    assert out.op.type == "ApplyMomentum"
    assert out.op.get_attr("use_locking") is True
    assert out.op.get_attr("use_nesterov") is True
    assert out.dtype == tf.float32_ref
    assert tf.gradients(tf.reduce_sum(out), [var._ref()]) == [None]


def test_apply_on_uninitialized_slot_fails():
    var = tf.Variable(np.zeros((2,), np.float32), name="w")
    acc = tf.Variable(np.zeros((2,), np.float32), name="w_acc")
    out = tops.apply_adagrad(var, acc, 0.1, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(var.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="w_acc"):
            sess.run(out)
