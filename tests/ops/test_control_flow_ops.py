"""Control flow: the primitives (harness), tf.cond, tf.case, tf.while_loop and their
gradients against central differences, exported GraphDefs."""
import collections

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, away_from_zero, run_spec
from tensorflux.ops import control_flow_ops as cf
from tensorflux.ops.tensor_array_ops import TensorArray

pytestmark = pytest.mark.timeout(60)


def _three_steps(x):
    return tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 1.5 + 0.25),
                         [tf.constant(0), x])[1]


def _three_steps_ref(x):
    for _ in range(3):
        x = x * 1.5 + 0.25
    return x


def _switch_merge(x):
    data_false, data_true = cf.switch(x, tf.reduce_sum(x) > 0)
    return cf.merge([data_false * 2.0, data_true * 3.0])


def _switch_merge_ref(x):
    return [x * (3.0 if x.sum() > 0 else 2.0), np.int32(1 if x.sum() > 0 else 0)]


SPECS = [
    OpSpec("Switch", lambda x: cf.switch(x, tf.constant(True))[1], lambda x: x,
           [((3, 4),), ((),)], name="Switch_true"),
    OpSpec("Switch", lambda x: cf.switch(x, tf.constant(False))[0] * 2.0, lambda x: 2 * x,
           [((3,),)], name="Switch_false"),
    OpSpec(("Switch", "Merge"), _switch_merge, _switch_merge_ref, [((3, 4),), ((),)],
           inputs=away_from_zero),
    OpSpec(("Enter", "Exit", "NextIteration", "LoopCond"), _three_steps, _three_steps_ref,
           [((2, 3),), ((),)]),
    OpSpec("Merge", lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: x * x, lambda: -x),
           lambda x: x * x if x.sum() > 0 else -x, [((4,),), ((),)], inputs=away_from_zero,
           name="cond"),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetches, feed=None, config=None):
    with tf.Session(config=config) as sess:
        return sess.run(fetches, feed)


def _numeric_grad(sess, y, x, value, feed=None, eps=1e-6):
    feed = dict(feed or {})
    grad = np.zeros_like(value)
    for k in range(value.size):
        d = np.zeros_like(value)
        d.flat[k] = eps
        feed[x] = value + d
        up = np.sum(sess.run(y, feed))
        feed[x] = value - d
        down = np.sum(sess.run(y, feed))
        grad.flat[k] = (up - down) / (2 * eps)
    return grad


def _check_grad(build, shape=(3,), low=0.5, high=1.5, seed=0):
    """Symbolic gradient of sum(build(x)) against central differences, float64."""
    x = tf.placeholder(tf.float64, shape)
    y = build(x)
    grad = tf.gradients(y, x)[0]
    assert grad is not None
    value = np.random.default_rng(seed).uniform(low, high, shape)
    with tf.Session() as sess:
        symbolic = sess.run(grad, {x: value})
        numeric = _numeric_grad(sess, y, x, value)
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-5, atol=1e-6)
    return symbolic


# ---- tf.cond -----------------------------------------------------------------------------------
def test_cond_runs_only_the_taken_branch():
    x = tf.placeholder(tf.float32, [])
    calls = []

    def side(v):
        calls.append(float(v))
        return np.float32(v)
    out = tf.cond(x > 0, lambda: tf.py_func(side, [x], tf.float32) * 2.0, lambda: x - 1.0)
    with tf.Session() as sess:
        assert sess.run(out, {x: 3.0}) == 6.0
        assert sess.run(out, {x: -3.0}) == -4.0
    assert calls == [3.0]


def test_cond_signatures_and_structures():
    p = tf.placeholder(tf.bool, [])
    a, b = tf.constant(1.0), tf.constant(2.0)
    old = tf.cond(p, lambda: a, lambda: b)                   # 0.9: cond(pred, fn1, fn2)
    new = tf.cond(p, true_fn=lambda: a, false_fn=lambda: b)  # 1.x keywords
    legacy = tf.cond(p, fn1=lambda: a, fn2=lambda: b)
    pair = tf.cond(p, lambda: (a, {"k": b}), lambda: (b, {"k": a}))
    single = tf.cond(p, lambda: [a], lambda: [b])
    strict = tf.cond(p, lambda: [a], lambda: [b], strict=True)
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)
    with tf.Session() as sess:
        got = sess.run([old, new, legacy, pair], {p: False})
        assert got[:3] == [2.0, 2.0, 2.0]
        assert got[3][0] == 2.0 and got[3][1]["k"] == 1.0
        assert sess.run(pair, {p: True})[1]["k"] == 2.0


def test_cond_errors():
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(ValueError, match="same structure"):
        tf.cond(p, lambda: (tf.constant(1.0), tf.constant(2.0)), lambda: tf.constant(1.0))
    with pytest.raises(ValueError, match="same type"):
        tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(1))
    with pytest.raises(TypeError, match="bool"):
        tf.cond(tf.constant(1.0), lambda: 1.0, lambda: 2.0)
    with pytest.raises(TypeError, match="callables"):
        tf.cond(p, 1.0, lambda: 2.0)


def test_cond_captures_outside_tensors_through_switch():
    p = tf.placeholder(tf.bool, [])
    x = tf.constant([1.0, 2.0])
    out = tf.cond(p, lambda: x * 2.0, lambda: x)
    mul = [op for op in tf.get_default_graph().get_operations() if op.type == "Mul"][0]
    assert mul.inputs[0].op.type == "Switch"
    np.testing.assert_allclose(_run(out, {p: True}), [2.0, 4.0])


def test_fetching_a_dead_tensor_fails_clearly():
    p = tf.placeholder(tf.bool, [])
    dead_side = cf.switch(tf.constant(1.0), p)[1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="is dead"):
        _run(dead_side, {p: False})


def test_case_picks_the_first_true_predicate():
    x = tf.placeholder(tf.int32, [])
    out = tf.case([(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))],
                  default=lambda: tf.constant(100))
    with tf.Session() as sess:
        assert [sess.run(out, {x: v}) for v in (-5, 5, 50)] == [-1, 1, 100]
    exclusive = tf.case({x > 0: lambda: tf.constant(1), x > 5: lambda: tf.constant(2)},
                        default=lambda: tf.constant(0), exclusive=True)
    with tf.Session() as sess:
        assert sess.run(exclusive, {x: 3}) == 1
        with pytest.raises(tf.errors.OpError, match="more than one"):
            sess.run(exclusive, {x: 7})


# ---- tf.while_loop -----------------------------------------------------------------------------
def test_while_loop_nested_structures():
    Pair = collections.namedtuple("Pair", ["a", "b"])
    loop_vars = (tf.constant(0), Pair(tf.constant(1.0), [tf.constant(2.0)]), {"c": tf.constant(3)})

    def body(i, pair, d):
        return i + 1, Pair(pair.a * 2.0, [pair.b[0] + 1.0]), {"c": d["c"] * 2}
    i, pair, d = tf.while_loop(lambda i, p, d: i < 4, body, loop_vars)
    assert isinstance(pair, Pair) and isinstance(pair.b, list)
    got = _run([i, pair.a, pair.b[0], d["c"]])
    assert got == [4, 16.0, 6.0, 48]


def test_while_loop_single_variable_and_external_capture():
    x = tf.placeholder(tf.float32, [2])
    w = tf.constant([2.0, 3.0])
    out = tf.while_loop(lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * w, [x])
    assert isinstance(out, tf.Tensor)
    np.testing.assert_allclose(_run(out, {x: [1.0, 1.0]}), [32.0, 243.0])
    graph = tf.get_default_graph()
    mul = [op for op in graph.get_operations() if op.type == "Mul"][0]
    enter = mul.inputs[1].op
    assert enter.type == "Enter" and enter.get_attr("is_constant")
    for op in graph.get_operations():  # every op in the body reads outside tensors via Enter
        if cf.context_of(op) is not None and op.type not in ("Enter",):
            for t in op.inputs:
                assert cf.is_within(cf.value_context(t), cf.context_of(op)), (op.name, t.name)


def test_while_loop_shape_invariants():
    x = tf.constant([1.0])

    def grow(v):
        return tf.concat([v, v], 0)
    relaxed = tf.while_loop(lambda v: tf.size(v) < 8, grow, [x])  # TF 0.9: unknown shape
    assert relaxed.get_shape().ndims is None
    out = tf.while_loop(lambda v: tf.size(v) < 8, grow, [x],
                        shape_invariants=[tf.TensorShape([None])])
    assert out.get_shape().as_list() == [None]
    assert _run(out).shape == (8,)
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda v: True, grow, [x], shape_invariants=[tf.TensorShape([2])])


def test_while_loop_argument_errors():
    with pytest.raises(TypeError, match="callables"):
        tf.while_loop(1, lambda v: v, [tf.constant(1)])
    with pytest.raises(ValueError, match="structure"):
        tf.while_loop(lambda a, b: a < 3, lambda a, b: a + 1, [tf.constant(0), tf.constant(0)])
    with pytest.raises(ValueError, match="type"):
        tf.while_loop(lambda a: a < 3, lambda a: tf.cast(a, tf.float32), [tf.constant(0)])
    with pytest.raises(TypeError, match="bool"):
        tf.while_loop(lambda a: a, lambda a: a + 1, [tf.constant(0)])


def test_maximum_iterations():
    out = tf.while_loop(lambda v: v < 1000, lambda v: v + 1, [tf.constant(0)],
                        maximum_iterations=7)
    assert _run(out) == 7


def test_nested_loops_and_conds_forward():
    x = tf.placeholder(tf.float32, [])
    w = tf.constant(2.0)

    def outer_body(i, s):
        _, t = tf.while_loop(lambda j, t: j < i,
                             lambda j, t: (j + 1, t + w * tf.cast(j, tf.float32)),
                             [tf.constant(0), tf.constant(0.0)])
        return i + 1, tf.cond(i % 2 > 0, lambda: s + t, lambda: s - x)
    out = tf.while_loop(lambda i, s: i < 5, outer_body, [tf.constant(0), x])[1]
    in_dead_branch = tf.cond(x > 100.0, lambda: tf.while_loop(lambda k: k < 3.0,
                                                              lambda k: k + 1.0, [x]),
                             lambda: x * 0.5)

    def reference(xv):
        s = xv
        for i in range(5):
            t = sum(2.0 * j for j in range(i))
            s = s + t if i % 2 else s - xv
        return s
    with tf.Session() as sess:
        assert sess.run(out, {x: 1.5}) == pytest.approx(reference(1.5))
        assert sess.run(in_dead_branch, {x: 1.0}) == 0.5
        assert sess.run(in_dead_branch, {x: 200.0}) == 200.0


@pytest.mark.parametrize("parallel", [2, 10, 32])
def test_parallel_iterations_give_the_same_results(parallel):
    """A data-dependent loop writing a TensorArray: same values and gradients as with 1."""
    x = tf.placeholder(tf.float64, [4])

    def build(p):
        ta = TensorArray(tf.float64, size=0, dynamic_size=True)

        def body(i, v, ta):
            v = v * 1.2 + tf.sin(v) * 0.1
            return i + 1, v, ta.write(i, tf.reduce_sum(v * v))
        i, v, ta = tf.while_loop(lambda i, v, ta: tf.reduce_sum(v) < 20.0, body,
                                 [tf.constant(0), x, ta], parallel_iterations=p)
        out = [i, v, ta.stack()]
        return out + tf.gradients(tf.reduce_sum(out[2]) + tf.reduce_sum(v), x)
    one, many = build(1), build(parallel)
    value = np.array([0.5, 1.0, 1.5, 2.0])
    with tf.Session() as sess:
        got_one = sess.run(one, {x: value})
        got_many = sess.run(many, {x: value})
    assert got_one[0] > 3
    for a, b in zip(got_one, got_many):
        np.testing.assert_array_equal(a, b)


def test_parallel_iterations_bound_the_iterations_alive():
    def build(p):
        return tf.while_loop(lambda i, s: i < 20,
                             lambda i, s: (i + 1, tf.sin(tf.sin(tf.sin(s)))),
                             [tf.constant(0), tf.constant(1.0)], parallel_iterations=p)
    loops = {p: build(p) for p in (1, 4)}
    with tf.Session() as sess:
        for p, out in loops.items():
            sess.run(out)
            plan = [pl for key, pl in sess._plans.items() if out[0] in key[1]][0]
            assert max(plan.peak_iterations.values()) <= p
        assert max(plan.peak_iterations.values()) > 1  # iterations do overlap


# ---- gradients ---------------------------------------------------------------------------------
def test_cond_gradients():
    _check_grad(lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: x * x, lambda: tf.sin(x)))
    _check_grad(lambda x: tf.cond(tf.reduce_sum(x) < 0, lambda: x * x, lambda: tf.sin(x)))
    w = tf.constant([1.0, 2.0, 3.0], tf.float64)
    _check_grad(lambda x: tf.cond(x[0] > 0, lambda: x * w, lambda: w))  # one branch ignores x


def test_while_loop_gradients():
    w = tf.constant([0.5, 1.5, -1.0], tf.float64)
    _check_grad(lambda x: tf.while_loop(lambda i, v: i < 4,
                                        lambda i, v: (i + 1, tf.sin(v) * w + x),
                                        [tf.constant(0), x])[1])


def test_gradient_of_a_loop_whose_trip_count_depends_on_data():
    _check_grad(lambda x: tf.while_loop(lambda v: tf.reduce_sum(v) < 20.0,
                                        lambda v: v * 1.7 + tf.square(v) * 0.1, [x]))


def test_nested_loop_gradients():
    def nested(x):
        def body(i, s):
            _, t = tf.while_loop(lambda j, t: j < i,
                                 lambda j, t: (j + 1, t * x[0] + s), [tf.constant(0), s])
            return i + 1, t
        return tf.while_loop(lambda i, s: i < 3, body, [tf.constant(0), x[1:]])[1]
    grad = _check_grad(nested)
    assert np.all(grad != 0)


def test_gradients_through_cond_inside_loop_and_loop_inside_cond():
    def cond_in_loop(x):
        def body(i, s):
            return i + 1, tf.cond(tf.reduce_sum(s) > 4.0, lambda: s * 0.5, lambda: s * s + x)
        return tf.while_loop(lambda i, s: i < 4, body, [tf.constant(0), x])[1]
    _check_grad(cond_in_loop)

    def loop_in_cond(x):
        return tf.cond(tf.reduce_sum(x) > 1.0,
                       lambda: tf.while_loop(lambda s: tf.reduce_sum(s) < 10.0,
                                             lambda s: s * 1.3, [x]), lambda: x)
    _check_grad(loop_in_cond)


def test_back_prop_false_stops_gradients():
    x = tf.placeholder(tf.float32, [])
    out = tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x], back_prop=False)
    assert tf.gradients(out, x) == [None]


def test_gradient_loop_reverses_iterations_with_stacks():
    x = tf.placeholder(tf.float64, [])
    out = tf.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, v * v), [tf.constant(0), x])[1]
    grad = tf.gradients(out, x)[0]
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"TensorArrayWriteV2", "TensorArrayReadV2"} <= types  # forward values kept
    with tf.Session() as sess:
        assert sess.run(grad, {x: 1.01}) == pytest.approx(32 * 1.01 ** 31)


# ---- export ------------------------------------------------------------------------------------
def test_exported_graph_def_uses_tf1_primitives():
    x = tf.placeholder(tf.float32, [])
    tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x], name="loop")
    tf.cond(x > 0, lambda: x, lambda: -x)
    graph_def = tf.get_default_graph().as_graph_def()
    types = {node.op for node in graph_def.node}
    assert {"Enter", "Merge", "Switch", "Exit", "NextIteration", "LoopCond"} <= types
    enters = [n for n in graph_def.node if n.op == "Enter"]
    assert all(n.attr["frame_name"].s == b"loop/while_context" for n in enters)
    assert all(n.attr["parallel_iterations"].i == 10 for n in enters)
    merge = [n for n in graph_def.node if n.op == "Merge" and n.name.startswith("loop/")][0]
    assert merge.input[1].startswith("loop/NextIteration")
