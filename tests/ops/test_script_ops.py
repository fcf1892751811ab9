"""tf.py_func: harness entries for PyFunc / PyFuncStateless, and their behaviour."""
import gc

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run
from tensorflux.ops import script_ops


def _with_shape(out, like):
    out.set_shape(like.get_shape())  # py_func outputs have unknown static shape, as in TF
    return out


def _double(x):
    return _with_shape(tf.py_func(lambda a: a * 2, [x], x.dtype), x)


def _stateless_pair(x, y):
    outs = tf.py_func(lambda a, b: [a + b, a * b], [x, y], [x.dtype, x.dtype], stateful=False)
    return [_with_shape(outs[0], x), _with_shape(outs[1], x)]


SPECS = [
    OpSpec("PyFunc", _double, lambda a: a * 2, [((3, 4),), ((),)],
           dtypes=[tf.float32, tf.float64, tf.int32]),
    OpSpec("PyFuncStateless", _stateless_pair, lambda a, b: [a + b, a * b],
           [((2, 3), (2, 3)), ((), ())]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_single_dtype_returns_tensor_and_list_returns_list():
    x = tf.constant([1.0, 2.0])
    y = tf.py_func(np.sin, [x], tf.float32)
    ys = tf.py_func(np.sin, [x], [tf.float32])
    assert isinstance(y, tf.Tensor)
    assert isinstance(ys, list) and len(ys) == 1
    np.testing.assert_allclose(_run(y), np.sin([1.0, 2.0]), rtol=1e-6)
    assert y.op.type == "PyFunc"
    assert y.op.get_attr("Tin") == [tf.float32]
    assert y.op.get_attr("Tout") == [tf.float32]
    assert y.op.get_attr("token").startswith("pyfunc_")


def test_stateful_flag_picks_op_type():
    x = tf.constant(1.0)
    assert tf.py_func(lambda a: a, [x], tf.float32).op.op_def.is_stateful
    stateless = tf.py_func(lambda a: a, [x], tf.float32, stateful=False)
    assert stateless.op.type == "PyFuncStateless"
    assert not stateless.op.op_def.is_stateful


def test_python_scalars_and_widened_arrays_convert_to_tout():
    y = tf.py_func(lambda: (3, np.arange(3, dtype=np.float64), True), [],
                   [tf.int64, tf.float32, tf.bool])
    a, b, c = _run(y)
    assert a.dtype == np.int64 and a == 3
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b, [0, 1, 2])
    assert c.dtype == np.bool_ and c


def test_string_outputs_are_bytes():
    y = tf.py_func(lambda: np.array(["ab", "c"]), [], tf.string)
    assert list(_run(y)) == [b"ab", b"c"]


def test_no_outputs_returns_op_and_runs_for_side_effects():
    seen = []
    x = tf.placeholder(tf.int32)
    op = tf.py_func(lambda a: seen.append(int(a)), [x], [])
    assert isinstance(op, tf.Operation)
    _run(op, {x: 7})
    assert seen == [7]


def test_wrong_number_of_outputs_names_op():
    y = tf.py_func(lambda: (1.0, 2.0), [], [tf.float32], name="two_for_one")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"two_for_one.*returned 2 values.*declares 1"):
        _run(y)


def test_wrong_dtype_names_op_and_types():
    y = tf.py_func(lambda: np.array([1.5]), [], tf.int32, name="float_as_int")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"float_as_int.*float64.*Tout\[0\] = int32"):
        _run(y)
    s = tf.py_func(lambda: "text", [], tf.float32, name="str_as_float")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"str_as_float.*str"):
        _run(s)


def test_python_exceptions_map_to_tf_errors():
    def stop():
        raise StopIteration()

    def bad():
        raise ValueError("no good")

    def other():
        raise KeyError("k")
    with pytest.raises(tf.errors.OutOfRangeError, match="stop"):
        _run(tf.py_func(stop, [], tf.float32, name="stop"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="no good"):
        _run(tf.py_func(bad, [], tf.float32))
    with pytest.raises(tf.errors.UnknownError, match="KeyError"):
        _run(tf.py_func(other, [], tf.float32))


def test_not_differentiable_but_overridable():
    x = tf.constant([1.0, 2.0])
    y = tf.py_func(np.square, [x], tf.float32)
    assert tf.gradients(y, x) == [None]

    @tf.RegisterGradient("TestScriptOpsSquareGrad")
    def _grad(op, grad):
        return [2.0 * op.inputs[0] * grad]
    with tf.get_default_graph().gradient_override_map({"PyFunc": "TestScriptOpsSquareGrad"}):
        z = tf.py_func(np.square, [x], tf.float32)
    z.set_shape([2])
    np.testing.assert_allclose(_run(tf.gradients(z, x)[0]), [2.0, 4.0])


def test_function_is_never_serialized_and_missing_token_is_reported():
    x = tf.constant(1.0)
    y = tf.py_func(lambda a: a, [x], tf.float32, name="lonely")
    graph_def = tf.get_default_graph().as_graph_def()
    blob = graph_def.SerializeToString()
    assert b"lambda" not in blob and b"pyfunc_" in blob
    script_ops._registry.remove(y.op.get_attr("token"))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"lonely.*not registered"):
        _run(y)


def test_functions_are_released_with_their_graph():
    graph = tf.Graph()
    with graph.as_default():
        token = tf.py_func(lambda: 1.0, [], tf.float32).op.get_attr("token")
    assert script_ops._registry.get(token) is not None
    del graph
    gc.collect()
    assert script_ops._registry.get(token) is None


def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        tf.py_func(3, [], tf.float32)
    with pytest.raises(TypeError, match="list of tensors"):
        tf.py_func(np.sin, tf.constant(1.0), tf.float32)
