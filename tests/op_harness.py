"""The op harness: one entry per op, three checks each.

For every OpSpec the harness checks, through Session.run:
  1. forward: the op's output against the NumPy reference, for each dtype and shape case,
     with the output dtype the op declares;
  2. shapes: the static shape inferred at graph-build time against the actual shape (equal when
     the inputs' shapes are fully known), and again with inputs fed through placeholders of
     unknown shape (static shape must then be compatible);
  3. gradient (if the op is differentiable): the symbolic gradient of <u, f(x)> against central
     differences in float64 — the full Jacobian for small inputs, a random projection
     <u, J v> otherwise (as HIPS autograd's check_vjp does).

Spec fields:
  op       op type name(s) this spec covers (str or tuple), for the completeness test
  fn       builds the op from input tensors: fn(*tensors) -> tensor (or list of tensors)
  ref      NumPy reference: ref(*arrays) -> array (or list)
  shapes   list of cases; each case is a tuple of input shapes (use () for scalars)
  dtypes   dtypes for the forward check
  inputs   value generator (rng, shape, dtype) -> array, or a list of them per input
  grad     indices of inputs to differentiate (default: all float inputs); () for none
  tol      {dtype: tolerance}; defaults by dtype
  check    optional extra function(spec) for behaviour the generic checks cannot express
"""
import dataclasses

import numpy as np

import tensorflux as tf
from tensorflux.framework.ops import IndexedSlicesValue

DEFAULT_TOL = {tf.float16: 1e-2, tf.bfloat16: 5e-2, tf.float32: 1e-5, tf.float64: 1e-10}


@dataclasses.dataclass
class OpSpec:
    op: object
    fn: object
    ref: object
    shapes: list
    dtypes: list = dataclasses.field(default_factory=lambda: [tf.float32, tf.float64])
    inputs: object = None
    grad: object = None
    tol: dict = dataclasses.field(default_factory=dict)
    grad_tol: float = 1e-6
    check: object = None
    name: str = ""

    @property
    def op_types(self):
        return (self.op,) if isinstance(self.op, str) else tuple(self.op)

    def __str__(self):
        return self.name or "/".join(self.op_types)


def uniform(rng, shape, dtype):
    """Values in [-1, 1) (integers in [-5, 5))."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_integer:
        low = 0 if dtype.is_unsigned else -5
        return rng.integers(low, 5, size=shape).astype(dtype.as_numpy_dtype)
    if dtype == tf.bool:
        return rng.random(shape) > 0.5
    return rng.uniform(-1, 1, size=shape).astype(dtype.as_numpy_dtype)


def positive(rng, shape, dtype):
    """Values in [0.5, 2) (integers in [1, 5))."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_integer:
        return rng.integers(1, 5, size=shape).astype(dtype.as_numpy_dtype)
    return rng.uniform(0.5, 2.0, size=shape).astype(dtype.as_numpy_dtype)


def away_from_zero(rng, shape, dtype):
    """Values in ±[0.5, 1.5): keeps kinks (abs, sign, relu, max) out of finite differences."""
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x.astype(tf.as_dtype(dtype).as_numpy_dtype)


def distinct(rng, shape, dtype):
    """A shuffled range scaled into (-1, 1): no ties (for max/min/top-k and their gradients)."""
    n = int(np.prod(shape, dtype=np.int64))
    x = (rng.permutation(n) - n / 2.0) / max(n, 1)
    return x.reshape(shape).astype(tf.as_dtype(dtype).as_numpy_dtype)


def _generators(spec, n):
    gen = spec.inputs or uniform
    return list(gen) if isinstance(gen, (list, tuple)) else [gen] * n


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _input_dtype(dtype, gen_dtype):
    return gen_dtype if gen_dtype is not None else dtype


def _make_inputs(spec, case, dtype, rng):
    gens = _generators(spec, len(case))
    values = []
    for gen, shape in zip(gens, case):
        in_dtype = getattr(gen, "dtype", None) or dtype
        values.append(np.asarray(gen(rng, shape, in_dtype)))
    return values


def check_forward_and_shapes(spec):
    rng = np.random.default_rng(0)
    for dtype in spec.dtypes:
        for case in spec.shapes:
            values = _make_inputs(spec, case, dtype, rng)
            _check_case(spec, dtype, values, static=True)
            _check_case(spec, dtype, values, static=False)


def _check_case(spec, dtype, values, static):
    graph = tf.Graph()
    with graph.as_default():
        if static:
            holders = [tf.placeholder(tf.as_dtype(v.dtype) if v.dtype != object else tf.string,
                                      v.shape) for v in values]
        else:
            holders = [tf.placeholder(tf.as_dtype(v.dtype) if v.dtype != object else tf.string)
                       for v in values]
        outs = _as_list(spec.fn(*holders))
        with tf.Session(graph=graph) as sess:
            got = sess.run(outs, dict(zip(holders, values)))
    want = _as_list(spec.ref(*values))
    assert len(got) == len(want), f"{spec}: {len(got)} outputs, reference has {len(want)}"
    tol = spec.tol.get(dtype, DEFAULT_TOL.get(dtype, 0))
    for i, (t, g, w) in enumerate(zip(outs, got, want)):
        g = np.asarray(g, dtype=object) if isinstance(g, bytes) else np.asarray(g)
        where = (f"{spec} output {i} dtype={tf.as_dtype(dtype).name} "
                 f"shapes={[v.shape for v in values]}")
        assert g.dtype == t.dtype.base_dtype.as_numpy_dtype, (
            f"{where}: kernel returned {g.dtype}, op declares {t.dtype.base_dtype.name}")
        w = np.asarray(w)
        assert g.shape == w.shape, f"{where}: shape {g.shape}, reference {w.shape}"
        if g.dtype == object or g.dtype.kind in "biuSU":
            np.testing.assert_array_equal(g, w, err_msg=where)
        else:
            np.testing.assert_allclose(g.astype(np.float64) if g.dtype.kind != "c" else g,
                                       np.asarray(w, dtype=g.dtype).astype(
                                           np.float64 if g.dtype.kind != "c" else g.dtype),
                                       rtol=tol, atol=tol, err_msg=where)
        static_shape = t.get_shape()
        assert static_shape.is_compatible_with(g.shape), (
            f"{where}: static shape {static_shape} incompatible with actual {g.shape}")
        if static:
            assert static_shape.is_fully_defined() and static_shape.as_list() == list(g.shape), (
                f"{where}: static shape {static_shape} with fully known inputs, actual {g.shape}")


def check_gradient(spec):
    """Symbolic vs numeric gradient in float64, for the inputs listed in spec.grad."""
    op_types = spec.op_types
    from tensorflux.framework import registry
    if all(registry.get_op_def(t).differentiable is False for t in op_types):
        return
    rng = np.random.default_rng(1)
    for case in spec.shapes:
        values = _make_inputs(spec, case, tf.float64, rng)
        wrt = spec.grad
        if wrt is None:
            wrt = [i for i, v in enumerate(values) if v.dtype == np.float64]
        if not wrt:
            continue
        _check_case_gradient(spec, values, wrt, rng)


def _check_case_gradient(spec, values, wrt, rng):
    graph = tf.Graph()
    with graph.as_default():
        holders = [tf.placeholder(tf.as_dtype(v.dtype), v.shape) for v in values]
        outs = [o for o in _as_list(spec.fn(*holders)) if o.dtype.base_dtype == tf.float64]
        assert outs, f"{spec}: no float64 output to differentiate"
        us = [tf.placeholder(tf.float64, o.get_shape()) for o in outs]
        objective = tf.add_n([tf.reduce_sum(o * u) for o, u in zip(outs, us)])
        grads = tf.gradients(objective, [holders[i] for i in wrt])
        sess = tf.Session(graph=graph)
        feed = dict(zip(holders, values))
        u_vals = [rng.standard_normal(sess.run(o, feed).shape) for o in outs]
        feed.update(zip(us, u_vals))
        for i, g in zip(wrt, grads):
            assert g is not None, f"{spec}: gradient w.r.t. input {i} is None"
            symbolic = sess.run(g, feed)
            if isinstance(symbolic, IndexedSlicesValue):
                symbolic = _densify(symbolic, values[i].shape)
            kind, *numeric = _numeric_grad(sess, objective, feed, holders[i], values[i], rng)
            if kind == "full":
                np.testing.assert_allclose(symbolic, numeric[0], rtol=1e-5, atol=spec.grad_tol,
                                           err_msg=f"{spec}: gradient w.r.t. input {i}")
            else:  # projected check: numeric holds (v, <grad, v>)
                v, dv = numeric
                np.testing.assert_allclose(np.sum(symbolic * v), dv, rtol=1e-5,
                                           atol=spec.grad_tol,
                                           err_msg=f"{spec}: projected gradient input {i}")
        sess.close()


def _densify(slices, shape):
    dense = np.zeros(shape)
    np.add.at(dense, slices.indices, slices.values)
    return dense


def _numeric_grad(sess, objective, feed, holder, value, rng, eps=1e-6):
    base = dict(feed)

    def f(x):
        base[holder] = x
        return float(sess.run(objective, base))
    if value.size <= 64:
        grad = np.zeros(value.shape)
        flat = grad.reshape(-1)
        for k in range(value.size):
            d = np.zeros(value.size)
            d[k] = eps
            d = d.reshape(value.shape)
            flat[k] = (f(value + d) - f(value - d)) / (2 * eps)
        return "full", grad
    v = rng.standard_normal(value.shape)
    return "projected", v, (f(value + eps * v) - f(value - eps * v)) / (2 * eps)


def run_spec(spec):
    """All checks for one spec."""
    check_forward_and_shapes(spec)
    check_gradient(spec)
    if spec.check is not None:
        spec.check(spec)


def run_in_session(fetches, feed_dict=None):
    """Runs `fetches` once in a fresh session on the default graph."""
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)
