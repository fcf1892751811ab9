"""TF 0.9's small top-level names: tf.compat, error aliases, RegisterShape, NoGradient."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors, registry


def test_as_bytes_and_as_text_round_trip_utf8():
    assert tf.compat.as_bytes("héllo") == "héllo".encode("utf-8")
    assert tf.compat.as_bytes(b"raw") == b"raw"
    assert tf.compat.as_bytes(bytearray(b"ab")) == b"ab"
    assert tf.compat.as_text("héllo".encode("utf-8")) == "héllo"
    assert tf.compat.as_text("text") == "text"
    assert tf.compat.as_str(b"word") == "word"
    assert tf.compat.as_bytes("é", encoding="latin-1") == b"\xe9"


@pytest.mark.parametrize("fn", [tf.compat.as_bytes, tf.compat.as_text, tf.compat.as_str])
def test_conversions_refuse_non_strings(fn):
    with pytest.raises(TypeError, match="Expected binary or unicode string, got 3"):
        fn(3)


def test_as_str_any_decodes_bytes_and_stringifies_the_rest():
    assert tf.compat.as_str_any(b"abc") == "abc"
    assert tf.compat.as_str_any(12) == "12"
    assert tf.compat.as_str_any(tf.float32) == "<dtype: 'float32'>"


def test_type_tuples_accept_numpy_scalars():
    assert isinstance(np.int32(1), tf.compat.integral_types)
    assert not isinstance(1.5, tf.compat.integral_types)
    assert isinstance(np.float32(1), tf.compat.real_types)
    assert not isinstance(1j, tf.compat.real_types)
    assert isinstance(np.complex64(1j), tf.compat.complex_types)
    assert isinstance(b"x", tf.compat.bytes_or_text_types)
    assert not isinstance(3, tf.compat.bytes_or_text_types)


def test_top_level_error_aliases_are_the_errors_classes():
    names = ["OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
             "DeadlineExceededError", "NotFoundError", "AlreadyExistsError",
             "PermissionDeniedError", "UnauthenticatedError", "ResourceExhaustedError",
             "FailedPreconditionError", "AbortedError", "OutOfRangeError", "UnimplementedError",
             "InternalError", "UnavailableError", "DataLossError"]
    for name in names:
        assert getattr(tf, name) is getattr(errors, name)
    q = tf.FIFOQueue(1, tf.float32)
    with tf.Session() as sess:
        sess.run(q.close())
        with pytest.raises(tf.OutOfRangeError):
            sess.run(q.dequeue())


def _cleanup_op(name):
    registry._OPS.pop(name, None)
    registry._PENDING_SHAPES.pop(name, None)


def test_register_shape_before_and_after_the_op_is_registered():
    try:
        @tf.RegisterShape("TfxTestEarlyShape")
        def _early(op):
            return [tf.TensorShape([7])]
        early = registry.register_op("TfxTestEarlyShape", inputs=["x: float"], outputs=["y: float"])
        assert early.shape_fn is _early
        late = registry.register_op("TfxTestLateShape", inputs=["x: float"], outputs=["y: float"])
        tf.RegisterShape("TfxTestLateShape")(lambda op: [op.inputs[0].get_shape()])
        late.not_differentiable()
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [2, 3])
            y = tf.framework.op_def_library.apply_op("TfxTestLateShape", x)
            assert y.get_shape().as_list() == [2, 3]
    finally:
        _cleanup_op("TfxTestEarlyShape")
        _cleanup_op("TfxTestLateShape")


def test_register_shape_twice_raises_key_error_and_none_keeps_the_registered_one():
    matmul_fn = registry.get_op_def("MatMul").shape_fn
    assert tf.RegisterShape("MatMul")(None) is None
    assert registry.get_op_def("MatMul").shape_fn is matmul_fn
    with pytest.raises(KeyError, match="Registering two shape functions with name 'MatMul'"):
        tf.RegisterShape("MatMul")(lambda op: [tf.TensorShape(None)])
    with pytest.raises(TypeError, match="op_type must be a string"):
        tf.RegisterShape(3)


def test_no_gradient_is_the_0_9_name_of_not_differentiable():
    assert tf.NoGradient is tf.NotDifferentiable
