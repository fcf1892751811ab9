"""RMSProp: ms = decay * ms + (1 - decay) * grad^2; mom = momentum * mom + lr * grad /
sqrt(ms + epsilon); var -= mom. Centered: also mg = decay * mg + (1 - decay) * grad, and the
denominator is sqrt(ms - mg^2 + epsilon)."""
from tensorflux.framework import ops
from tensorflux.ops import init_ops
from tensorflux.ops import math_ops
from tensorflux.training import optimizer
from tensorflux.training import training_ops


class RMSPropOptimizer(optimizer.Optimizer):
    """`tf.train.RMSPropOptimizer(learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10)`.

    Slots "rms" (`<var>/RMSProp`, starting at ones) and "momentum" (`<var>/RMSProp_1`); with
    `centered=True` also "mg" (`<var>/RMSProp_2`, zeros).
    """

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._centered = centered
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            ones = init_ops.ones_initializer()(v.get_shape(), dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, ones, "rms", self._name)
            self._zeros_slot(v, "momentum", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)

    def _prepare(self):
        self._hyper_tensors = [
            ops.convert_to_tensor(self._call_if_callable(value), name=name)
            for value, name in ((self._learning_rate, "learning_rate"), (self._decay, "decay"),
                                (self._momentum, "momentum"), (self._epsilon, "epsilon"))]

    def _hyper(self, var):
        return [math_ops.cast(t, var.dtype.base_dtype) for t in self._hyper_tensors]

    def _apply_dense(self, grad, var):
        if self._centered:
            return training_ops.apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), self.get_slot(var, "rms"),
                self.get_slot(var, "momentum"), *self._hyper(var), grad,
                use_locking=self._use_locking).op
        return training_ops.apply_rms_prop(
            var, self.get_slot(var, "rms"), self.get_slot(var, "momentum"), *self._hyper(var),
            grad, use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        if self._centered:
            return training_ops.sparse_apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), self.get_slot(var, "rms"),
                self.get_slot(var, "momentum"), *self._hyper(var), grad.values, grad.indices,
                use_locking=self._use_locking).op
        return training_ops.sparse_apply_rms_prop(
            var, self.get_slot(var, "rms"), self.get_slot(var, "momentum"), *self._hyper(var),
            grad.values, grad.indices, use_locking=self._use_locking).op
