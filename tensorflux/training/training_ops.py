"""The Apply* / SparseApply* ops optimizers use to update variables in place.

Each kernel receives the variable's VariableRef (and its slots' refs) and updates the arrays in
place, like TensorFlow's fused training kernels.
"""
import numpy as np

from tensorflux.framework import registry
from tensorflux.framework.op_def_library import apply_op
from tensorflux.ops import common


def _var_shape(op):
    return op.inputs[0].get_shape()


ApplyGradientDescent = registry.register_op(
    "ApplyGradientDescent", inputs=["var: Ref(T)", "alpha: T", "delta: T"],
    outputs=["out: Ref(T)"], attrs={"T": common.NUMBERS, "use_locking": False}, stateful=True)
ApplyGradientDescent.shape(_var_shape)
ApplyGradientDescent.not_differentiable()


@ApplyGradientDescent.kernel("CPU")
def _apply_gd_kernel(ctx, var, alpha, delta):
    value = var.get()
    value -= alpha * delta
    return var


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None):
    return apply_op("ApplyGradientDescent", var, alpha, delta, use_locking=use_locking,
                    name=name)


def _scatter_rows(target, indices, rows, scale):
    """target[indices] += scale * rows, summing repeated indices."""
    np.add.at(target, indices, scale * rows)
