"""Adam (Kingma & Ba 2014), with TensorFlow's epsilon placement and bias correction in lr."""
from tensorflux.framework import ops
from tensorflux.ops import control_flow_ops
from tensorflux.ops import math_ops
from tensorflux.ops import state_ops
from tensorflux.ops import variables
from tensorflux.training import optimizer
from tensorflux.training import training_ops


class AdamOptimizer(optimizer.Optimizer):
    """`tf.train.AdamOptimizer(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08)`.

    Slots "m" (`<var>/Adam`) and "v" (`<var>/Adam_1`); non-slot variables `beta1_power` and
    `beta2_power` hold beta^t and are multiplied by beta after every step.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._beta1_power = None
        self._beta2_power = None

    def _get_beta_accumulators(self):
        return self._beta1_power, self._beta2_power

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda v: v.name)
        if self._beta1_power is None or self._beta1_power.graph is not first_var.graph:
            with ops.colocate_with(first_var):
                self._beta1_power = variables.Variable(self._beta1, name="beta1_power",
                                                       trainable=False)
                self._beta2_power = variables.Variable(self._beta2, name="beta2_power",
                                                       trainable=False)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._hyper_tensors = [
            ops.convert_to_tensor(self._call_if_callable(value), name=name)
            for value, name in ((self._lr, "learning_rate"), (self._beta1, "beta1"),
                                (self._beta2, "beta2"), (self._epsilon, "epsilon"))]

    def _hyper(self, var):
        return [math_ops.cast(t, var.dtype.base_dtype) for t in self._hyper_tensors]

    def _apply_dense(self, grad, var):
        dtype = var.dtype.base_dtype
        lr, beta1, beta2, epsilon = self._hyper(var)
        return training_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"),
            math_ops.cast(self._beta1_power, dtype), math_ops.cast(self._beta2_power, dtype),
            lr, beta1, beta2, epsilon, grad, use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        """TensorFlow 1.x's composite: decay m and v, scatter-add the new rows, update var."""
        dtype = var.dtype.base_dtype
        lr_t, beta1_t, beta2_t, epsilon_t = self._hyper(var)
        beta1_power = math_ops.cast(self._beta1_power, dtype)
        beta2_power = math_ops.cast(self._beta2_power, dtype)
        lr = lr_t * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m_t = state_ops.assign(m, m * beta1_t, use_locking=self._use_locking)
        with ops.control_dependencies([m_t]):
            m_t = state_ops.scatter_add(m, grad.indices, grad.values * (1 - beta1_t),
                                        use_locking=self._use_locking)
        v_t = state_ops.assign(v, v * beta2_t, use_locking=self._use_locking)
        with ops.control_dependencies([v_t]):
            v_t = state_ops.scatter_add(v, grad.indices,
                                        grad.values * grad.values * (1 - beta2_t),
                                        use_locking=self._use_locking)
        var_update = state_ops.assign_sub(var, lr * m_t / (math_ops.sqrt(v_t) + epsilon_t),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(var_update, m_t, v_t)

    def _finish(self, update_ops, name_scope):
        with ops.control_dependencies(update_ops):
            with ops.colocate_with(self._beta1_power):
                update_beta1 = self._beta1_power.assign(
                    self._beta1_power * self._beta1_t_for_finish(),
                    use_locking=self._use_locking)
                update_beta2 = self._beta2_power.assign(
                    self._beta2_power * self._beta2_t_for_finish(),
                    use_locking=self._use_locking)
        return control_flow_ops.group(*update_ops, update_beta1, update_beta2, name=name_scope)

    def _beta1_t_for_finish(self):
        return math_ops.cast(self._hyper_tensors[1], self._beta1_power.dtype.base_dtype)

    def _beta2_t_for_finish(self):
        return math_ops.cast(self._hyper_tensors[2], self._beta2_power.dtype.base_dtype)
