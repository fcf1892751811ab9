"""Exponential moving averages: `tf.train.ExponentialMovingAverage` and its update helper.

    ema = tf.train.ExponentialMovingAverage(decay=0.9999, num_updates=global_step)
    maintain_averages_op = ema.apply([w, b, loss])   # creates a shadow variable each
    with tf.control_dependencies([opt_op]):
        train_op = tf.group(maintain_averages_op)
    ...
    saver = tf.train.Saver(ema.variables_to_restore())   # evaluation: restore the averages

Each update computes `shadow -= (1 - decay) * (shadow - value)`. The shadow of a Variable
starts at the variable's initial value; the shadow of any other Tensor starts at zero and is
zero-debiased (divided by 1 - decay**t after t updates), as in TensorFlow 1.0.
"""
from tensorflux.framework import dtypes, ops
from tensorflux.ops import array_ops, control_flow_ops, math_ops, state_ops, variables

__all__ = ["ExponentialMovingAverage", "assign_moving_average"]

_AVERAGEABLE = (dtypes.float16, dtypes.float32, dtypes.float64)


def _shadow_variable(primary, initial_value, suffix):
    """A non-trainable variable named `<primary's op name>/<suffix>`, colocated with it.

    The name does not depend on the name scope open when the shadow is created, so a saver
    built elsewhere (e.g. in an evaluation script) finds it under the same name.
    """
    with ops.name_scope(None), ops.colocate_with(primary.op):
        return variables.Variable(initial_value, trainable=False,
                                  name=primary.op.name + "/" + suffix,
                                  dtype=primary.dtype.base_dtype)


def _zeros_like_fn(primary, scalar=False):
    """An initial value of zeros, built inside Variable() (so outside any control deps)."""
    shape = [] if scalar else primary.get_shape()
    return lambda: array_ops.zeros(shape, dtype=primary.dtype.base_dtype)


def _zero_debiased_update(variable, value, decay):
    """Updates a zero-initialised average through a biased accumulator and a step count.

    Returns the op that sets `variable` to biased / (1 - decay ** local_step).
    """
    biased = _shadow_variable(variable, _zeros_like_fn(variable), "biased")
    local_step = _shadow_variable(variable, _zeros_like_fn(variable, scalar=True), "local_step")
    update_biased = state_ops.assign_sub(biased, (biased - value) * (1 - decay))
    update_step = state_ops.assign_add(local_step, 1)
    with ops.control_dependencies([update_biased, update_step]):
        bias_correction = 1 - math_ops.pow(decay, local_step.read_value())
        return state_ops.assign(variable, biased.read_value() / bias_correction)


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """Moves `variable` towards `value`: variable -= (1 - decay) * (variable - value).

    Args:
      variable: the Variable holding the average.
      value: a tensor of the same shape and dtype.
      decay: a float (or float tensor) in [0, 1]; the closer to 1, the slower the average.
      zero_debias: if True, treat `variable` as starting from zero and return the
        bias-corrected average (Adam's correction) instead of the raw one.
      name: optional name scope for the ops.

    Returns:
      a tensor holding the new value of `variable` once run.
    """
    with ops.name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope, \
            ops.colocate_with(variable.op):
        decay = math_ops.cast(ops.convert_to_tensor(decay, name="decay"),
                              variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debiased_update(variable, value, decay)
        return state_ops.assign_sub(variable, (variable - value) * (1 - decay), name=scope)


class ExponentialMovingAverage:
    """Maintains moving averages of variables (or tensors) with exponential decay.

    Args:
      decay: the decay rate, typically close to 1 (0.999, 0.9999).
      num_updates: optional count of updates so far (e.g. the global step); if given, the
        decay used is min(decay, (1 + num_updates) / (10 + num_updates)), so the averages
        move faster early in training.
      name: suffix of the shadow variables' names and name of the ops (default
        "ExponentialMovingAverage").
    """

    def __init__(self, decay, num_updates=None, name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._name = name
        self._averages = {}

    @property
    def name(self):
        return self._name

    def apply(self, var_list=None):
        """Creates a shadow variable for each entry of `var_list` and returns the update op.

        Args:
          var_list: Variables or Tensors of float16/32/64 dtype; defaults to all trainable
            variables. Variables are added to GraphKeys.MOVING_AVERAGE_VARIABLES.

        Returns:
          an Operation that updates every moving average once.

        Raises:
          TypeError: if an entry is not of a float dtype.
          ValueError: if an entry already has an average from this object.
        """
        var_list = variables.trainable_variables() if var_list is None else list(var_list)
        for var in var_list:
            self._create_average(var)
        with ops.name_scope(self._name) as scope:
            decay = self._decay_tensor()
            updates = [self._update(var, decay) for var in var_list]
            return control_flow_ops.group(*updates, name=scope)

    def _create_average(self, var):
        if var.dtype.base_dtype not in _AVERAGEABLE:
            raise TypeError(f"ExponentialMovingAverage needs float16, float32 or float64 "
                            f"values; {var.name} has dtype {var.dtype.base_dtype.name}")
        if var in self._averages:
            raise ValueError(f"Moving average already computed for: {var.name}")
        if isinstance(var, variables.Variable):
            self._averages[var] = _shadow_variable(var, var.initialized_value(), self._name)
            ops.add_to_collection(ops.GraphKeys.MOVING_AVERAGE_VARIABLES, var)
        else:
            self._averages[var] = _shadow_variable(var, _zeros_like_fn(var), self._name)

    def _decay_tensor(self):
        decay = ops.convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
        if self._num_updates is None:
            return decay
        num_updates = math_ops.cast(self._num_updates, dtypes.float32)
        return math_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))

    def _update(self, var, decay):
        zero_debias = not isinstance(var, variables.Variable)
        return assign_moving_average(self._averages[var], var, decay, zero_debias=zero_debias)

    def average(self, var):
        """The shadow Variable holding `var`'s moving average, or None if apply() skipped it."""
        return self._averages.get(var)

    def average_name(self, var):
        """The name `var`'s shadow variable has (or would have): `<var op name>/<ema name>`.

        Use it to restore an average into a model variable with a Saver.
        """
        return f"{var.op.name}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None):
        """A {checkpoint name: Variable} map that restores averages into the model variables.

        Variables in `moving_avg_variables` (default: trainable variables plus
        GraphKeys.MOVING_AVERAGE_VARIABLES) are mapped from their average's name; every
        other global variable from its own name. The shadow variables themselves are left
        out, so the map can be built in an evaluation graph without calling apply().
        """
        if moving_avg_variables is None:
            moving_avg_variables = (variables.trainable_variables()
                                    + variables.moving_average_variables())
        averaged = set(moving_avg_variables)
        shadows = set(self._averages.values())
        name_map = {}
        for var in variables.global_variables():
            if var in averaged:
                name_map[self.average_name(var)] = var
            elif var not in shadows:
                name_map.setdefault(var.op.name, var)
        return name_map
