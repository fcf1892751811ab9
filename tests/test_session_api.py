"""Session.run as TensorFlow 1.x users call it, and the errors the core issue asks for."""
import collections
import threading

import numpy as np
import pytest

import tensorflux as tf


def test_fetch_structures():
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    Pair = collections.namedtuple("Pair", "x y")
    with tf.Session() as sess:
        assert sess.run(a) == 1.0
        assert sess.run("a:0") == 1.0
        res = sess.run({"k": [a, (b, a)], "p": Pair(a, b)})
        assert res["k"][0] == 1.0 and isinstance(res["k"][1], tuple)
        np.testing.assert_array_equal(res["k"][1][0], [2, 3])
        assert isinstance(res["p"], Pair) and res["p"].x == 1.0
        assert sess.run(tf.no_op()) is None
        assert sess.run([a.op, a]) == [None, 1.0]


def test_feed_intermediate_and_pruning():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * 2.0
    z = y + 1.0
    with tf.Session() as sess:
        # y is fed, so x (a placeholder nobody feeds) never runs.
        assert sess.run(z, {y: 10.0}) == 11.0
        assert sess.run(z, feed_dict={"x:0": 1.0}) == 3.0


def test_feed_wrong_shape_names_placeholder_and_shapes():
    x = tf.placeholder(tf.float32, [None, 784], name="images")
    y = tf.reduce_sum(x)
    with tf.Session() as sess:
        with pytest.raises(ValueError) as info:
            sess.run(y, {x: np.zeros([100, 785])})
    msg = str(info.value)
    assert "images:0" in msg and "(100, 785)" in msg and "(?, 784)" in msg


def test_feed_shape_check_agrees_with_is_compatible_with():
    cases = [([None], (5,)), ([None], (5, 1)), ([3, None], (3, 0)), ([3, None], (4, 2)),
             ([], ()), ([], (1,)), (None, (2, 7)), ([2, 1], (2, 1))]
    for dims, array_shape in cases:
        x = tf.placeholder(tf.float32, dims)
        fits = tf.TensorShape(dims).is_compatible_with(array_shape)
        with tf.Session() as sess:
            if fits:
                assert sess.run(x, {x: np.zeros(array_shape)}).shape == array_shape
            else:
                with pytest.raises(ValueError, match=r"^Cannot feed value of shape"):
                    sess.run(x, {x: np.zeros(array_shape)})


def test_unfed_placeholder_error():
    x = tf.placeholder(tf.float32, [2], name="needed")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for "
                                                                  "placeholder tensor 'needed'"):
            sess.run(x + 1.0)


def test_uninitialized_variable_is_failed_precondition_naming_it():
    v = tf.Variable(tf.zeros([2]), name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value weights"):
            sess.run(v + 1.0)
        with pytest.raises(tf.errors.FailedPreconditionError, match="weights"):
            sess.run(v)


def test_fetching_something_not_in_graph_says_what_was_asked():
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    tf.constant(2.0, name="mine")
    with tf.Session() as sess:
        with pytest.raises(KeyError, match="nonexistent"):
            sess.run("nonexistent:0")
        with pytest.raises(ValueError, match="not an element of this graph"):
            sess.run(foreign)
        with pytest.raises(TypeError, match="invalid type"):
            sess.run(object())


def test_eval_and_run_with_default_session():
    a = tf.constant(3.0)
    sess = tf.Session()
    with sess.as_default():
        assert a.eval() == 3.0
        tf.no_op().run()
    with pytest.raises(ValueError, match="default session"):
        a.eval()
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(a)


def test_interactive_session_is_default():
    a = tf.constant(4.0)
    sess = tf.InteractiveSession()
    try:
        assert a.eval() == 4.0
    finally:
        sess.close()


def test_concurrent_runs_are_safe():
    x = tf.placeholder(tf.float32, [3])
    y = tf.matmul(tf.reshape(x, [1, 3]), tf.ones([3, 1])) * 2.0
    sess = tf.Session()
    errors = []

    def worker(k):
        try:
            for i in range(200):
                v = np.full([3], float(k + i), np.float32)
                got = sess.run(y, {x: v})
                assert got[0, 0] == 6.0 * (k + i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_variable_lifecycle_and_assign():
    v = tf.Variable([1.0, 2.0], name="v")
    inc = v.assign_add([1.0, 1.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(inc)
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])
        sess.run(v.assign([5.0, 6.0]))
        np.testing.assert_array_equal(v.eval(), [5.0, 6.0])
    assert v.op.name == "v" and v.value().op.name == "v/read"
    assert v.initializer.name == "v/Assign"


def test_state_is_per_session():
    v = tf.Variable(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(tf.initialize_all_variables())
    s1.run(v.assign(7.0))
    s2.run(tf.initialize_all_variables())
    assert s1.run(v) == 7.0 and s2.run(v) == 1.0


def test_graph_can_grow_after_first_run():
    a = tf.constant(2.0)
    with tf.Session() as sess:
        assert sess.run(a) == 2.0
        b = a * 3.0
        assert sess.run(b) == 6.0


def test_config_and_run_options_are_tf_protos():
    config = tf.ConfigProto(inter_op_parallelism_threads=2, allow_soft_placement=True)
    a = tf.constant(1.0)
    with tf.Session(config=config) as sess:
        meta = tf.RunMetadata()
        assert sess.run(a, options=tf.RunOptions(), run_metadata=meta) == 1.0


def test_fetched_values_survive_their_consumers():
    # The inline plan frees a value after its last consumer, except the values fetched.
    x = tf.placeholder(tf.float32, [2])
    a = tf.multiply(x, 2.0, name="a")
    b = tf.add(a, 1.0, name="b")
    c = tf.multiply(b, a, name="c")
    got = tf.Session().run([a, b, c], {x: [1.0, 2.0]})
    np.testing.assert_array_equal(got[0], [2.0, 4.0])
    np.testing.assert_array_equal(got[1], [3.0, 5.0])
    np.testing.assert_array_equal(got[2], [6.0, 20.0])


def test_a_control_input_added_later_orders_the_inline_plan():
    # `read` is created before `assign` and gets the control edge afterwards: the plan must
    # follow the edge, not creation order.
    v = tf.Variable(1.0, name="v")
    read = tf.identity(v._variable, name="read")  # reads the buffer itself, not v/read
    assign = tf.assign(v, 5.0, name="assign")
    read.op._add_control_inputs([assign.op])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 5.0
