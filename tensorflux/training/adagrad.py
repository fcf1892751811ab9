"""Adagrad: accum += grad^2; var -= learning_rate * grad / sqrt(accum)."""
from tensorflux.framework import ops
from tensorflux.ops import init_ops
from tensorflux.ops import math_ops
from tensorflux.training import optimizer
from tensorflux.training import training_ops


class AdagradOptimizer(optimizer.Optimizer):
    """`tf.train.AdagradOptimizer(learning_rate, initial_accumulator_value=0.1)`.

    Slot "accumulator" (`<var>/Adagrad`), starting at `initial_accumulator_value`.
    """

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            init = init_ops.constant_initializer(self._initial_accumulator_value)(
                v.get_shape(), dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, init, "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = ops.convert_to_tensor(
            self._call_if_callable(self._learning_rate), name="learning_rate")

    def _apply_dense(self, grad, var):
        lr = math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return training_ops.apply_adagrad(var, self.get_slot(var, "accumulator"), lr, grad,
                                          use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        lr = math_ops.cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return training_ops.sparse_apply_adagrad(
            var, self.get_slot(var, "accumulator"), lr, grad.values, grad.indices,
            use_locking=self._use_locking).op
