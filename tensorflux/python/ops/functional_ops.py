"""tensorflow.python.ops.functional_ops -> tensorflux.ops.functional_ops."""
from tensorflux.ops.functional_ops import *  # noqa: F401,F403
from tensorflux.ops.function_ops import symbolic_gradient  # noqa: F401,E402
