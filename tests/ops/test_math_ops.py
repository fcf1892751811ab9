"""Harness entries and behaviour tests for tensorflux/ops/math_ops.py."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import (
    OpSpec,
    away_from_zero,
    distinct,
    positive,
    run_spec,
    uniform,
    run_in_session as _run,
)
from tensorflux.framework.op_def_library import apply_op

F = [tf.float32, tf.float64]
FH = [tf.float32, tf.float64, tf.float16, tf.bfloat16]
FHI = FH + [tf.int32]


def fixed(gen, dtype):
    """Generator `gen` always producing `dtype` (for bool conditions, integer ids)."""
    def g(rng, shape, _):
        return gen(rng, shape, dtype)
    g.dtype = dtype
    return g


def nonzero(rng, shape, dtype):
    """Non-zero divisors: ±[0.5, 1.5) for floats, ±{1, 2, 3} for integers."""
    if tf.as_dtype(dtype).is_integer:
        values = rng.choice([-3, -2, -1, 1, 2, 3], size=shape)
        return values.astype(tf.as_dtype(dtype).as_numpy_dtype)
    return away_from_zero(rng, shape, dtype)


def shifted(rng, shape, dtype):
    """distinct() moved off its lattice, so it never ties with another distinct() input."""
    return (distinct(rng, shape, dtype) + 0.0137).astype(tf.as_dtype(dtype).as_numpy_dtype)


def scaled(rng, shape, dtype):
    return (uniform(rng, shape, dtype) * 3).astype(tf.as_dtype(dtype).as_numpy_dtype)


def specials(rng, shape, dtype):
    x = uniform(rng, shape, dtype)
    flat = x.reshape(-1)
    flat[::3] = np.inf
    flat[1::4] = np.nan
    flat[2::5] = -np.inf
    return x


def complex_values(rng, shape, dtype):
    z = rng.uniform(-1, 1, size=shape) + 1j * rng.uniform(-1, 1, size=shape)
    return z.astype(np.complex64) if dtype == tf.complex64 else z


BOOL = fixed(uniform, tf.bool)
BIN = [((3, 4), (3, 4)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), ())]
UN = [((3, 4),), ((),)]


def _div_ref(x, y):
    return np.floor_divide(x, y) if x.dtype.kind == "i" else np.true_divide(x, y)


def _select_ref(c, t, e):
    if c.ndim == 1 and t.ndim > 1:
        c = c.reshape((-1,) + (1,) * (t.ndim - 1))
    return np.where(c, t, e)


def _unary(op, fn, ref, inputs=uniform, dtypes=None, **kw):
    return OpSpec(op, fn, ref, UN, dtypes=dtypes, inputs=inputs, **kw)


def _compare(op, fn, ref, dtypes=FHI):
    return OpSpec(op, fn, ref, BIN, dtypes=dtypes)


SPECS = [
    OpSpec("Div", tf.div, _div_ref, BIN, inputs=[uniform, nonzero]),
    OpSpec("FloorDiv", tf.floordiv, np.floor_divide, BIN, dtypes=FHI, inputs=[scaled, nonzero]),
    OpSpec("FloorMod", tf.mod, np.mod, BIN, dtypes=FHI, inputs=[scaled, nonzero]),
    OpSpec("Pow", tf.pow, np.power, BIN, inputs=[positive, uniform],
           dtypes=[tf.float32, tf.float64, tf.float16, tf.bfloat16, tf.complex64]),
    OpSpec("Pow", tf.pow, np.power, BIN[:2], dtypes=[tf.int32, tf.int64], inputs=positive,
           name="Pow_int"),
    OpSpec("Maximum", tf.maximum, np.maximum, BIN, dtypes=FHI, inputs=[distinct, shifted]),
    OpSpec("Minimum", tf.minimum, np.minimum, BIN, dtypes=FHI, inputs=[distinct, shifted]),
    OpSpec("SquaredDifference", tf.squared_difference, lambda x, y: (x - y) * np.conj(x - y),
           BIN),
    _compare("Equal", tf.equal, np.equal),
    _compare("NotEqual", tf.not_equal, np.not_equal),
    OpSpec("Equal", tf.equal, np.equal, BIN[:2], dtypes=[tf.complex64, tf.bool, tf.string],
           name="Equal_complex_bool_string"),
    OpSpec("NotEqual", tf.not_equal, np.not_equal, BIN[:2],
           dtypes=[tf.complex64, tf.bool, tf.string], name="NotEqual_complex_bool_string"),
    _compare("Less", tf.less, np.less),
    _compare("LessEqual", tf.less_equal, np.less_equal),
    _compare("Greater", tf.greater, np.greater),
    _compare("GreaterEqual", tf.greater_equal, np.greater_equal),
    OpSpec("LogicalAnd", tf.logical_and, np.logical_and, BIN, dtypes=[tf.bool]),
    OpSpec("LogicalOr", tf.logical_or, np.logical_or, BIN, dtypes=[tf.bool]),
    OpSpec("LogicalNot", tf.logical_not, np.logical_not, UN, dtypes=[tf.bool]),
    OpSpec("Select", tf.select, _select_ref,
           [((3, 4), (3, 4), (3, 4)), ((3,), (3, 4), (3, 4)), ((), (2, 3), (2, 3)), ((), (), ())],
           dtypes=FHI, inputs=[BOOL, uniform, uniform], grad=(1, 2)),
    _unary("Abs", tf.abs, np.abs, away_from_zero),
    OpSpec("ComplexAbs", tf.complex_abs, np.abs, UN, dtypes=[tf.complex64, tf.complex128],
           inputs=complex_values),
    # TF's Sign gradient is zero, also for complex x (where sign is x / |x|).
    _unary("Sign", tf.sign, np.sign, away_from_zero, complex_grad=False),
    _unary("Sqrt", tf.sqrt, np.sqrt, positive),
    _unary("Rsqrt", tf.rsqrt, lambda x: 1 / np.sqrt(x), positive),
    _unary("Reciprocal", tf.reciprocal, np.reciprocal, positive),
    _unary("Inv", lambda x: apply_op("Inv", x), np.reciprocal, positive),
    _unary("Exp", tf.exp, np.exp),
    _unary("Log", tf.log, np.log, positive),
    _unary("Log1p", tf.log1p, np.log1p, positive),
    _unary("Tanh", tf.tanh, np.tanh),
    _unary("Sigmoid", tf.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    _unary("Sin", tf.sin, np.sin),
    _unary("Cos", tf.cos, np.cos),
    _unary("Floor", tf.floor, np.floor, scaled),
    _unary("Ceil", tf.ceil, np.ceil, scaled),
    _unary("Round", tf.round, np.round, scaled),
    _unary("IsFinite", tf.is_finite, np.isfinite, specials),
    _unary("IsNan", tf.is_nan, np.isnan, specials),
    _unary("IsInf", tf.is_inf, np.isinf, specials),
    OpSpec("Cumsum", lambda x: tf.cumsum(x, 1), lambda x: np.cumsum(x, 1), [((3, 4),)]),
    OpSpec("Cumsum", lambda x: tf.cumsum(x, 0, exclusive=True, reverse=True),
           lambda x: np.flip(np.concatenate([np.zeros_like(x[:1]), np.cumsum(np.flip(x, 0), 0)
                                             [:-1]]), 0), [((4, 2),), ((5,),)],
           name="Cumsum_exclusive_reverse"),
    OpSpec("Cumsum", lambda x: tf.cumsum(x, -2), lambda x: np.cumsum(x, -2), [((3, 2, 2),)],
           name="Cumsum_negative_axis"),
    OpSpec("Cumprod", lambda x: tf.cumprod(x, -1), lambda x: np.cumprod(x, -1),
           [((3, 4),), ((5,),)], inputs=positive),
    OpSpec("Cumprod", lambda x: tf.cumprod(x, 0, exclusive=True),
           lambda x: np.concatenate([np.ones_like(x[:1]), np.cumprod(x, 0)[:-1]]),
           [((4, 3),)], inputs=positive, name="Cumprod_exclusive"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_truediv_casts_integers_to_floats():
    a = tf.constant([7, -7], tf.int32)
    b = tf.constant([2, 2], tf.int16)
    assert (a / 2).dtype == tf.float64 and tf.truediv(b, b).dtype == tf.float32
    assert tf.divide(a, 2).dtype == tf.float64
    np.testing.assert_allclose(_run(a / 2), [3.5, -3.5])
    np.testing.assert_allclose(_run(14 / a), [2, -2])
    with pytest.raises(TypeError, match="same dtype"):
        tf.truediv(a, b)


def test_floor_semantics_for_integers_follow_python():
    a = tf.constant([7, -7, 7, -7])
    b = tf.constant([2, 2, -2, -2])
    got = _run([a // b, a % b, tf.div(a, b), 10 // a, 10 % a])
    x, y = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    for g, w in zip(got, [x // y, x % y, x // y, 10 // x, 10 % x]):
        np.testing.assert_array_equal(g, w)
    assert got[0].dtype == np.int32
    np.testing.assert_allclose(_run(tf.constant(-7.5) % 2.0), 0.5)


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        _run(tf.floordiv(tf.constant([1, 2]), tf.constant([1, 0])))


def test_integer_division_of_nothing_is_no_error():
    # TF divides element by element: an empty dividend divides nothing (second derivatives of
    # reductions over unknown shapes compute such quotients of shape products)
    x = tf.placeholder(tf.int32)
    for op in (tf.floordiv, tf.div, tf.mod):
        assert _run(op(x, tf.constant(0)), {x: np.zeros([0], np.int32)}).shape == (0,)


def test_comparison_and_logical_operators():
    x = tf.constant([1.0, 2.0, 3.0])
    got = _run([x < 2, x <= 2, x > 2, x >= 2, 2 < x])
    np.testing.assert_array_equal(got, [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 1]])
    assert (x == x) is True and (x == tf.constant([1.0, 2.0, 3.0])) is False
    p, q = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    got = _run([p & q, p | q, p ^ q, ~p, tf.logical_xor(p, q), True & q])
    np.testing.assert_array_equal(got, [[1, 0, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1],
                                        [0, 1, 1, 0], [1, 0, 1, 0]])
    with pytest.raises(TypeError, match="bool"):
        x & x


def test_arithmetic_overloads():
    x = tf.constant([1.0, -2.0, 3.0])
    got = _run([abs(x), x ** 2, 2 ** x, -x])
    np.testing.assert_allclose(got, [[1, 2, 3], [1, 4, 9], [2, 0.25, 8], [-1, 2, -3]])


def test_equal_on_strings_and_round_half_to_even():
    s = tf.constant(["a", "b"])
    np.testing.assert_array_equal(_run(tf.equal(s, "a")), [True, False])
    r = _run(tf.round(tf.constant([0.5, 1.5, 2.5, -0.5, -1.5, 2.6])))
    np.testing.assert_array_equal(r, [0, 2, 2, 0, -2, 3])


def test_maximum_gradient_with_broadcast_and_unknown_shapes():
    x = tf.placeholder(tf.float64, [2, 3])
    g = tf.gradients(tf.maximum(x, 0.0), x)[0]
    np.testing.assert_allclose(_run(g, {x: [[1, -1, 2], [-3, 4, -5]]}), [[1, 0, 1], [0, 1, 0]])


def test_select_checks_shapes():
    c = tf.constant([True, False])
    with pytest.raises(ValueError, match="condition"):
        tf.select(c, tf.zeros([3, 2]), tf.zeros([3, 2]))
    with pytest.raises(ValueError, match="same shape"):
        tf.select(True, tf.zeros([3]), tf.zeros([2]))
    got = _run(tf.select(c, tf.ones([2, 2]), tf.zeros([2, 2])))
    np.testing.assert_array_equal(got, [[1, 1], [0, 0]])


def test_helpers_scalar_mul_count_nonzero_accumulate_n():
    x = tf.constant([[0.0, 1.0], [2.0, 0.0]])
    sl = tf.scalar_mul(2.0, tf.IndexedSlices(x, tf.constant([0, 1])))
    assert isinstance(sl, tf.IndexedSlices)
    got = _run([sl.values, tf.count_nonzero(x), tf.count_nonzero(x, axis=1),
                tf.accumulate_n([x, x, x])])
    np.testing.assert_allclose(got[0], [[0, 2], [4, 0]])
    assert got[1] == 2 and got[1].dtype == np.int64
    np.testing.assert_array_equal(got[2], [1, 1])
    np.testing.assert_allclose(got[3], 3 * _run(x))
    with pytest.raises(ValueError, match="scalar"):
        tf.scalar_mul(tf.constant([1.0, 2.0]), x)


def test_complex_abs_and_abs_dtypes():
    z = tf.constant([3 + 4j, -1j], tf.complex128)
    assert tf.abs(z).dtype == tf.float64
    np.testing.assert_allclose(_run(tf.complex_abs(z)), [5, 1])
    assert tf.abs(tf.constant([1 + 1j], tf.complex64)).dtype == tf.float32


def test_moved_functions_are_reexported_from_math_ops():
    from tensorflux.ops import linalg_ops, math_ops, reduction_ops, segment_ops
    for module in (linalg_ops, reduction_ops, segment_ops):
        for name in module.__all__:
            assert getattr(math_ops, name) is getattr(module, name) is getattr(tf, name), name
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(_run(a @ a), [[7, 10], [15, 22]])
    assert (a @ a).op.type == "MatMul"
