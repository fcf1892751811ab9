"""Harness entries and behaviour tests for tensorflux/ops/special_math_ops.py (references are
scipy.special / NumPy in float64; gradients against central differences)."""
import numpy as np
import pytest
from scipy import special

import tensorflux as tf
from op_harness import OpSpec, positive, run_spec, uniform, run_in_session as _run

UN = [((3, 4),), ((),)]
BIN = [((3, 4), (3, 4)), ((3,), (2, 3)), ((), ())]
FD = [tf.float32, tf.float64]


def _cast(x, dtype):
    return np.asarray(x).astype(tf.as_dtype(dtype).as_numpy_dtype)


def inside(rng, shape, dtype):
    """Values in [-0.8, 0.8): inside asin/acos's domain, away from their infinite slopes
    (complex: an imaginary part in [-0.5, 0.5) too; integers: -1, 0, 1)."""
    if tf.as_dtype(dtype).is_integer:
        return _cast(rng.integers(-1, 2, size=shape), dtype)
    x = rng.uniform(-0.8, 0.8, size=shape)
    if tf.as_dtype(dtype).is_complex:
        x = x + 1j * rng.uniform(-0.5, 0.5, size=shape)
    return _cast(x, dtype)


def above_one(rng, shape, dtype):
    """Values in [1.5, 3): zeta's exponent, where the series converges."""
    return _cast(rng.uniform(1.5, 3.0, size=shape), dtype)


def orders(rng, shape, dtype):
    """Whole numbers 0..2 as floats: polygamma's order."""
    return _cast(rng.integers(0, 3, size=shape), dtype)


def fractions(rng, shape, dtype):
    """Values in [0.1, 0.9): betainc's argument, inside (0, 1)."""
    return _cast(rng.uniform(0.1, 0.9, size=shape), dtype)


def _trig(fn):
    """The reference in float64 (or complex), truncated back to an integer input's type."""
    def ref(x):
        out = fn(x if x.dtype.kind == "c" else x.astype(np.float64))
        return out.astype(x.dtype) if x.dtype.kind in "iu" else out
    return ref


def _unary(op, fn, ref, inputs=uniform):
    return OpSpec(op, fn, ref, UN, inputs=inputs)


SPECS = [
    _unary("Lgamma", tf.lgamma, special.gammaln, positive),
    _unary("Digamma", tf.digamma, special.digamma, positive),
    _unary("Erf", tf.erf, special.erf),
    _unary("Erfc", tf.erfc, special.erfc),
    _unary("Asin", tf.asin, _trig(np.arcsin), inside),
    _unary("Acos", tf.acos, _trig(np.arccos), inside),
    _unary("Atan", tf.atan, _trig(np.arctan), inside),
    _unary("Tan", tf.tan, _trig(np.tan), inside),
    OpSpec("Igamma", tf.igamma, special.gammainc, BIN, dtypes=FD, inputs=positive, grad=(1,)),
    OpSpec("Igammac", tf.igammac, special.gammaincc, BIN, dtypes=FD, inputs=positive,
           grad=(1,)),
    OpSpec("Zeta", tf.zeta, special.zeta, BIN, dtypes=FD, inputs=[above_one, positive],
           grad=(1,)),
    OpSpec("Polygamma", tf.polygamma, lambda a, x: special.polygamma(a.astype(int), x), BIN,
           dtypes=FD, inputs=[orders, positive], grad=(1,)),
    OpSpec("Betainc", tf.betainc, special.betainc,
           [((3,), (3,), (3,)), ((), (), (4,)), ((2, 2), (), (2, 2)), ((), (), ())],
           dtypes=FD, inputs=[positive, positive, fractions], grad=(2,)),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_known_values():
    got = _run([tf.lgamma(tf.constant([1.0, 4.0], tf.float64)), tf.erf(0.0),
                tf.zeta(tf.constant(2.0, tf.float64), 1.0),
                tf.igamma(tf.constant(1.0, tf.float64), 2.0),
                tf.atan(tf.constant(1.0, tf.float64))])
    np.testing.assert_allclose(got[0], [0.0, np.log(6.0)], atol=1e-12)
    assert got[1] == 0.0
    np.testing.assert_allclose(got[2], np.pi ** 2 / 6, rtol=1e-12)
    np.testing.assert_allclose(got[3], 1 - np.exp(-2.0), rtol=1e-12)
    np.testing.assert_allclose(got[4], np.pi / 4, rtol=1e-12)


def test_nan_outside_the_domain_and_for_fractional_polygamma_orders():
    got = _run([tf.asin(2.0), tf.polygamma([0.5, 1.0], [1.0, 1.0])])
    assert np.isnan(got[0])
    assert np.isnan(got[1][0]) and np.isclose(got[1][1], np.pi ** 2 / 6)


def test_no_gradient_in_the_order_parameters():
    a = tf.constant([2.0, 3.0], tf.float64)
    x = tf.constant([0.5, 1.5], tf.float64)
    assert tf.gradients(tf.igamma(a, x), a) == [None]
    assert tf.gradients(tf.polygamma(a, x), a) == [None]
    b = tf.constant(0.3, tf.float64)
    assert tf.gradients(tf.betainc(a, a, b), [a]) == [None]
    (gb,) = tf.gradients(tf.betainc(a, a, b), [b])
    assert gb.get_shape().ndims == 0  # a scalar x's gradient summed over the broadcast


def test_betainc_shapes_must_agree():
    with pytest.raises(ValueError, match="are not compatible"):
        tf.betainc(tf.ones([2]), tf.ones([3]), tf.ones([2]))
    a = tf.placeholder(tf.float32)
    out = tf.betainc(a, 1.0, [0.5, 0.5])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Shapes of a, b, and x are inconsistent: \[3\] vs. \[\] vs. \[2\]"):
        _run(out, {a: [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(_run(out, {a: [1.0, 2.0]}), [0.5, 0.25], rtol=1e-6)
