"""Plain gradient descent: var -= learning_rate * grad."""
from tensorflux.framework import ops
from tensorflux.ops import math_ops
from tensorflux.ops import state_ops
from tensorflux.training import optimizer
from tensorflux.training import training_ops


class GradientDescentOptimizer(optimizer.Optimizer):
    """`tf.train.GradientDescentOptimizer(learning_rate)`."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._lr = ops.convert_to_tensor(self._call_if_callable(self._learning_rate),
                                         name="learning_rate")

    def _apply_dense(self, grad, var):
        lr = math_ops.cast(self._lr, var.dtype.base_dtype)
        return training_ops.apply_gradient_descent(var, lr, grad,
                                                   use_locking=self._use_locking).op

    def _apply_sparse(self, grad, var):
        lr = math_ops.cast(self._lr, var.dtype.base_dtype)
        delta = ops.IndexedSlices(grad.values * lr, grad.indices, grad.dense_shape)
        return state_ops.scatter_sub(var, delta.indices, delta.values,
                                     use_locking=self._use_locking).op

    def _apply_sparse_duplicate_indices(self, grad, var):
        # As in TensorFlow 1.x: ScatterSub sums the rows of repeated indices itself, so the
        # Unique + UnsortedSegmentSum that other optimizers need first would only cost time.
        return self._apply_sparse(grad, var)
