"""The op harness catches what it claims to: a half-precision kernel returning float32, a
complex gradient without TF's conjugation, and it records the dtypes and layouts it ran."""
import os
import sys

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "ops"))
from op_harness import OpSpec, exercised, run_spec  # noqa: E402

# Throwaway ops (registered outside tensorflux/, so tests/test_registry.py ignores them).
_Widening = registry.register_op("HarnessWideningExp", inputs=["x: T"], outputs=["y: T"],
                                 attrs={"T": common.FLOATS})
_Widening.shape(common.unchanged_shape)
_Widening.not_differentiable()
# the bug: half types computed in float32 and never cast back
_Widening.kernel("CPU")(lambda ctx, x: np.exp(x.astype(np.float32) if x.itemsize == 2 else x))

_Square = registry.register_op("HarnessUnconjugatedSquare", inputs=["x: T"], outputs=["y: T"],
                               attrs={"T": common.FLOATS | common.COMPLEX})
_Square.shape(common.unchanged_shape)
_Square.kernel("CPU")(lambda ctx, x: np.square(x))


@_Square.gradient
def _unconjugated_square_grad(op, grad):
    return [grad * 2.0 * op.inputs[0]]  # the bug: TF multiplies by conj(2x)


def test_float16_kernel_returning_float32_is_caught():
    spec = OpSpec("HarnessWideningExp", lambda x: apply_op("HarnessWideningExp", x), np.exp,
                  [((3,),)])
    assert tf.float16 in spec.dtypes and tf.bfloat16 in spec.dtypes  # the declared classes
    with pytest.raises(AssertionError, match="kernel returned float32, op declares float16"):
        run_spec(spec)


def test_complex_gradient_without_conjugation_is_caught():
    spec = OpSpec("HarnessUnconjugatedSquare",
                  lambda x: apply_op("HarnessUnconjugatedSquare", x), np.square, [((2,),)],
                  dtypes=[tf.float64, tf.complex64])
    with pytest.raises(AssertionError, match="complex128 gradient w.r.t. input 0"):
        run_spec(spec)
    real_only = OpSpec("HarnessUnconjugatedSquare",
                       lambda x: apply_op("HarnessUnconjugatedSquare", x), np.square, [((2,),)],
                       dtypes=[tf.float64])
    run_spec(real_only)  # right for reals


def test_exercised_records_dtypes_layouts_and_axis_signs():
    spec = OpSpec("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
                  lambda a, b: a @ b.T, [((2, 3), (4, 3))], dtypes=[tf.float16, tf.complex64])
    record = exercised(spec)["MatMul"]
    assert record["T"] == {tf.float16, tf.complex64}
    assert record["transpose_a,transpose_b"] == {(False, True)}
    spec = OpSpec("Sum", lambda x: tf.reduce_sum(x, [0, -1], keep_dims=True),
                  lambda x: x.sum((0, 1), keepdims=True), [((2, 3),)], dtypes=[tf.int32])
    record = exercised(spec)["Sum"]
    assert record["input:reduction_indices"] == {"negative", "non-negative"}
    assert record["keep_dims"] == {True} and record["T"] == {tf.int32}
