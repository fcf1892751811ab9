"""FTRL-proximal (McMahan et al. 2013), as TensorFlow's ApplyFtrl computes it."""
from tensorflux.framework import ops
from tensorflux.ops import init_ops
from tensorflux.ops import math_ops
from tensorflux.training import optimizer
from tensorflux.training import training_ops


class FtrlOptimizer(optimizer.Optimizer):
    """`tf.train.FtrlOptimizer(learning_rate, learning_rate_power=-0.5, ...)`.

    Slots "accum" (`<var>/Ftrl`, starting at `initial_accumulator_value`) and "linear"
    (`<var>/Ftrl_1`).
    """

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl"):
        super().__init__(use_locking, name)
        _check("initial_accumulator_value", initial_accumulator_value, "positive",
               initial_accumulator_value <= 0.0)
        _check("learning_rate_power", learning_rate_power, "less than or equal to 0.0",
               learning_rate_power > 0.0)
        _check("l1_regularization_strength", l1_regularization_strength,
               "greater than or equal to 0.0", l1_regularization_strength < 0.0)
        _check("l2_regularization_strength", l2_regularization_strength,
               "greater than or equal to 0.0", l2_regularization_strength < 0.0)
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _create_slots(self, var_list):
        for v in var_list:
            init = init_ops.constant_initializer(self._initial_accumulator_value)(
                v.get_shape(), dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, init, "accum", self._name)
            self._zeros_slot(v, "linear", self._name)

    def _prepare(self):
        self._hyper_tensors = [
            ops.convert_to_tensor(self._call_if_callable(value), name=name)
            for value, name in (
                (self._learning_rate, "learning_rate"),
                (self._l1_regularization_strength, "l1_regularization_strength"),
                (self._l2_regularization_strength, "l2_regularization_strength"),
                (self._learning_rate_power, "learning_rate_power"))]

    def _hyper(self, var):
        return [math_ops.cast(t, var.dtype.base_dtype) for t in self._hyper_tensors]

    def _apply_dense(self, grad, var):
        return training_ops.apply_ftrl(
            var, self.get_slot(var, "accum"), self.get_slot(var, "linear"), grad,
            *self._hyper(var), use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        return training_ops.sparse_apply_ftrl(
            var, self.get_slot(var, "accum"), self.get_slot(var, "linear"), grad.values,
            grad.indices, *self._hyper(var), use_locking=self._use_locking).op


def _check(name, value, requirement, bad):
    if bad:
        raise ValueError(f"{name} {value} must be {requirement}")
