"""TF 0.9/1.x behaviour of values and names (issue 10): operators' op names, auto-packing of
lists holding tensors and variables, TensorShape/Dimension conversion, the 2 GB limit on
constants, str feeds, static shapes TF leaves unknown, and compute_gradient's shape check.
The `tensorflow`-marked tests check the same expectations against TensorFlow 2.21 (compat.v1,
graph mode)."""
import numpy as np
import pytest

import tensorflux

pytestmark = pytest.mark.timeout(60)
tf = tensorflux


def _real_v1():
    real = pytest.importorskip("tensorflow")
    v1 = real.compat.v1
    return v1


# The names TF 1.x gives the ops of Python operators (types as in 0.9/1.x; TF 2.21 builds
# AddV2 for +). Comparisons, negation, abs and ~ take their op's type as name.
OPERATOR_NAMES = ["add", "mul", "sub", "Neg", "truediv", "floordiv", "mod", "Abs", "pow", "Less",
                  "GreaterEqual", "and", "LogicalNot", "or", "xor", "truediv_1", "add_1",
                  "mul_1", "sub_1", "truediv_2"]


def _operator_ops(tf_module):
    a, b = tf_module.constant(1.0, name="a"), tf_module.constant(2.0, name="b")
    t, f = tf_module.constant(True), tf_module.constant(False)
    return [a + b, a * b, a - b, -a, a / b, a // b, a % b, abs(a), a ** b, a < b, a >= b,
            t & f, ~t, t | f, t ^ f, tf_module.constant(1) / tf_module.constant(2), 2.0 + a,
            2.0 * a, 2.0 - a, 2.0 / a]


def test_operators_name_their_ops_as_tf():
    got = _operator_ops(tf)
    assert [t.op.name for t in got] == OPERATOR_NAMES
    assert [t.op.type for t in got[:3]] == ["Add", "Mul", "Sub"]
    # the converted operand is a constant inside the operator's scope
    assert got[16].op.inputs[0].op.name == "add_1/x"  # 2.0 + a
    assert (got[0] + 1.0).op.inputs[1].op.name == "add_2/y"


@pytest.mark.tensorflow
def test_tensorflow_names_operator_ops_the_same():
    v1 = _real_v1()
    with v1.Graph().as_default():
        assert [t.op.name for t in _operator_ops(v1)] == OPERATOR_NAMES


def test_nested_lists_of_tensors_variables_and_numbers_are_packed():
    x = tf.constant(3.0)
    v = tf.Variable(5.0)
    t = tf.convert_to_tensor([[x, 1.0], [v, 2.0]])
    inner = tf.convert_to_tensor([[x, 1.0], [4.0, 2.0]])  # a row of numbers only
    assert t.op.type == "Pack" and t.get_shape().as_list() == [2, 2]
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(t).tolist() == [[3.0, 1.0], [5.0, 2.0]]
        assert sess.run(inner).tolist() == [[3.0, 1.0], [4.0, 2.0]]
    shaped = tf.reshape(tf.zeros([6]), [tf.zeros([2]).get_shape()[0], tf.Dimension(3)])
    assert shaped.get_shape().as_list() == [2, 3]


def test_shapes_and_dimensions_convert_to_int_tensors():
    with tf.Session() as sess:
        assert sess.run(tf.convert_to_tensor(tf.TensorShape([2, 3]))).tolist() == [2, 3]
        assert tf.convert_to_tensor(tf.TensorShape([2, 3])).dtype == tf.int32
        assert tf.convert_to_tensor(tf.TensorShape([2, 3]), dtype=tf.int64).dtype == tf.int64
        assert tf.convert_to_tensor(tf.TensorShape([2 ** 31, 3])).dtype == tf.int64
        assert sess.run(tf.convert_to_tensor(tf.Dimension(4))) == 4
    with pytest.raises(ValueError, match=r"^Cannot convert a partially known TensorShape to a "
                                         r"Tensor: \(2, \?\)"):
        tf.convert_to_tensor(tf.TensorShape([2, None]))
    with pytest.raises(ValueError, match="^Cannot convert an unknown Dimension to a Tensor"):
        tf.convert_to_tensor(tf.Dimension(None))
    with pytest.raises(TypeError, match=r"^Cannot convert TensorShape \(2, 3\) to dtype "
                                        r"<dtype: 'float32'>\. Allowed dtypes are tf.int32 and "
                                        r"tf.int64\."):
        tf.convert_to_tensor(tf.TensorShape([2, 3]), dtype=tf.float32)


def test_constants_over_2gb_are_refused_before_copying():
    # a broadcast view: 2 GiB of float32 that take no memory here
    big = np.broadcast_to(np.float32(0), (2 ** 29,))
    with pytest.raises(ValueError, match="^Cannot create a tensor proto whose content is larger "
                                         "than 2GB.$"):
        tf.constant(big)
    with pytest.raises(ValueError, match="larger than 2GB"):
        tf.constant(np.broadcast_to(np.float16(0), (2 ** 30,)), dtype=tf.float32)
    with pytest.raises(ValueError, match="larger than 2GB"):
        tf.Variable(big)
    # a value broadcast to a large shape is stored once: allowed, as in TF
    assert tf.constant(0.0, shape=[2 ** 10]).get_shape().as_list() == [2 ** 10]


def test_str_fed_to_a_string_placeholder_arrives_as_utf8_bytes():
    p = tf.placeholder(tf.string, [2])
    with tf.Session() as sess:
        got = sess.run(tf.identity(p), {p: ["a", "\u00e9"]})
        assert got.tolist() == [b"a", b"\xc3\xa9"]
        assert sess.run(tf.string_join([p[0], p[1]]), {p: ["x", "\u00e9"]}) == b"x\xc3\xa9"


def _static_shapes(tf_module):
    parts = tf_module.dynamic_partition(tf_module.zeros([4, 3]), tf_module.constant([0, 1, 0, 1]),
                                        2)
    where = tf_module.where(tf_module.constant([[True, False], [True, True]]))
    return [p.get_shape().as_list() for p in parts] + [where.get_shape().as_list()]


def test_data_dependent_static_shapes_are_no_more_precise_than_tf():
    assert _static_shapes(tf) == [[None, 3], [None, 3], [None, 2]]


@pytest.mark.tensorflow
def test_tensorflow_infers_the_same_static_shapes():
    v1 = _real_v1()
    with v1.Graph().as_default():
        assert _static_shapes(v1) == [[None, 3], [None, 3], [None, 2]]


def test_compute_gradient_accepts_another_layout_of_the_same_size_as_tf09():
    x = tf.placeholder(tf.float64, [2, 3])
    y = tf.reduce_sum(x * x, 1)  # [2]: dy_j/dx_i = 2 x_i where x_i is in row j
    x0 = np.arange(6.0).reshape(2, 3)
    expected = np.zeros((6, 2))
    expected[:3, 0], expected[3:, 1] = 2 * x0[0], 2 * x0[1]
    with tf.Session():
        for x_shape, y_shape, init in [([6], [2], x0.reshape(6)), ([3, 2], [1, 2], x0),
                                       ([2, 3], [2, 1], x0)]:
            theoretical, numerical = tf.test.compute_gradient(x, x_shape, y, y_shape,
                                                              x_init_value=init)
            np.testing.assert_allclose(theoretical, expected, atol=1e-8)
            np.testing.assert_allclose(numerical, expected, atol=1e-6)
        assert tf.test.compute_gradient_error(x, [6], y, [2, 1], x_init_value=x0) < 1e-6
        # random starting values come in x's own layout
        theoretical, _ = tf.test.compute_gradient(x, [1, 6], y, [2])
        assert theoretical.shape == (6, 2) and np.count_nonzero(theoretical) == 6


def test_compute_gradient_refuses_another_size_as_tf():
    x = tf.placeholder(tf.float64, [2, 3])
    y = x * 2.0
    with tf.Session():
        with pytest.raises(ValueError, match=r"^Cannot feed value of shape \(5,\) for Tensor "
                                             r"Placeholder:0, which has shape \(2, 3\)"):
            tf.test.compute_gradient(x, [5], y, [2, 3])
        with pytest.raises(ValueError, match="y_shape"):
            tf.test.compute_gradient(x, [2, 3], y, [7])
        with pytest.raises(ValueError, match="x_init_value"):
            tf.test.compute_gradient(x, [6], y, [2, 3], x_init_value=np.zeros(5))
        # a partly unknown static shape has no size to compare: refused as TF's feed
        z = tf.placeholder(tf.float64, [None, 3])
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            tf.test.compute_gradient(z, [6], z * 2.0, [2, 3])
        theoretical, numerical = tf.test.compute_gradient(x, [2, 3], y, [2, 3])
        np.testing.assert_allclose(theoretical, 2 * np.eye(6), atol=1e-6)
        np.testing.assert_allclose(numerical, 2 * np.eye(6), atol=1e-6)
