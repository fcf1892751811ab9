"""The op harness: one entry per op, three checks each.

For every OpSpec the harness checks, through Session.run:
  1. forward: the op's output against the NumPy reference, for each dtype and shape case,
     with the output dtype the op declares;
  2. shapes: the static shape inferred at graph-build time against the actual shape (equal when
     the inputs' shapes are fully known; compatible only for a spec with
     data_dependent_shape, such as Where, whose output size TF leaves unknown), and again with
     inputs fed through placeholders of unknown shape (static shape must then be compatible);
  3. gradient (if the op is differentiable): the symbolic gradient of <u, f(x)> against central
     differences in float64 — the full Jacobian for small inputs, a random projection
     <u, J v> otherwise (as HIPS autograd's check_vjp does) — and in complex128 when the spec's
     dtypes include a complex type (TensorFlow's convention: the gradient of a real loss L
     w.r.t. z = x + iy is dL/dx + i dL/dy, i.e. conj(f'(z)) * upstream for holomorphic f).

float16 and bfloat16 cases compute the reference in float32 and compare with a loose tolerance
(as TensorFlow's own tests do); the output dtype must still be the declared half type.
`exercised(spec)` builds the same graphs without running them and reports, per op type, the
attr values (dtypes, data_format, transpose flags, axis signs) the spec exercises:
tests/test_registry.py checks every declared dtype class and layout attr is covered.

Spec fields:
  op       op type name(s) this spec covers (str or tuple), for the completeness test
  fn       builds the op from input tensors: fn(*tensors) -> tensor (or list of tensors)
  ref      NumPy reference: ref(*arrays) -> array (or list)
  shapes   list of cases; each case is a tuple of input shapes (use () for scalars)
  dtypes   dtypes for the forward check; by default float32 and float64 plus one of each other
           class the op's T attr declares (float16, bfloat16, complex64, int32)
  inputs   value generator (rng, shape, dtype) -> array, or a list of them per input
  grad     indices of inputs to differentiate (default: all float inputs); () for none
  tol      {dtype: tolerance}; defaults by dtype
  complex_grad  check the complex128 gradient when dtypes include a complex type (default True;
           False for ops TensorFlow does not differentiate in complex)
  check    optional extra function(spec) for behaviour the generic checks cannot express
"""
import dataclasses

import numpy as np

import tensorflux as tf
from tensorflux.framework import tensor_util
from tensorflux.framework.ops import IndexedSlicesValue

DEFAULT_TOL = {tf.float16: 1e-2, tf.bfloat16: 5e-2, tf.float32: 1e-5, tf.float64: 1e-10,
               tf.complex64: 1e-5, tf.complex128: 1e-10}
HALF = (tf.float16, tf.bfloat16)


@dataclasses.dataclass
class OpSpec:
    op: object
    fn: object
    ref: object
    shapes: list
    dtypes: list = None
    inputs: object = None
    grad: object = None
    tol: dict = dataclasses.field(default_factory=dict)
    grad_tol: float = 1e-6
    complex_grad: bool = True
    check: object = None
    name: str = ""
    data_dependent_shape: bool = False

    def __post_init__(self):
        if self.dtypes is None:
            self.dtypes = declared_dtypes(self.op_types[0])

    @property
    def op_types(self):
        return (self.op,) if isinstance(self.op, str) else tuple(self.op)

    def __str__(self):
        return self.name or "/".join(self.op_types)


_CLASS_REPRESENTATIVES = (tf.float16, tf.bfloat16, tf.complex64, tf.int32)


def declared_dtypes(op_type):
    """float32, float64 and a representative of each other dtype class `op_type`'s T declares."""
    from tensorflux.framework import registry
    decl = registry.get_op_def(op_type).attrs.get("T")
    allowed = set(decl.allowed or ()) if decl is not None else set()
    extra = [d for d in _CLASS_REPRESENTATIVES
             if d in allowed or (d == tf.int32 and any(a.is_integer for a in allowed))]
    return [tf.float32, tf.float64] + [d for d in extra if allowed]


def _cast(x, dtype):
    return np.asarray(x).astype(tf.as_dtype(dtype).as_numpy_dtype)


def _complex(rng, real, shape, dtype):
    """`real` plus an imaginary part in [-1, 1): complex inputs for generators made for reals."""
    return _cast(real + 1j * rng.uniform(-1, 1, size=shape), dtype)


def uniform(rng, shape, dtype):
    """Values in [-1, 1) (integers in [-5, 5); complex: both parts in [-1, 1))."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_integer:
        low = 0 if dtype.is_unsigned else -5
        return rng.integers(low, 5, size=shape).astype(dtype.as_numpy_dtype)
    if dtype == tf.bool:
        return rng.random(shape) > 0.5
    if dtype == tf.string:
        return rng.choice(np.array([b"a", b"bc", b""], dtype=object), size=shape)
    real = rng.uniform(-1, 1, size=shape)
    return _complex(rng, real, shape, dtype) if dtype.is_complex else _cast(real, dtype)


def positive(rng, shape, dtype):
    """Values in [0.5, 2) (integers in [1, 5); complex: real part in [0.5, 2))."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_integer:
        return rng.integers(1, 5, size=shape).astype(dtype.as_numpy_dtype)
    real = rng.uniform(0.5, 2.0, size=shape)
    return _complex(rng, real, shape, dtype) if dtype.is_complex else _cast(real, dtype)


def away_from_zero(rng, shape, dtype):
    """Values in ±[0.5, 1.5): keeps kinks (abs, sign, relu, max) out of finite differences
    (integers in ±{1, 2, 3}; complex: real part so, imaginary part in [-1, 1))."""
    dtype = tf.as_dtype(dtype)
    if dtype.is_integer:
        return rng.choice([-3, -2, -1, 1, 2, 3], size=shape).astype(dtype.as_numpy_dtype)
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return _complex(rng, x, shape, dtype) if dtype.is_complex else _cast(x, dtype)


def distinct(rng, shape, dtype):
    """A shuffled range scaled into (-1, 1): no ties (for max/min/top-k and their gradients);
    integers: the shuffled range itself; exact in float16 for up to 2048 elements."""
    n = int(np.prod(shape, dtype=np.int64))
    if tf.as_dtype(dtype).is_integer:
        return _cast((rng.permutation(n) - n // 2).reshape(shape), dtype)
    x = (rng.permutation(n) - n // 2) / 2.0 ** np.ceil(np.log2(max(n, 1)))
    return _cast(x.reshape(shape), dtype)


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


def _placeholder_dtype(value):
    return tf.as_dtype(value.dtype) if value.dtype != object else tf.string


def _build_forward(spec, values, static):
    """The forward graph of one case: placeholders (of known or unknown shape) and outputs."""
    holders = [tf.placeholder(_placeholder_dtype(v), v.shape if static else None)
               for v in values]
    return holders, _as_list(spec.fn(*holders))


def _reference(spec, values):
    """NumPy's answer, computed in float32 for half types (NumPy's float16 arithmetic differs
    from a kernel's in rounding order; TF's tests compare half results the same way)."""
    wide = [v.astype(np.float32) if v.dtype in HALF_NUMPY else v for v in values]
    return _as_list(spec.ref(*wide))


HALF_NUMPY = tuple(np.dtype(d.as_numpy_dtype) for d in HALF)


def _check_case(spec, dtype, values, static):
    graph = tf.Graph()
    with graph.as_default():
        holders, outs = _build_forward(spec, values, static)
        with tf.Session(graph=graph) as sess:
            got = sess.run(outs, dict(zip(holders, values)))
    want = _reference(spec, values)
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
        _assert_values(g, w, tol, where)
        static_shape = t.get_shape()
        assert static_shape.is_compatible_with(g.shape), (
            f"{where}: static shape {static_shape} incompatible with actual {g.shape}")
        if static and not spec.data_dependent_shape:
            assert static_shape.is_fully_defined() and static_shape.as_list() == list(g.shape), (
                f"{where}: static shape {static_shape} with fully known inputs, actual {g.shape}")


def _assert_values(got, want, tol, where):
    if got.dtype == object or got.dtype.kind in "biuSU":
        np.testing.assert_array_equal(got, want, err_msg=where)
        return
    wide = np.complex128 if got.dtype.kind == "c" else np.float64
    # The reference is rounded to the output's dtype first (a float32 reference of a float16
    # op is compared as float16 would store it).
    want = np.asarray(want).astype(got.dtype).astype(wide)
    np.testing.assert_allclose(got.astype(wide), want, rtol=tol, atol=tol, err_msg=where)


def _gradient_dtypes(spec):
    """float64 always; complex128 too when the spec runs a complex type (and TF has a complex
    gradient for the op)."""
    complex_run = any(tf.as_dtype(d).is_complex for d in spec.dtypes)
    return [tf.float64] + ([tf.complex128] if complex_run and spec.complex_grad else [])


def _differentiable(spec):
    from tensorflux.framework import registry
    return not all(registry.get_op_def(t).differentiable is False for t in spec.op_types)


def _gradient_cases(spec, rng):
    """(values, indices to differentiate) per gradient dtype and shape case."""
    for dtype in _gradient_dtypes(spec):
        np_dtype = dtype.as_numpy_dtype
        for case in spec.shapes:
            values = _make_inputs(spec, case, dtype, rng)
            wrt = spec.grad
            if wrt is None:
                wrt = [i for i, v in enumerate(values) if v.dtype == np_dtype]
            elif dtype.is_complex:
                wrt = [i for i in wrt if values[i].dtype == np_dtype]
            if wrt:
                yield values, wrt


def check_gradient(spec):
    """Symbolic vs numeric gradient in float64 (and complex128), for the inputs in spec.grad."""
    if not _differentiable(spec):
        return
    rng = np.random.default_rng(1)
    for values, wrt in _gradient_cases(spec, rng):
        _check_case_gradient(spec, values, wrt, rng)


def _build_gradient(spec, values, wrt):
    """<u, f(x)> summed over the differentiable outputs, its gradients and the u placeholders.
    With complex outputs the objective is complex; its real part is the loss (TF's grad_ys of
    one has no imaginary part)."""
    holders = [tf.placeholder(tf.as_dtype(v.dtype), v.shape) for v in values]
    outs = [o for o in _as_list(spec.fn(*holders))
            if o.dtype.base_dtype in (tf.float64, tf.complex128)]
    assert outs, f"{spec}: no float64 or complex128 output to differentiate"
    us = [tf.placeholder(o.dtype.base_dtype, o.get_shape()) for o in outs]
    terms = [tf.reduce_sum(o * u) for o, u in zip(outs, us)]
    if any(t.dtype.base_dtype == tf.complex128 for t in terms):
        terms = [tf.cast(t, tf.complex128) for t in terms]
    objective = tf.add_n(terms)
    grads = tf.gradients(objective, [holders[i] for i in wrt])
    return holders, outs, us, objective, grads


def _check_case_gradient(spec, values, wrt, rng):
    graph = tf.Graph()
    with graph.as_default():
        holders, outs, us, objective, grads = _build_gradient(spec, values, wrt)
        sess = tf.Session(graph=graph)
        feed = dict(zip(holders, values))
        u_vals = [_random_like(rng, o, u.dtype.base_dtype)
                  for u, o in zip(us, sess.run(outs, feed))]
        feed.update(zip(us, u_vals))
        for i, g in zip(wrt, grads):
            assert g is not None, f"{spec}: gradient w.r.t. input {i} is None"
            symbolic = sess.run(g, feed)
            if isinstance(symbolic, IndexedSlicesValue):
                symbolic = _densify(symbolic, values[i].shape, values[i].dtype)
            kind, *numeric = _numeric_grad(sess, objective, feed, holders[i], values[i], rng)
            what = f"{spec}: {values[i].dtype} gradient w.r.t. input {i}"
            if kind == "full":
                np.testing.assert_allclose(symbolic, numeric[0], rtol=1e-5, atol=spec.grad_tol,
                                           err_msg=what)
            else:  # projected check: numeric holds (v, <grad, v>) with a real inner product
                v, dv = numeric
                np.testing.assert_allclose(np.sum(np.real(np.conj(symbolic) * v)), dv,
                                           rtol=1e-5, atol=spec.grad_tol,
                                           err_msg=f"{what} (projected)")
        sess.close()


def _random_like(rng, value, dtype):
    u = rng.standard_normal(np.shape(value))
    if dtype.is_complex:
        u = u + 1j * rng.standard_normal(np.shape(value))
    return u


def _densify(slices, shape, dtype):
    dense = np.zeros(shape, dtype)
    np.add.at(dense, slices.indices, slices.values)
    return dense


def _numeric_grad(sess, objective, feed, holder, value, rng, eps=1e-6):
    """Central differences of the real part of the objective; for complex inputs along the
    real and the imaginary direction: dL/dx + i dL/dy, TensorFlow's convention."""
    base = dict(feed)

    def f(x):
        base[holder] = x
        return float(np.real(sess.run(objective, base)))

    def derivative(d):
        return (f(value + d) - f(value - d)) / (2 * eps)
    directions = (1.0, 1j) if value.dtype.kind == "c" else (1.0,)
    if value.size <= 64:
        grad = np.zeros(value.shape, value.dtype)
        flat = grad.reshape(-1)
        for k in range(value.size):
            for unit in directions:
                d = np.zeros(value.size, value.dtype)
                d[k] = eps * unit
                flat[k] += unit * derivative(d.reshape(value.shape))
        return "full", grad
    v = rng.standard_normal(value.shape)
    if value.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(value.shape)
    return "projected", v, derivative(eps * v)


# ---- what a spec exercises (for tests/test_registry.py) ------------------------------------
FLAG_PAIRS = (("transpose_a", "transpose_b"), ("adjoint_a", "adjoint_b"), ("adj_x", "adj_y"))
AXIS_INPUTS = ("axis", "reduction_indices", "dimension", "concat_dim", "split_dim", "dim")


def exercised(spec):
    """{op type: {key: set of values}} over the graphs the spec's forward check builds (whose
    outputs are compared with NumPy; ops that only appear in gradient graphs do not count):
    each type attr's dtypes, string attrs' values (data_format, padding), transpose/adjoint
    flag pairs, keep_dims, unit or larger strides and dilations, and the signs of `axis` attrs
    and of constant axis inputs."""
    record = {}
    rng = np.random.default_rng(0)
    for dtype in spec.dtypes:
        for case in spec.shapes:
            graph = tf.Graph()
            with graph.as_default():
                _build_forward(spec, _make_inputs(spec, case, dtype, rng), static=True)
            _record_graph(graph, record)
    return record


def _record_graph(graph, record):
    from tensorflux.framework import registry
    for op in graph.get_operations():
        op_def = registry.get_op_def(op.type)
        entry = record.setdefault(op.type, {})
        for name, decl in op_def.attrs.items():
            if decl.type == "type" or decl.type == "string" or name == "keep_dims":
                entry.setdefault(name, set()).add(op.get_attr(name))
            elif name == "axis" and decl.type == "int":
                entry.setdefault(name, set()).add(_sign(op.get_attr(name)))
            elif name in ("strides", "dilations"):
                unit = all(v == 1 for v in op.get_attr(name))
                entry.setdefault(name, set()).add("unit" if unit else "non-unit")
        for pair in FLAG_PAIRS:
            if all(flag in op_def.attrs for flag in pair):
                entry.setdefault(",".join(pair), set()).add(tuple(op.get_attr(f) for f in pair))
        for arg, tensor in zip(op_def.inputs, op.inputs):
            if arg.name in AXIS_INPUTS and tensor.op.type == "Const":
                signs = {_sign(v) for v in np.ravel(tensor_util.constant_value(tensor))}
                entry.setdefault(f"input:{arg.name}", set()).update(signs)


def _sign(value):
    return "negative" if value < 0 else "non-negative"


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
