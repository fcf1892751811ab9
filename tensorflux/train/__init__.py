"""tf.train: optimizers, savers, input pipelines and training helpers (re-exports only)."""
from tensorflux.training.optimizer import Optimizer  # noqa: F401
from tensorflux.training.gradient_descent import GradientDescentOptimizer  # noqa: F401
