"""tensorflow.python.framework.ops -> tensorflux.framework.ops (Graph, Tensor, Operation, scopes,
collections) and the registry decorators TF 0.9 exposed there (RegisterGradient, RegisterShape,
NoGradient, NotDifferentiable)."""
from tensorflux.framework.ops import *  # noqa: F401,F403
from tensorflux.framework.registry import (  # noqa: F401
    NoGradient, NotDifferentiable, RegisterGradient, RegisterShape)
