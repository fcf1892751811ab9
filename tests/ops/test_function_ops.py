"""SymbolicGradient (ops/function_ops.py): the harness entry, TF's gradient node of a function."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run
from tensorflux.ops import function_ops
from tensorflux.python.framework import function

pytestmark = pytest.mark.timeout(60)

_CUBE = function.Defun()(lambda a: a * a * a)  # no input types: one function per dtype


def _cube_gradient(x, dy):
    cube = _CUBE.instantiate([x.dtype])
    return function_ops.symbolic_gradient([x, dy], [x.dtype], cube)[0]


SPECS = [
    OpSpec("SymbolicGradient", _cube_gradient, lambda x, dy: 3 * x * x * dy,
           [((3, 4), (3, 4)), ((), ())], dtypes=[tf.float32, tf.float64]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_symbolic_gradient_uses_the_functions_grad_func():
    @function.Defun(tf.float32, tf.float32, func_name="FixedGrad")
    def fixed_grad(a, dy):
        return dy * 0.0 + 42.0

    @function.Defun(tf.float32, func_name="WithGrad", grad_func=fixed_grad)
    def with_grad(a):
        return a * a

    out = function_ops.symbolic_gradient([tf.constant([1.0, 2.0]), tf.constant([1.0, 1.0])],
                                         [tf.float32], with_grad)
    assert out[0].op.get_attr("f").name == "WithGrad"
    np.testing.assert_allclose(_run(out[0]), [42.0, 42.0])


def test_unknown_function_is_not_found_at_run_time():
    out = function_ops.symbolic_gradient([tf.constant(1.0), tf.constant(1.0)], [tf.float32],
                                         "Missing")
    with pytest.raises(tf.errors.NotFoundError, match="Function 'Missing' is not defined"):
        _run(out[0])
