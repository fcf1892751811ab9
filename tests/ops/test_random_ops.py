"""Harness entries and statistical tests for tensorflux/ops/random_ops.py and random_seed.

Random values cannot be compared with a NumPy reference, so each harness entry checks only the
shape and dtype (fn returns zeros_like(sample)), and its `check` runs statistical tests."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.framework import random_seed

N = 20000


def _runs(make, times=1, graph_seed=None):
    """Builds `make()` in a fresh graph and runs it `times` times in one session."""
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        t = make()
        with tf.Session(graph=graph) as sess:
            return [sess.run(t) for _ in range(times)]


def _check_seeding(make):
    """Same seeds -> same sequence across sessions; successive runs differ; no seed -> differ."""
    first = _runs(lambda: make(7), 2)
    again = _runs(lambda: make(7), 2)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1]), "successive runs gave the same values"
    other = _runs(lambda: make(8))[0]
    assert not np.array_equal(first[0], other), "different seeds gave the same values"
    a, b = _runs(lambda: make(None))[0], _runs(lambda: make(None))[0]
    assert not np.array_equal(a, b), "unseeded ops gave the same values in two sessions"
    g1, g2 = _runs(lambda: make(None), graph_seed=5)[0], _runs(lambda: make(None), graph_seed=5)[0]
    np.testing.assert_array_equal(g1, g2)


def check_uniform(spec):
    x, = _runs(lambda: tf.random_uniform([N], seed=1))
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01 and abs(x.std() - np.sqrt(1 / 12)) < 0.01
    y, = _runs(lambda: tf.random_uniform([N, 2], -3.0, 5.0, dtype=tf.float64, seed=1))
    assert y.dtype == np.float64 and y.shape == (N, 2) and y.min() >= -3 and y.max() < 5
    assert abs(y.mean() - 1.0) < 0.1
    _check_seeding(lambda s: tf.random_uniform([10], seed=s))


def check_uniform_int(spec):
    for dtype in (tf.int32, tf.int64):
        x, = _runs(lambda: tf.random_uniform([N], -2, 3, dtype=dtype, seed=1))
        assert x.dtype == dtype.as_numpy_dtype
        assert set(np.unique(x)) == {-2, -1, 0, 1, 2}
        assert abs(x.mean()) < 0.05
    with pytest.raises(ValueError, match="maxval"):
        tf.random_uniform([3], dtype=tf.int32)
    bad = tf.random_uniform([3], 5, 5, dtype=tf.int32)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="minval"):
        sess.run(bad)
    _check_seeding(lambda s: tf.random_uniform([10], 0, 1000, dtype=tf.int32, seed=s))


def check_normal(spec):
    x, = _runs(lambda: tf.random_normal([N], mean=2.0, stddev=3.0, seed=1))
    assert x.dtype == np.float32
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    assert np.abs(x - 2).max() > 6  # the tails are not truncated
    _check_seeding(lambda s: tf.random_normal([10], seed=s))


def check_truncated(spec):
    x, = _runs(lambda: tf.truncated_normal([N], mean=1.0, stddev=2.0, dtype=tf.float64, seed=1))
    assert x.dtype == np.float64
    assert np.abs(x - 1.0).max() <= 4.0
    assert abs(x.mean() - 1.0) < 0.05
    assert abs(x.std() - 2.0 * 0.8796) < 0.05  # std of a normal truncated at 2 sigma
    _check_seeding(lambda s: tf.truncated_normal([10], seed=s))


def check_shuffle(spec):
    value = np.arange(30).reshape(10, 3)
    x, = _runs(lambda: tf.random_shuffle(value, seed=1))
    np.testing.assert_array_equal(np.sort(x[:, 0]), value[:, 0])
    np.testing.assert_array_equal(x[:, 1:] - x[:, :1], value[:, 1:] - value[:, :1])  # rows intact
    _check_seeding(lambda s: tf.random_shuffle(np.arange(20), seed=s))
    scalar, = _runs(lambda: tf.random_shuffle(5.0))
    assert scalar == 5.0


def check_multinomial(spec):
    logits = np.log([[0.2, 0.3, 0.5], [0.9, 0.1, 1e-30]])
    x, = _runs(lambda: tf.multinomial(logits, N, seed=1))
    assert x.dtype == np.int64 and x.shape == (2, N)
    freq = np.stack([np.bincount(row, minlength=3) / N for row in x])
    np.testing.assert_allclose(freq, [[0.2, 0.3, 0.5], [0.9, 0.1, 0.0]], atol=0.015)
    never, = _runs(lambda: tf.multinomial([[0.0, -np.inf, 0.0]], 1000, seed=2))
    assert 1 not in never
    _check_seeding(lambda s: tf.multinomial([[0.0] * 10], 10, seed=s))


def _zeros(x):
    return tf.zeros_like(x)


# Half types: the op's own output is fetched (dtype and range) by the check; the forward entry
# records the dtype attr for tests/test_registry.py.
_HALF_MAKERS = {
    "RandomUniform": (lambda d, seed=None: tf.random_uniform([500], dtype=d, seed=seed), 0, 1),
    "RandomStandardNormal": (lambda d, seed=None: tf.random_normal([500], dtype=d, seed=seed),
                             -8, 8),
    "TruncatedNormal": (lambda d, seed=None: tf.truncated_normal([500], dtype=d, seed=seed),
                        -2, 2),
}


def _half_spec(op, dtype):
    make, lo, hi = _HALF_MAKERS[op]

    def in_range():
        x = make(dtype)
        return tf.logical_and(x >= lo, x <= hi)

    def check(spec):
        x, = _runs(lambda: make(dtype, seed=1))
        assert x.dtype == dtype.as_numpy_dtype, f"{op} returned {x.dtype} for {dtype.name}"
        wide = x.astype(np.float32)
        assert wide.min() >= lo and wide.max() <= hi and wide.std() > 0.2, (op, dtype)
    return OpSpec(op, in_range, lambda: np.ones(500, bool), [()], dtypes=[dtype], grad=(),
                  check=check, name=f"{op}_{dtype.name}")


SPECS = [
    OpSpec("RandomUniform", lambda: _zeros(tf.random_uniform([3, 4])),
           lambda: np.zeros((3, 4), np.float32), [()], dtypes=[tf.float32], check=check_uniform),
    OpSpec("RandomUniformInt", lambda: _zeros(tf.random_uniform([5], 0, 9, dtype=tf.int64)),
           lambda: np.zeros(5, np.int64), [()], dtypes=[tf.int64], check=check_uniform_int),
    OpSpec("RandomStandardNormal", lambda: _zeros(tf.random_normal([2, 3], dtype=tf.float64)),
           lambda: np.zeros((2, 3)), [()], dtypes=[tf.float64], check=check_normal),
    OpSpec("TruncatedNormal", lambda: _zeros(tf.truncated_normal([])),
           lambda: np.zeros((), np.float32), [()], dtypes=[tf.float32], check=check_truncated),
    *[_half_spec(op, d) for op in _HALF_MAKERS for d in (tf.float16, tf.bfloat16)],
    OpSpec("RandomShuffle", lambda x: tf.reduce_sum(tf.random_shuffle(x), 0),
           lambda x: x.sum(0), [((6, 2),), ((4,),)], check=check_shuffle),
    OpSpec("Multinomial", lambda x: _zeros(tf.multinomial(x, 5)),
           lambda x: np.zeros((x.shape[0], 5), np.int64), [((3, 4),)], check=check_multinomial),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_get_seed_rules():
    assert random_seed.get_seed(None) == (None, None)
    assert random_seed.get_seed(3) == (random_seed.DEFAULT_GRAPH_SEED, 3)
    tf.set_random_seed(11)
    graph = tf.get_default_graph()
    assert graph.seed == 11
    assert random_seed.get_seed(4) == (11, 4)
    assert random_seed.get_seed(None) == (11, graph._last_id)
    tf.constant(1.0)
    assert random_seed.get_seed(None) == (11, graph._last_id)  # moves with the op position
    tf.set_random_seed(0)
    assert random_seed.get_seed(0) != (0, 0)  # (0, 0) would mean "nondeterministic"


def test_random_ops_carry_seed_attrs():
    t = tf.random_normal([2], seed=5)
    sample = [op for op in tf.get_default_graph().get_operations()
              if op.type == "RandomStandardNormal"][0]
    assert (sample.get_attr("seed"), sample.get_attr("seed2")) == (
        random_seed.DEFAULT_GRAPH_SEED, 5)
    assert sample.op_def.is_stateful
    assert t.get_shape().as_list() == [2]


def test_graph_seed_gives_distinct_ops_distinct_streams():
    def make():
        return tf.stack([tf.random_uniform([5]), tf.random_uniform([5])])
    a, = _runs(make, graph_seed=3)
    b, = _runs(make, graph_seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


def test_dynamic_and_tensor_shapes():
    n = tf.placeholder(tf.int32)
    t = tf.random_uniform(tf.stack([n, 3]))
    assert t.get_shape().as_list() == [None, 3]
    t2 = tf.random_normal(tf.TensorShape([2, 2]))
    with tf.Session() as sess:
        assert sess.run(t, {n: 4}).shape == (4, 3)
        assert sess.run(t2).shape == (2, 2)


def test_random_crop():
    value = np.arange(60).reshape(6, 10)
    crop, = _runs(lambda: tf.random_crop(value, [2, 3], seed=1))
    assert crop.shape == (2, 3)
    r, c = np.argwhere(value == crop[0, 0])[0]
    np.testing.assert_array_equal(crop, value[r:r + 2, c:c + 3])
