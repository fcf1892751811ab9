"""tensorflow.python.ops.gradients -> tensorflux.autodiff.gradients."""
from tensorflux.autodiff.gradients import *  # noqa: F401,F403
