"""Each pass does what it says, computes what L0 computes, and its switch turns it off."""
import warnings

import numpy as np
import pytest

import tensorflux as tf
from opt_util import L0, NO_MEM_OPT, OFF, ON, assert_same, config, plan_of, run_both
from tensorflux.runtime.optimizer import Settings

pytestmark = pytest.mark.timeout(60)


def test_settings_follow_opt_level_and_the_rewrite_toggles():
    assert Settings.from_config(None).any
    off = Settings.from_config(config(L0))
    assert not off.any
    folding_only = config(L0)
    folding_only.graph_options.optimizer_options.do_constant_folding = True
    assert Settings.from_config(folding_only).fold and not Settings.from_config(folding_only).cse
    assert Settings.from_config(config(L0, remapping=ON)).fusion
    on = Settings.from_config(config(arithmetic_optimization=OFF, memory_optimization=NO_MEM_OPT))
    assert not on.arithmetic and not on.memory and on.fusion and on.fold
    meta_off = Settings.from_config(config(disable_meta_optimizer=True))
    assert meta_off.fold and meta_off.cse and not meta_off.fusion and not meta_off.dependency


def test_shape_arithmetic_of_known_shapes_folds():
    x = tf.placeholder(tf.float32, [3, 4])
    y = tf.reshape(x, tf.shape(x)[::-1]) * tf.cast(tf.size(x) + tf.rank(x), tf.float32)
    feed = {x: np.arange(12, dtype=np.float32).reshape(3, 4)}
    plain, optimized, stats = run_both(y, feed, cfg=config(remapping=OFF))
    assert_same(plain, optimized)
    assert stats["nodes"] == 2  # Reshape and Mul: all of the shape arithmetic folded


def test_unknown_shapes_are_not_folded():
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.cast(tf.shape(x)[0], tf.float32) * tf.reduce_sum(x)
    for rows in (1, 3):
        with tf.Session() as sess:
            value = sess.run(y, {x: np.ones((rows, 4), np.float32)})
        assert value == rows * rows * 4


def test_constant_folding_switch():
    x = tf.placeholder(tf.float32, [])
    y = x * (tf.constant(2.0) + tf.constant(3.0))
    _, _, on = run_both(y, {x: 1.0})
    plain, optimized, off = run_both(y, {x: 1.0}, cfg=config(constant_folding=OFF))
    assert_same(plain, optimized)
    assert on["folded_values"] == 1 and off["folded_values"] == 0


def test_common_subexpressions_are_computed_once():
    x = tf.placeholder(tf.float32, [5])
    y = tf.exp(x) + tf.exp(x) + tf.exp(x)
    feed = {x: np.linspace(0, 1, 5).astype(np.float32)}
    plain, optimized, on = run_both(y, feed, cfg=config(remapping=OFF))
    assert_same(plain, optimized)
    _, _, off = run_both(y, feed, cfg=config(remapping=OFF, common_subgraph_elimination=OFF))
    assert on["cse"] == 2 and off.get("cse", 0) == 0
    assert on["nodes"] == off["nodes"] - 2


def test_identity_and_noop_removal_keeps_fetched_and_variable_reads():
    v = tf.Variable(1.0)
    read = tf.identity(v)  # reads the variable's buffer: kept
    with tf.control_dependencies([read]):
        bump = tf.assign_add(v, 10.0)
    x = tf.placeholder(tf.float32, [])
    chained = tf.identity(tf.identity(x * 2.0))
    fetched = tf.identity(chained, name="fetched")
    group = tf.group(bump)
    results = []
    for cfg in (config(L0), config()):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            results.append(sess.run([read, fetched, group], {x: 3.0})[:2] + [sess.run(v)])
            stats = plan_of_last(sess)
            steps = [step[1].op.name for step in list(sess._plans.values())[-2].steps]
    assert_same(results[0], results[1])
    assert results[1][1:] == [6.0, 11.0]
    assert stats is not None and "fetched" in steps and read.op.name in steps
    assert not any(name.startswith("Identity_") for name in steps if name != read.op.name)


def plan_of_last(sess):
    return list(sess._plans.values())[-1].optimizer_stats


def test_dependency_switch():
    x = tf.placeholder(tf.float32, [])
    y = tf.identity(tf.identity(x)) * 2.0
    _, _, on = run_both(y, {x: 1.0})
    _, _, off = run_both(y, {x: 1.0}, cfg=config(dependency_optimization=OFF))
    assert on["dependency"] == 2 and off.get("dependency", 0) == 0


def test_arithmetic_identities_read_the_operand():
    x = tf.placeholder(tf.float32, [4])
    t = tf.placeholder(tf.float32, [2, 3, 4])
    simplified = [x * 1.0, 1.0 * x, x - 0.0, -(-x), x + (-0.0),
                  tf.transpose(tf.transpose(t, [1, 0, 2]), [1, 0, 2]),
                  tf.transpose(tf.transpose(t, [1, 2, 0]), [2, 0, 1])]
    feed = {x: np.array([-0.0, 1.5, -2.0, 0.0], np.float32),
            t: np.arange(24, dtype=np.float32).reshape(2, 3, 4)}
    plain, optimized, on = run_both([tf.identity(s) for s in simplified], feed)
    assert_same(plain, optimized)
    assert on["arithmetic"] == 7
    _, _, off = run_both([tf.identity(s) for s in simplified], feed,
                         cfg=config(arithmetic_optimization=OFF))
    assert off.get("arithmetic", 0) == 0


def test_arithmetic_leaves_what_is_not_exactly_x():
    x = tf.placeholder(tf.float32, [3])
    t = tf.placeholder(tf.float32, [2, 3, 4])
    kept = [x * tf.ones([2, 3]),  # broadcasts to a larger shape
            x + 0.0,  # -0.0 + 0.0 is +0.0
            x * 2.0, tf.transpose(tf.transpose(t, [1, 2, 0]), [1, 2, 0])]
    feed = {x: np.array([-0.0, 1.0, 2.0], np.float32),
            t: np.arange(24, dtype=np.float32).reshape(2, 3, 4)}
    plain, optimized, on = run_both([tf.identity(k) for k in kept], feed)
    assert_same(plain, optimized)
    assert np.signbit(optimized[0][1][0]) == np.signbit(plain[0][1][0]) == np.False_
    assert optimized[0][0].shape == (2, 3)
    assert on["arithmetic"] == 0


def _chain(x, n):
    for _ in range(n):
        x = tf.sigmoid(tf.tanh(x) * 0.9 + 0.01) - 0.25
    return x


@pytest.mark.parametrize("rows", [4, None])
def test_element_wise_chains_fuse_into_one_step_with_identical_values(rows):
    x = tf.placeholder(tf.float64, [rows, 3])
    w = tf.placeholder(tf.float64, [3])
    y = tf.nn.relu(tf.maximum(_chain(x, 5) * w, -0.1) + tf.square(tf.abs(x)))
    feed = {x: np.linspace(-3, 3, 12).reshape(4, 3), w: np.array([1.0, -2.0, 0.5])}
    plain, optimized, on = run_both(y, feed)
    assert_same(plain, optimized)
    # x has two readers, so |x|^2 is a chain of its own, which the sum then joins (with an
    # unknown batch size too: both chains keep x's run-time shape).
    assert on["fusion_groups"] == on["nodes"] == 2
    _, _, off = run_both(y, feed, cfg=config(remapping=OFF))
    assert off.get("fusion_groups", 0) == 0 and off["nodes"] > 20


def test_a_failing_fused_step_raises_the_failing_ops_error():
    a = tf.placeholder(tf.float32, [None])
    b = tf.placeholder(tf.float32, [None])
    bad = tf.add(a, b, name="bad_add")
    y = tf.tanh(tf.tanh(bad) * 2.0)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes") as info:
            sess.run(y, {a: np.ones(3, np.float32), b: np.ones(4, np.float32)})
        assert plan_of(sess).optimizer_stats["fusion_groups"] == 1
    assert info.value.op.name == "bad_add" and "'bad_add'" in info.value.message


def test_fusion_respects_fetches_and_other_readers():
    x = tf.placeholder(tf.float32, [4])
    inner = tf.tanh(x) * 2.0
    outer = tf.sigmoid(inner) + 1.0
    other = inner - 3.0  # a second reader: inner ends a chain
    feed = {x: np.linspace(-1, 1, 4).astype(np.float32)}
    plain, optimized, on = run_both([inner, outer, other], feed)
    assert_same(plain, optimized)
    assert on["fusion_groups"] == 2  # tanh*2 (fetched: ends there) and sigmoid+1; - alone


def test_buffers_are_reused_only_when_dead_and_owned():
    x = tf.placeholder(tf.float32, [6])
    shared = tf.tanh(x) * 2.0           # one fused step, read by two more
    first = tf.tanh(shared + 1.0)      # its own fused step: allocates
    last = tf.sigmoid(shared * 3.0)    # the last reader: may write into shared's buffer
    feed_value = np.linspace(-1, 1, 6).astype(np.float32)
    feed = {x: feed_value}
    plain, optimized, on = run_both([first, last], feed, steps=2)
    assert_same(plain, optimized)
    assert on["reused_buffers"] == 1
    np.testing.assert_array_equal(feed_value, np.linspace(-1, 1, 6).astype(np.float32))
    _, _, off = run_both([first, last], feed, cfg=config(memory_optimization=NO_MEM_OPT))
    assert off.get("reused_buffers", 0) == 0
    plain, optimized, fetched = run_both([first, last, shared], feed)  # fetched: not reused
    assert_same(plain, optimized)
    assert fetched["reused_buffers"] == 0


def test_fed_arrays_and_constants_are_never_written():
    x = tf.placeholder(tf.float32, [5])
    c = tf.constant(np.full(5, 0.5, np.float32))
    y = tf.tanh(tf.tanh(x + c) * c)
    z = tf.sigmoid(tf.sigmoid(x * c) - c)
    value = np.linspace(0, 1, 5).astype(np.float32)
    with tf.Session() as sess:
        first = sess.run([y, z], {x: value})
        second = sess.run([y, z], {x: value})
    assert_same(first, second)
    np.testing.assert_array_equal(value, np.linspace(0, 1, 5).astype(np.float32))


def test_traces_name_the_fused_step_by_its_last_op():
    x = tf.placeholder(tf.float32, [3])
    y = tf.tanh(tf.tanh(x) * 2.0, name="last")
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(y, {x: np.ones(3, np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
    assert [n.node_name for n in md.step_stats.dev_stats[0].node_stats] == ["last"]


def test_fused_reads_of_a_variable_stay_before_its_update():
    v = tf.Variable(np.ones(3, np.float32))
    early = tf.tanh(v.value()) * 2.0     # in the order before the assignment ...
    bump = tf.assign_add(v, np.full(3, 5.0, np.float32))
    with tf.control_dependencies([bump]):
        late = tf.identity(v.value())
    out = tf.sigmoid(early) + late       # ... its chain continues after it
    results = []
    for cfg in (config(L0), config()):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            results.append(sess.run(out))
    assert_same(results[0], results[1])


def test_rewrites_never_move_a_variable_read_past_its_update():
    v = tf.Variable(np.ones(3, np.float32))
    before = [v.value() * 1.0, v.value() * 2.0]
    bump = tf.assign_add(v, np.full(3, 5.0, np.float32))
    with tf.control_dependencies([bump]):
        after = tf.identity(v.value() * 2.0)  # the same expression as before[1], after the bump
    fetches = [tf.identity(before[0]) + after, tf.identity(before[1]) - after]
    results = []
    for cfg in (config(L0), config()):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            results.append(sess.run(fetches))
    assert_same(results[0], results[1])


def test_duplicates_on_both_sides_of_an_update_are_not_merged():
    v = tf.Variable(np.ones(3, np.float32))
    first = v.value() * 2.0
    bump = tf.assign_add(v, np.full(3, 5.0, np.float32))
    second = v.value() * 2.0  # runs after the bump in the plan's order
    results = []
    for cfg in (config(L0), config()):
        with tf.Session(config=cfg) as sess:
            sess.run(v.initializer)
            results.append(sess.run([tf.identity(first), bump.op, tf.identity(second)]))
    assert_same(results[0][0::2], results[1][0::2])


@pytest.mark.parametrize("rows", [(4, 1), (1, 4)])
def test_chains_of_unknown_shapes_that_broadcast_at_run_time(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    out = tf.tanh(tf.tanh(x) * 2.0 + tf.sigmoid(y) * 3.0) - 1.0
    feed = {x: np.ones((rows[0], 3), np.float32), y: np.full((rows[1], 3), 0.5, np.float32)}
    plain, optimized, stats = run_both(out, feed)
    assert_same(plain, optimized)
    assert optimized[0].shape == (4, 3) and stats["fusion_groups"] >= 2


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_quiet_ops_fuse_with_identical_values_and_no_warnings(dtype):
    x = tf.placeholder(dtype, [6])
    y = tf.exp(tf.log(x) * 0.5) / (tf.sqrt(x) + 1.0)
    z = tf.rsqrt(tf.reciprocal(y)) + tf.log1p(x - 1.0)
    feed = {x: np.array([0.0, -1.0, 0.5, 1.0, 2.0, np.inf], dtype.as_numpy_dtype)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain, optimized, stats = run_both(z, feed)
    assert_same(plain, optimized)
    # x has three readers: log(x)... (which the others join), sqrt(x) + 1 and log1p(x - 1)
    assert stats["fusion_groups"] == 3 and stats["fused_ops"] == 11 and stats["nodes"] == 3


def test_writes_between_sees_only_the_state_writes_strictly_inside():
    from tensorflux.runtime.optimizer.graph import PlanGraph
    v = tf.Variable(1.0)
    x = tf.placeholder(tf.float32)
    a = x * 2.0
    bump = tf.assign_add(v, 1.0)  # a state write
    b = a + 1.0
    order = [a.op, bump.op, b.op]
    between = PlanGraph(order, [x], {}, [b], [bump.op]).writes_between()
    assert between(0, 2) and between(-1, 2)
    assert not between(0, 1) and not between(1, 2) and not between(1, 1)
