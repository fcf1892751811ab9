"""Learning-rate schedules as graph tensors of the global step (`tf.train.exponential_decay`...)."""
from tensorflux.framework import ops
from tensorflux.ops import math_ops


def _progress(learning_rate, global_step, decay_steps, staircase):
    """(lr tensor, global_step / decay_steps in lr's dtype, floored if staircase)."""
    lr = ops.convert_to_tensor(learning_rate, name="learning_rate")
    dtype = lr.dtype.base_dtype
    step = math_ops.cast(global_step, dtype)
    p = step / math_ops.cast(decay_steps, dtype)
    if staircase:
        p = math_ops.floor(p)
    return lr, p


def _require_step(global_step, fn_name):
    if global_step is None:
        raise ValueError(f"global_step is required for {fn_name}.")


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps) (exponent floored if staircase)."""
    _require_step(global_step, "exponential_decay")
    with ops.name_scope(name, "ExponentialDecay",
                        [learning_rate, global_step, decay_steps, decay_rate]) as name:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        rate = math_ops.cast(decay_rate, lr.dtype.base_dtype)
        return math_ops.multiply(lr, math_ops.pow(rate, p), name=name)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    _require_step(global_step, "natural_exp_decay")
    with ops.name_scope(name, "NaturalExpDecay",
                        [learning_rate, global_step, decay_rate]) as name:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        rate = math_ops.cast(decay_rate, lr.dtype.base_dtype)
        return math_ops.multiply(lr, math_ops.exp(math_ops.negative(rate) * p), name=name)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _require_step(global_step, "inverse_time_decay")
    with ops.name_scope(name, "InverseTimeDecay",
                        [learning_rate, global_step, decay_rate]) as name:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        rate = math_ops.cast(decay_rate, lr.dtype.base_dtype)
        return math_ops.realdiv(lr, 1 + rate * p, name=name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """(lr - end) * (1 - step / decay_steps) ^ power + end, step capped (or cycled)."""
    _require_step(global_step, "polynomial_decay")
    with ops.name_scope(name, "PolynomialDecay",
                        [learning_rate, global_step, decay_steps, end_learning_rate, power]
                        ) as name:
        lr = ops.convert_to_tensor(learning_rate, name="learning_rate")
        dtype = lr.dtype.base_dtype
        step = math_ops.cast(global_step, dtype)
        steps = math_ops.cast(decay_steps, dtype)
        end = math_ops.cast(end_learning_rate, dtype)
        if cycle:
            multiplier = math_ops.ceil(step / steps)
            multiplier = math_ops.maximum(multiplier, math_ops.cast(1.0, dtype))
            steps = steps * multiplier
        else:
            step = math_ops.minimum(step, steps)
        frac = math_ops.pow(1 - step / steps, math_ops.cast(power, dtype))
        return math_ops.add((lr - end) * frac, end, name=name)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] for x <= boundaries[0], values[i] for boundaries[i-1] < x <= boundaries[i],
    values[-1] after the last boundary."""
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"The length of values ({len(values)}) should be one more than the "
                         f"length of boundaries ({len(boundaries)})")
    with ops.name_scope(name, "PiecewiseConstant", [x] + list(boundaries) + list(values)):
        x = ops.convert_to_tensor(x)
        values = [ops.convert_to_tensor(v) for v in values]
        out_dtype = values[0].dtype.base_dtype
        edges = [None] + [math_ops.cast(b, x.dtype.base_dtype) for b in boundaries] + [None]
        result = None
        for i, value in enumerate(values):
            in_piece = _in_piece(x, edges[i], edges[i + 1], out_dtype)
            term = math_ops.cast(value, out_dtype) * in_piece
            result = term if result is None else result + term
        return result


def _in_piece(x, low, high, dtype):
    """1 where low < x <= high (open ends when None), else 0, in `dtype`."""
    parts = []
    if low is not None:
        parts.append(math_ops.cast(math_ops.greater(x, low), dtype))
    if high is not None:
        parts.append(math_ops.cast(math_ops.less_equal(x, high), dtype))
    return parts[0] if len(parts) == 1 else parts[0] * parts[1]


