"""Harness entries for the core ops written with the framework (array/math basics, state)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, positive, run_spec


def _realdiv_ref(x, y):
    """True division; integers divide as C does (truncating), as TF's RealDiv kernel."""
    if x.dtype.kind in "iu":
        return (np.trunc(x / y)).astype(x.dtype)
    return np.true_divide(x, y)


SPECS = [
    OpSpec("Add", lambda x, y: x + y, np.add, [((3, 4), (3, 4)), ((), ()), ((2, 3), (3,))]),
    OpSpec("Add", tf.add, np.add, [((3, 4), (3, 4)), ((2, 3), ())], dtypes=[tf.string],
           name="Add_string"),
    OpSpec("AddV2", lambda x, y: tf.get_default_graph().create_op(
        "AddV2", [x, y], [x.dtype], attrs={"T": x.dtype}).outputs[0], np.add,
        [((3, 4), (3, 4)), ((2, 3), (3,))]),
    OpSpec("Sub", lambda x, y: x - y, np.subtract, [((3, 4), (3, 4)), ((2, 1), (1, 3)), ((), ())]),
    OpSpec("Mul", tf.multiply, np.multiply, [((3, 4), (3, 4)), ((4, 1, 3), (2, 1)), ((), ())]),
    OpSpec("RealDiv", tf.realdiv, _realdiv_ref, [((3, 4), (3, 4)), ((2, 3), ()), ((), ())],
           inputs=positive),
    OpSpec("Neg", tf.negative, np.negative, [((3, 4),), ((),)]),
    OpSpec("Square", tf.square, np.square, [((3, 4),), ((),)]),
    OpSpec("MatMul", tf.matmul, np.matmul, [((3, 4), (4, 5)), ((1, 1), (1, 1))]),
    OpSpec("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
           lambda a, b: a.T @ b.T, [((4, 3), (5, 4))], name="MatMul_tt"),
    OpSpec("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True),
           lambda a, b: a.T @ b, [((4, 3), (4, 5))], name="MatMul_ta"),
    OpSpec("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
           lambda a, b: a @ b.T, [((3, 4), (5, 4))], name="MatMul_tb"),
    OpSpec("Sum", lambda x: tf.reduce_sum(x, 1), lambda x: np.sum(x, 1),
           [((3, 4),), ((2, 3, 4),)]),
    OpSpec("Sum", lambda x: tf.reduce_sum(x, [0, 2], keep_dims=True),
           lambda x: np.sum(x, (0, 2), keepdims=True), [((2, 3, 4),)], name="Sum_keep"),
    OpSpec("Sum", lambda x: tf.reduce_sum(x), np.sum, [((),), ((3, 4),)], name="Sum_all"),
    OpSpec("AddN", lambda x, y, z: tf.add_n([x, y, z]), lambda x, y, z: x + y + z,
           [((3, 4),) * 3, ((),) * 3]),
    OpSpec("Cast", lambda x: tf.cast(x, tf.float64), lambda x: x.astype(np.float64),
           [((3, 4),), ((),)], dtypes=[tf.float32]),
    OpSpec("Identity", tf.identity, lambda x: x, [((3, 4),), ((),)],
           dtypes=[tf.float32, tf.float64, tf.int32]),
    OpSpec("Reshape", lambda x: tf.reshape(x, [2, -1]), lambda x: x.reshape(2, -1),
           [((3, 4),), ((2, 3, 2),)]),
    OpSpec("Shape", tf.shape, lambda x: np.array(x.shape, np.int32), [((3, 4),), ((),)]),
    OpSpec("Fill", lambda v: tf.fill([2, 3], v), lambda v: np.full((2, 3), v), [((),)]),
    OpSpec("ZerosLike", tf.zeros_like, np.zeros_like, [((3, 4),), ((),)]),
    OpSpec("OnesLike", tf.ones_like, np.ones_like, [((3, 4),), ((),)]),
    # NoOp as the gate of tf.tuple: the value passes through once the group has run.
    OpSpec("NoOp", lambda x, y: tf.tuple([x, y])[1], lambda x, y: y, [((3,), (2, 2))]),
    OpSpec("BroadcastGradientArgs",
           lambda: tf.broadcast_gradient_args([2, 1, 3], [4, 3]),
           lambda: [np.array([1], np.int32), np.array([0], np.int32)], [()], dtypes=[tf.int32]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)
