"""TF 0.9/1.x behaviour of tf.cond and tf.while_loop (issue 10): 0.9's positional
parallel_iterations, shape-changing loop variables without shape_invariants, variable updates
inside conds and loops (RefSwitch, RefEnter), IndexedSlices and SparseTensor through conds and
loops, and the order in which their ops are created."""
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec
from tensorflux.ops import control_flow_ops as cf
from tensorflux.ops import state_ops

pytestmark = pytest.mark.timeout(60)


def _fresh(x):
    """A new variable holding `x` (the ref output of its Assign)."""
    return state_ops.assign(state_ops.variable_op(x.get_shape(), x.dtype.base_dtype), x,
                            validate_shape=False)


def _ref_switch(x):
    return cf.ref_switch(_fresh(x), tf.constant(True))[1]


def _ref_enter(x):
    var = _fresh(x)  # read inside the loop: entered as a reference (RefEnter)
    return tf.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s + var),
                         [tf.constant(0), tf.zeros_like(x)])[1]


def _ref_select(x):
    return cf.ref_select(tf.constant(1), [_fresh(x - x), _fresh(x), _fresh(x + x)])


SPECS = [  # no gradients: the values come from variables (Assign is not differentiable)
    OpSpec("RefSwitch", _ref_switch, lambda x: x, [((3, 2),), ((),)], grad=[]),
    OpSpec("RefEnter", _ref_enter, lambda x: 2 * x, [((3,),), ((),)], grad=[]),
    OpSpec("RefSelect", _ref_select, lambda x: x, [((3, 2),), ((),)], grad=[]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _run(fetches, init=True):
    with tf.Session() as sess:
        if init:
            sess.run(tf.global_variables_initializer())
        return sess.run(fetches)


def _enters(graph=None):
    ops = (graph or tf.get_default_graph()).get_operations()
    return [op for op in ops if op.type == "Enter" and not op.get_attr("is_constant")]


def test_positional_parallel_iterations_as_in_tf09():
    i = tf.constant(0)
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], 5)
    assert [e.get_attr("parallel_iterations") for e in _enters()] == [5]
    # every argument positional, as 0.9 took them: (parallel_iterations, back_prop,
    # swap_memory, name)
    r2 = tf.while_loop(lambda i: i < 3, lambda i: i + 1, [i], 7, False, False, "myloop")
    assert r2.name.startswith("myloop/")
    assert _enters()[-1].get_attr("parallel_iterations") == 7
    assert _run([r, r2]) == [10, 3]


def test_shape_changing_loop_variable_gets_an_unknown_shape():
    x = tf.zeros([1])
    r = tf.while_loop(lambda x: tf.shape(x)[0] < 5, lambda x: tf.concat([x, x], 0), [x])
    assert r.get_shape().ndims is None  # TF 0.9: unknown; TF 1.0 raised a ValueError
    assert _run(r).shape == (8,)
    # a given invariant that the body breaks is still 1.0's error
    with pytest.raises(ValueError, match="^Input tensor 'zeros_1:0' enters the loop with shape "
                                         r"\(1,\), but has shape \(2,\) after one iteration"):
        tf.while_loop(lambda x: tf.shape(x)[0] < 5, lambda x: tf.concat([x, x], 0),
                      [tf.zeros([1])], shape_invariants=[tf.TensorShape([1])])


def test_assign_in_cond_updates_the_variable_on_the_taken_branch_only():
    v = tf.Variable(0, name="v")
    pred = tf.placeholder(tf.bool, [])
    r = tf.cond(pred, lambda: tf.assign_add(v, 3), lambda: tf.assign(v, 7))
    types = [op.type for op in tf.get_default_graph().get_operations()]
    assert types.count("RefSwitch") == 2
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {pred: True}) == 3 and sess.run(v) == 3
        assert sess.run(r, {pred: True}) == 6
        assert sess.run(r, {pred: False}) == 7 and sess.run(v) == 7


def test_assign_add_in_while_body_runs_once_per_iteration():
    v = tf.Variable(0, name="v")

    def body(i):
        with tf.control_dependencies([tf.assign_add(v, 2)]):
            return i + 1
    r = tf.while_loop(lambda i: i < 5, body, [tf.constant(0)])
    assert "RefEnter" in [op.type for op in tf.get_default_graph().get_operations()]
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r) == 5
        assert sess.run(v) == 10


# TF 1.x's graphs for the same code (TF 2.21, tf.compat.v1 with control flow v1), with AddV2
# written as 0.9/1.x's Add
TF_WHILE = [("i", "Const"), ("while/Enter", "Enter"), ("while/Merge", "Merge"),
            ("while/Less", "Less"), ("while/LoopCond", "LoopCond"), ("while/Switch", "Switch"),
            ("while/Identity", "Identity"), ("while/add/y", "Const"), ("while/add", "Add"),
            ("while/NextIteration", "NextIteration"), ("while/Exit", "Exit")]
TF_COND = [("x", "Const"), ("Const", "Const"), ("cond/Switch", "Switch"),
           ("cond/switch_t", "Identity"), ("cond/switch_f", "Identity"),
           ("cond/pred_id", "Identity"), ("cond/add/y", "Const"), ("cond/add", "Add"),
           ("cond/sub/y", "Const"), ("cond/sub", "Sub"), ("cond/Merge", "Merge")]


def _graph_of(tf_module, which):
    if which == "while":
        i = tf_module.constant(0, name="i")
        tf_module.while_loop(lambda i: i < 10, lambda i: i + 1, [i])
    else:
        x = tf_module.constant(1.0, name="x")
        tf_module.cond(tf_module.constant(True), lambda: x + 1, lambda: x - 1)
    ops = tf_module.get_default_graph().get_operations()
    # the captured values' Switches and the loop bound's name differ: compare the rest
    return [(op.name, op.type.replace("AddV2", "Add")) for op in ops
            if not (op.type == "Switch" and op.name not in ("cond/Switch", "while/Switch"))
            and op.name not in ("while/Const", "while/Less/y")]


@pytest.mark.parametrize("which,expected", [("while", TF_WHILE), ("cond", TF_COND)])
def test_ops_are_created_in_tf_order(which, expected):
    assert _graph_of(tf, which) == expected


@pytest.mark.tensorflow
@pytest.mark.parametrize("which,expected", [("while", TF_WHILE), ("cond", TF_COND)])
def test_tensorflow_creates_the_same_ops_in_the_same_order(which, expected):
    real = pytest.importorskip("tensorflow")
    v1 = real.compat.v1
    v1.disable_control_flow_v2()
    try:
        with v1.Graph().as_default():
            assert _graph_of(v1, which) == expected
    finally:
        v1.enable_control_flow_v2()


def _sparse(values):
    return tf.SparseTensor(tf.constant([[0, 0], [1, 2]], tf.int64), tf.constant(values),
                           tf.constant([2, 3], tf.int64))


def test_cond_returns_indexed_slices_and_sparse_tensors_as_such():
    pred = tf.placeholder(tf.bool, [])
    rows = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([1]), tf.constant([3, 2]))
    doubled = lambda: tf.IndexedSlices(rows.values * 2.0, rows.indices, rows.dense_shape)  # noqa
    got = tf.cond(pred, lambda: (rows, _sparse([1.0, 2.0])),
                  lambda: (doubled(), _sparse([5.0, 6.0])))
    assert isinstance(got[0], tf.IndexedSlices) and isinstance(got[1], tf.SparseTensor)
    with tf.Session() as sess:
        for flag, scale, values in ((True, 1.0, [1.0, 2.0]), (False, 2.0, [5.0, 6.0])):
            v, i, s, sp = sess.run([got[0].values, got[0].indices, got[0].dense_shape, got[1]],
                                   {pred: flag})
            assert v.tolist() == [[scale, 2.0 * scale]] and i.tolist() == [1]
            assert s.tolist() == [3, 2]
            assert sp.values.tolist() == values and sp.indices.tolist() == [[0, 0], [1, 2]]


def test_cond_of_indexed_slices_and_a_tensor_gives_a_tensor():
    rows = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([1]), tf.constant([2, 2]))
    got = tf.cond(tf.constant(True), lambda: rows, lambda: tf.zeros([2, 2]))
    assert isinstance(got, tf.Tensor)
    assert _run(got, init=False).tolist() == [[0.0, 0.0], [1.0, 2.0]]


def test_while_loop_carries_indexed_slices_and_sparse_tensors():
    rows = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]), tf.constant([2, 1]))

    def body(i, s, sp):
        return (i + 1, tf.IndexedSlices(s.values * 2.0, s.indices, s.dense_shape),
                tf.SparseTensor(sp.indices, sp.values + 1.0, sp.dense_shape))
    _, s, sp = tf.while_loop(lambda i, s, sp: i < 3, body,
                             [tf.constant(0), rows, _sparse([1.0, 2.0])])
    assert isinstance(s, tf.IndexedSlices) and isinstance(sp, tf.SparseTensor)
    values, sparse = _run([s.values, sp], init=False)
    assert values.tolist() == [[8.0]] and sparse.values.tolist() == [4.0, 5.0]
