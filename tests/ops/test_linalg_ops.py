"""Harness entries and behaviour tests for tensorflux/ops/linalg_ops.py (MatMul's are in
test_core_ops.py)."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run


def well_conditioned(rng, shape, dtype):
    a = rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])
    return a.astype(tf.as_dtype(dtype).as_numpy_dtype)


SPECS = [
    OpSpec("BatchMatMul", tf.batch_matmul, np.matmul,
           [((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 2), (2, 1, 2, 2)), ((3, 2), (2, 1))]),
    OpSpec("BatchMatMul", lambda x, y: tf.batch_matmul(x, y, adj_x=True, adj_y=True),
           lambda x, y: np.swapaxes(x, -1, -2) @ np.swapaxes(y, -1, -2),
           [((2, 4, 3), (2, 5, 4))], name="BatchMatMul_adj"),
    OpSpec("BatchMatMul", lambda x, y: tf.matmul(x, y, transpose_b=True),
           lambda x, y: x @ np.swapaxes(y, -1, -2), [((2, 3, 4), (2, 5, 4))],
           name="BatchMatMul_via_matmul"),
    OpSpec("MatrixInverse", tf.matrix_inverse, np.linalg.inv, [((3, 3),), ((2, 2, 2),)],
           inputs=well_conditioned, tol={tf.float32: 1e-4}),
    OpSpec("MatrixInverse", lambda a: tf.matrix_inverse(a, adjoint=True),
           lambda a: np.linalg.inv(np.swapaxes(a, -1, -2)), [((3, 3),)],
           inputs=well_conditioned, tol={tf.float32: 1e-4}, name="MatrixInverse_adjoint"),
    OpSpec("MatrixDeterminant", tf.matrix_determinant, np.linalg.det,
           [((3, 3),), ((2, 2, 2),), ((1, 1),)], inputs=well_conditioned,
           tol={tf.float32: 1e-4}),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)



def test_matmul_dispatches_to_batch_matmul():
    a, b = tf.zeros([2, 3, 4]), tf.zeros([2, 4, 5])
    c = tf.matmul(a, b)
    assert c.op.type == "BatchMatMul" and c.get_shape().as_list() == [2, 3, 5]
    with pytest.raises(ValueError, match="inner dimensions"):
        tf.batch_matmul(a, a)


def test_matrix_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
        _run(tf.matrix_inverse(tf.zeros([2, 2])))
    with pytest.raises(ValueError, match="square"):
        tf.matrix_determinant(tf.zeros([2, 3]))
