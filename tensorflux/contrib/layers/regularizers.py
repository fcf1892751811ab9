"""tf.contrib.layers regularizers and initializers: functions of a weight tensor that return a
scalar penalty (or None), and TF 1.0's contrib initializer signatures."""
import numbers

from tensorflux.framework import dtypes, ops
from tensorflux.ops import init_ops, math_ops, nn_ops, reduction_ops

__all__ = [
    "apply_regularization",
    "l1_regularizer",
    "l2_regularizer",
    "sum_regularizer",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
]

xavier_initializer = init_ops.xavier_initializer
xavier_initializer_conv2d = init_ops.xavier_initializer


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=dtypes.float32):
    """He et al.'s initializer (contrib signature): variance factor / n, n = FAN_IN, FAN_OUT or
    FAN_AVG; uniform, or a truncated normal with stddev sqrt(1.3 * factor / n)."""
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")
    scale = factor if uniform else 1.3 * factor
    return init_ops.VarianceScaling(scale, mode.lower(), "uniform" if uniform else "normal",
                                    seed, dtype)


def _check_scale(scale):
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")  # noqa: TRY004 (TF's)
    if isinstance(scale, numbers.Real) and scale < 0.0:
        raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
    return isinstance(scale, numbers.Real) and scale == 0.0


def _scaled(scale, scope, default_name, penalty):
    def regularizer(weights):
        with ops.name_scope(scope, default_name, [weights]) as name:
            factor = ops.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return math_ops.multiply(factor, penalty(weights), name=name)
    return regularizer


def l1_regularizer(scale, scope=None):
    """A function weights -> scale * sum(|weights|) (None when scale is 0)."""
    if _check_scale(scale):
        return lambda _: None
    return _scaled(scale, scope, "l1_regularizer",
                   lambda w: reduction_ops.reduce_sum(math_ops.abs(w)))


def l2_regularizer(scale, scope=None):
    """A function weights -> scale * sum(weights ** 2) / 2 (None when scale is 0)."""
    if _check_scale(scale):
        return lambda _: None
    return _scaled(scale, scope, "l2_regularizer", nn_ops.l2_loss)


def sum_regularizer(regularizer_list, scope=None):
    """A function weights -> the sum of the non-None penalties of `regularizer_list`."""
    regularizer_list = [r for r in regularizer_list if r is not None]
    if not regularizer_list:
        return None

    def total(weights):
        with ops.name_scope(scope, "sum_regularizer", [weights]) as name:
            penalties = [p for p in (r(weights) for r in regularizer_list) if p is not None]
            return math_ops.add_n(penalties, name=name) if penalties else None
    return total


def apply_regularization(regularizer, weights_list=None):
    """The sum of regularizer(w) over weights_list (default: the WEIGHTS collection), also
    added to REGULARIZATION_LOSSES.

    Raises:
      ValueError: if there are no weights or the regularizer returns None for all of them.
    """
    if weights_list is None:
        weights_list = ops.get_collection(ops.GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with ops.name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [p for p in (regularizer(w) for w in weights_list) if p is not None]
        if not penalties:
            raise ValueError("No regularization penalties were computed for the weights.")
        summed = math_ops.add_n(penalties, name=scope)
    ops.add_to_collection(ops.GraphKeys.REGULARIZATION_LOSSES, summed)
    return summed
