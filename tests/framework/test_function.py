"""Graph functions (framework/function.py, Defun): TF 0.9/1.0 function_test-style cases."""
import os
import threading

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors, importer, protos, registry
from tensorflux.ops import gradient_checker
from tensorflux.python.framework import function

pytestmark = pytest.mark.timeout(60)

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                    "function")


def _plus_minus():
    @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
    def plus_minus(a, b):
        return a + b, a - b
    return plus_minus


def _run(fetches, feed=None, graph=None, config=None):
    with tf.Session(graph=graph, config=config) as sess:
        return sess.run(fetches, feed)


# ---- definition and calls ------------------------------------------------------------------
def test_simple_add_makes_one_call_node_and_a_library_entry():
    @function.Defun(tf.float32, tf.float32)
    def MyAdd(x, y):
        return x + y

    a = tf.constant([1.0, 2.0])
    c = MyAdd(a, tf.constant([10.0, 20.0]), name="c")
    assert c.op.type == MyAdd.name and MyAdd.name.startswith("MyAdd_")
    assert c.op.name == "c" and c.dtype == tf.float32 and c.get_shape().as_list() == [2]
    assert [i.name for i in MyAdd.definition.signature.input_arg] == ["x", "y"]
    library = tf.get_default_graph().as_graph_def().library
    assert [f.signature.name for f in library.function] == [MyAdd.name]
    np.testing.assert_allclose(_run(c), [11.0, 22.0])


def test_multiple_outputs_and_out_names():
    @function.Defun(tf.int32, tf.int32, out_names=["sum", "diff"])
    def PlusMinus(a, b):
        return a + b, a - b

    s, d = PlusMinus(tf.constant([5, 7]), tf.constant([1, 2]))
    assert [o.name for o in PlusMinus.definition.signature.output_arg] == ["sum", "diff"]
    got = _run([s, d])
    np.testing.assert_array_equal(got[0], [6, 9])
    np.testing.assert_array_equal(got[1], [4, 5])


def test_output_shapes_follow_the_call_inputs():
    plus_minus = _plus_minus()
    known = plus_minus(tf.placeholder(tf.float32, [2, 3]), tf.placeholder(tf.float32, [2, 3]))
    assert known[0].get_shape().as_list() == [2, 3]
    unknown = plus_minus(tf.placeholder(tf.float32), tf.placeholder(tf.float32))
    assert unknown[1].get_shape().ndims is None

    @function.Defun(tf.float32)
    def Flat(a):
        return tf.reshape(a, [-1])
    assert Flat(tf.zeros([4, 5])).get_shape().as_list() == [20]


def test_function_is_added_once_and_works_in_two_graphs():
    plus_minus = _plus_minus()
    for _ in range(2):
        with tf.Graph().as_default() as g:
            s, _ = plus_minus(1.0, 2.0)
            plus_minus(3.0, 4.0)
            assert len(g.as_graph_def().library.function) == 1
            assert _run(s, graph=g) == 3.0


def test_nested_defun_adds_both_functions():
    @function.Defun(tf.float32, func_name="Inner")
    def inner(a):
        return a * a

    @function.Defun(tf.float32, func_name="Outer")
    def outer(a):
        return inner(a) + inner(a + 1.0)

    y = outer(tf.constant([1.0, 2.0]))
    names = sorted(f.signature.name for f in tf.get_default_graph().as_graph_def().library.function)
    assert names == ["Inner", "Outer"]
    np.testing.assert_allclose(_run(y), [1 + 4, 4 + 9])


def test_defun_without_input_types_instantiates_per_dtype():
    @function.Defun()
    def Mul(a, b):
        return a * b

    f32, i32 = Mul(2.0, 3.0), Mul(tf.constant(2), tf.constant(3))
    assert f32.op.type != i32.op.type and (f32.dtype, i32.dtype) == (tf.float32, tf.int32)
    assert _run([f32, i32]) == [6.0, 6]


def test_define_function_declare_and_noinline_attr():
    def scale(x):
        return x * 3.0
    fn = function.define_function(scale, {"x": tf.float32}, func_name="Scale")
    assert fn.name == "Scale" and fn.declared_input_types == (tf.float32,)

    @function.Defun(tf.float32, func_name="Twice", noinline=True)
    def twice(x):
        return x * 2.0
    assert twice.definition.attr["_noinline"].b
    foo = function.Declare("Twice", [("x", tf.float32)], [("y", tf.float32)])
    declared = foo(tf.constant(4.0))
    twice(tf.constant(0.0))  # puts Twice into the graph's library
    assert declared.op.type == "Twice" and _run([declared, fn(tf.constant(1.0))]) == [8.0, 3.0]


# ---- errors ----------------------------------------------------------------------------------
def test_definition_errors_use_tf_wording():
    with pytest.raises(ValueError, match="can not return None"):
        @function.Defun()
        def NoResult():
            pass
        NoResult()
    with pytest.raises(ValueError, match="are not supported"):
        @function.Defun(tf.float32)
        def DefaultArg(a, b=1):
            return a
    with pytest.raises(ValueError, match="fewer arguments than the number of specified input"):
        @function.Defun(tf.float32, tf.float32)
        def OneArg(a):
            return a
    with pytest.raises(ValueError, match="Unknown keyword arguments"):
        function.Defun(tf.float32, flavour=1)


def test_call_errors_use_tf_wording():
    plus_minus = _plus_minus()
    with pytest.raises(ValueError, match="Expected number of arguments: 2, received: 1"):
        plus_minus(1.0)
    with pytest.raises(ValueError, match="Expected number of arguments: 2, received: 3"):
        plus_minus(1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="Unknown keyword arguments"):
        plus_minus(1.0, 2.0, device="/cpu:0")
    with pytest.raises(ValueError, match="Input 'b' passed int32 expected float while "
                                         "building NodeDef 'PlusMinus'"):
        plus_minus(1.0, tf.constant(2))


def test_name_clashes_are_refused():
    _plus_minus()(1.0, 2.0)

    @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
    def other(a, b):
        return a * b, a
    with pytest.raises(ValueError, match="a different function with the same name"):
        other(1.0, 2.0)

    @function.Defun(tf.float32, func_name="MatMul")
    def matmul(a):
        return a
    with pytest.raises(ValueError, match="an op with the same name already exists"):
        matmul(1.0)


def test_body_failing_at_run_time_names_the_node_the_function_and_the_call():
    @function.Defun(tf.float32, func_name="Bad")
    def bad(a):
        return tf.reshape(a, [5])

    x = tf.placeholder(tf.float32)
    y = bad(x, name="call_bad")
    with pytest.raises(errors.InvalidArgumentError) as info:
        _run(y, {x: [1.0, 2.0, 3.0]})
    message = str(info.value)
    assert "Input to reshape is a tensor with 3 values" in message
    assert "Reshape op 'Reshape'" in message and "function 'Bad'" in message
    assert "'call_bad'" in message
    assert _run(y, {x: np.arange(5.0)}).tolist() == [0, 1, 2, 3, 4]  # same session plan reused


# ---- control flow ---------------------------------------------------------------------------
def test_defun_in_while_loop_and_cond_with_gradients():
    @function.Defun(tf.float32, func_name="Halve")
    def halve(v):
        return (v * v + 1.0) * 0.5

    x = tf.placeholder(tf.float32, [3])
    _, w = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, halve(v)), [tf.constant(0), x])
    c = tf.cond(tf.reduce_sum(x) > 0, lambda: halve(x), lambda: x * 0.0)
    grad = tf.gradients(w, x)[0]
    xv = np.array([1.0, 2.0, -1.0], np.float32)
    got_w, got_c, got_g = _run([w, c, grad], {x: xv})
    v, d = xv.astype(np.float64), np.ones(3)
    for _ in range(3):
        d, v = d * v, (v * v + 1) * 0.5
    np.testing.assert_allclose(got_w, v, rtol=1e-6)
    np.testing.assert_allclose(got_g, d, rtol=1e-5)
    np.testing.assert_allclose(got_c, (xv * xv + 1) * 0.5)


def test_body_with_control_flow_runs():
    @function.Defun(tf.float32, func_name="Loop")
    def loop(a):
        return tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2.0),
                             [tf.constant(0), a])[1]

    assert _run(loop(tf.constant(1.5))) == 24.0


# ---- gradients ------------------------------------------------------------------------------
def test_grad_func_is_called_with_inputs_and_output_gradients():
    @function.Defun(tf.float32, tf.float32, func_name="XSquareGrad")
    def grad(x, dy):
        return dy * 100.0 + x  # deliberately not the true gradient: shows which one ran

    @function.Defun(tf.float32, func_name="XSquare", grad_func=grad)
    def square(x):
        return x * x

    assert square.grad_func_name == "XSquareGrad"
    x = tf.constant([1.0, 2.0])
    g = tf.gradients(square(x), x, grad_ys=tf.constant([1.0, 3.0]))[0]
    np.testing.assert_allclose(_run(g), [101.0, 302.0])
    library = tf.get_default_graph().as_graph_def().library
    assert [(e.function_name, e.gradient_func) for e in library.gradient] == [
        ("XSquare", "XSquareGrad")]


def test_python_grad_func_is_called_at_graph_build_time():
    calls = []

    def py_grad(op, dy):
        calls.append(op.type)
        return [dy * op.inputs[0] * 7.0]

    @function.Defun(tf.float32, func_name="PyGrad", python_grad_func=py_grad)
    def f(x):
        return x * x

    x = tf.constant([2.0])
    g = tf.gradients(f(x), x)[0]
    assert calls == ["PyGrad"] and f.python_grad_func is py_grad
    np.testing.assert_allclose(_run(g), [14.0])


def test_symbolic_gradient_matches_numeric_in_float64():
    @function.Defun(tf.float64, tf.float64, func_name="Mixed")
    def mixed(a, b):
        return tf.tanh(a) * b, tf.reduce_sum(tf.matmul(a, b, transpose_b=True))

    rng = np.random.RandomState(3)
    a, b = tf.constant(rng.rand(2, 3)), tf.constant(rng.rand(2, 3))
    u, v = mixed(a, b)
    with tf.Session():
        for y, shape in ((u, (2, 3)), (v, ())):
            err = gradient_checker.compute_gradient_error([a, b], [(2, 3), (2, 3)], y, shape)
            assert err < 1e-6, err
    names = [f.signature.name for f in tf.get_default_graph().as_graph_def().library.function]
    assert "Mixed_SymbolicGradient" in names


def test_symbolic_gradient_through_nested_calls():
    @function.Defun(tf.float64, func_name="Cube")
    def cube(a):
        return a * a * a

    @function.Defun(tf.float64, func_name="CubePlus")
    def cube_plus(a):
        return cube(a) + a

    x = tf.constant([1.0, -2.0], tf.float64)
    np.testing.assert_allclose(_run(tf.gradients(cube_plus(x), x)[0]), [4.0, 13.0])


# ---- GraphDef, MetaGraph, optimizer ---------------------------------------------------------
def _build_for_round_trip():
    plus_minus = _plus_minus()

    @function.Defun(tf.float32, tf.float32, func_name="ScaledGrad")
    def scaled_grad(a, dy):
        return dy * 3.0

    @function.Defun(tf.float32, func_name="Scaled", grad_func=scaled_grad)
    def scaled(a):
        return a * 3.0

    x = tf.placeholder(tf.float32, [2], name="x")
    s, d = plus_minus(x, scaled(x), name="pm")
    return tf.identity(s * d, name="out")


def test_graph_def_round_trip_recreates_the_functions():
    out = _build_for_round_trip()
    feed = {"x:0": np.array([1.0, 2.0], np.float32)}
    want = _run(out, feed)
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        assert _run("out:0", feed, graph=g).tolist() == want.tolist()
        again = g.as_graph_def()
        assert sorted(f.signature.name for f in again.library.function) == [
            "PlusMinus", "Scaled", "ScaledGrad"]
        x = g.get_tensor_by_name("x:0")
        grad = tf.gradients(g.get_tensor_by_name("out:0"), x)[0]
        # out = (x + 3x)(x - 3x) = -8x^2: 2x directly plus ScaledGrad's 3 * (d - s) = -18x
        got = _run(grad, feed, graph=g)
    np.testing.assert_allclose(got, [-16.0 + 0.0, -32.0])


def test_meta_graph_round_trip_keeps_the_functions(tmp_path):
    out = _build_for_round_trip()
    tf.add_to_collection("outputs", out)
    meta = tf.train.export_meta_graph(str(tmp_path / "m.meta"))
    assert len(meta.graph_def.library.function) == 3
    with tf.Graph().as_default() as g:
        tf.train.import_meta_graph(str(tmp_path / "m.meta"))
        got = _run(tf.get_collection("outputs")[0], {"x:0": [1.0, 2.0]}, graph=g)
    np.testing.assert_allclose(got, [-8.0, -32.0])


def test_imports_a_graph_def_that_tensorflow_made_with_defun():
    with open(os.path.join(DATA, "tf_defun.pb"), "rb") as f:
        graph_def = protos.GraphDef.FromString(f.read())
    want = np.load(os.path.join(DATA, "tf_defun.npz"))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        names = {"pm0": "pm:0", "pm1": "pm:1", "sq": "sq:0", "total": "total:0",
                 "scaled": "scaled:0"}
        got = _run({k: v for k, v in names.items()}, {"x:0": want["x"], "y:0": want["y"]},
                   graph=g)
        y = g.get_tensor_by_name("y:0")
        grad = _run(tf.gradients(g.get_tensor_by_name("scaled:0"), y)[0],
                    {"y:0": want["y"]}, graph=g)
    for key in names:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6)
    np.testing.assert_allclose(grad, np.full((2, 3), 3.0))  # TF's ScaledGrad, from the library


def test_imports_tensorflows_symbolic_gradient_of_a_defun_call():
    with open(os.path.join(DATA, "tf_defun_grad.pb"), "rb") as f:
        graph_def = protos.GraphDef.FromString(f.read())
    assert any(n.op == "SymbolicGradient" for n in graph_def.node)
    want = np.load(os.path.join(DATA, "tf_defun_grad.npz"))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        got = _run(["gx:0", "gy:0"], {f"{k}:0": want[k] for k in ("x", "y", "du", "dv")},
                   graph=g)
        assert [f.signature.name for f in g.as_graph_def().library.function] == ["Mix"]
    np.testing.assert_allclose(got[0], want["gx"], rtol=1e-6)
    np.testing.assert_allclose(got[1], want["gy"], rtol=1e-6)


def test_import_checks_function_bodies_against_allowed_ops():
    @function.Defun(tf.string, func_name="Reads")
    def reads(path):
        return tf.read_file(path)

    reads(tf.constant("x"))
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(errors.PermissionDeniedError, match="Reads/ReadFile"):
            tf.import_graph_def(graph_def, allowed_ops=importer.SAFE_OPS)
        tf.import_graph_def(graph_def, allowed_ops=importer.SAFE_OPS | {"ReadFile"})


def test_broken_function_def_is_reported():
    graph_def = protos.GraphDef()
    fdef = graph_def.library.function.add()
    fdef.signature.name = "Broken"
    fdef.signature.input_arg.add(name="a", type=protos.types_pb2.DT_FLOAT)
    fdef.signature.output_arg.add(name="b", type=protos.types_pb2.DT_FLOAT)
    fdef.ret["b"] = "nowhere:z:0"
    graph_def.node.add(name="x", op="Placeholder").attr["dtype"].type = 1
    graph_def.node.add(name="call", op="Broken", input=["x"])
    with pytest.raises(ValueError, match="function 'Broken'.*nowhere:z:0"):
        tf.import_graph_def(graph_def)


def test_calls_are_opaque_to_the_optimizer_and_stateful_bodies_rerun():
    @function.Defun(tf.float32, func_name="Noisy")
    def noisy(a):
        return a + tf.random_uniform([3])

    @function.Defun(tf.float32, func_name="Pure")
    def pure(a):
        return a * 2.0

    assert registry.registered_ops().get("Noisy") is None  # functions stay out of the registry
    y, z = noisy(tf.constant(1.0)), pure(tf.constant([1.0, 2.0]))
    assert y.op.op_def.is_stateful and not z.op.op_def.is_stateful
    twin = noisy(tf.constant(1.0))  # the same call twice: never merged into one
    with tf.Session() as sess:
        first, second = sess.run(y), sess.run(y)
        assert not np.array_equal(*sess.run([y, twin]))
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        meta = tf.RunMetadata()
        assert sess.run(z, options=options, run_metadata=meta).tolist() == [2.0, 4.0]
    assert not np.array_equal(first, second)
    ran = {n.node_name for d in meta.step_stats.dev_stats for n in d.node_stats}
    assert "Pure" in ran  # not folded away although its input is a constant


def test_call_placed_on_another_device_and_partition_graphs_carry_the_library():
    plus_minus = _plus_minus()
    x = tf.placeholder(tf.float32, [2])
    with tf.device("/cpu:1"):
        s, _ = plus_minus(x, x)
    out = s + 1.0
    meta = tf.RunMetadata()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        got = sess.run(out, {x: [1.0, 2.0]},
                       options=tf.RunOptions(output_partition_graphs=True), run_metadata=meta)
    assert got.tolist() == [3.0, 5.0]
    libraries = [[f.signature.name for f in p.library.function] for p in meta.partition_graphs]
    assert sorted(libraries) == [[], ["PlusMinus"]]


def test_concurrent_steps_share_the_body_plan():
    plus_minus = _plus_minus()
    x = tf.placeholder(tf.float32, [])
    s, d = plus_minus(x, 1.0)
    results, failures = {}, []
    with tf.Session() as sess:
        def work(k):
            try:
                results[k] = sess.run([s, d], {x: float(k)})
            except Exception as e:  # noqa: BLE001 - reported by the assert below
                failures.append(e)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not failures and all(results[k] == [k + 1.0, k - 1.0] for k in range(8))


def test_outer_tensors_are_captured_as_extra_inputs():
    w = tf.Variable([1.0, 2.0], name="w")
    bias = tf.constant(10.0, name="bias")

    @function.Defun(tf.float32, func_name="Affine")
    def affine(x):
        return x * w + bias

    y = affine(tf.constant([3.0, 4.0]))
    assert [t.name for t in affine.captured_inputs] == ["w/read:0", "bias:0"]
    assert len(y.op.inputs) == 3 and len(affine.definition.signature.input_arg) == 3
    grad = tf.gradients(tf.reduce_sum(y), w)[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_y, got_g = sess.run([y, grad])
    np.testing.assert_allclose(got_y, [13.0, 18.0])
    np.testing.assert_allclose(got_g, [3.0, 4.0])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="uses tensors of another graph"):
            affine(tf.constant([1.0, 1.0]))


def test_second_derivative_through_generated_gradient_functions():
    @function.Defun(tf.float64, func_name="Cube")
    def cube(a):
        return a * a * a

    v = tf.constant([2.0, 1.0], tf.float64)
    first = tf.gradients(cube(v), v)[0]
    second = tf.gradients(tf.reduce_sum(first * v), v)[0]  # d/dv 3v^3 = 9v^2
    got = _run([first, second])
    np.testing.assert_allclose(got[0], [12.0, 3.0])
    np.testing.assert_allclose(got[1], [36.0, 9.0])


def test_body_plan_runs_with_and_without_the_graph_optimizer():
    @function.Defun(tf.float32, func_name="Chain")
    def chain(a):
        return tf.exp(a * 1.0 + 0.0) * 2.0 - tf.constant(1.0) * 3.0

    y = chain(tf.placeholder_with_default(tf.constant([0.0, 1.0]), [2]))
    off = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    want = np.exp([0.0, 1.0]) * 2.0 - 3.0
    np.testing.assert_allclose(_run(y), want, rtol=1e-6)
    np.testing.assert_allclose(_run(y, config=off), want, rtol=1e-6)


def test_nested_body_captures_and_lambda_names():
    top = tf.constant(5.0, name="top")

    @function.Defun(tf.float32, func_name="AddTop")
    def add_top(a):
        return a + top

    @function.Defun(tf.float32, func_name="TwiceAddTop")
    def twice(a):
        return add_top(a) * 2.0

    y = twice(tf.constant(1.0))
    assert twice.captured_inputs == [top] and add_top.captured_inputs == [top]
    square = function.Defun(tf.float32)(lambda a: a * a)
    z = square(tf.constant(3.0))
    assert square.name.startswith("lambda_") and z.op.name == square.name
    assert _run([y, z]) == [12.0, 9.0]


def test_importing_twice_shares_the_library_and_a_clash_is_refused_before_building():
    _plus_minus()(1.0, 2.0, name="pm")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="a")
        tf.import_graph_def(graph_def, name="b")
        assert len(g.as_graph_def().library.function) == 1
        assert _run(["a/pm:0", "b/pm:1"], graph=g) == [3.0, -1.0]
    with tf.Graph().as_default() as g:
        @function.Defun(tf.float32, tf.float32, func_name="PlusMinus")
        def other(a, b):
            return a * b, a
        other(1.0, 2.0)
        before = len(g.get_operations())
        with pytest.raises(ValueError, match="function 'PlusMinus' differs"):
            tf.import_graph_def(graph_def)
        assert len(g.get_operations()) == before
