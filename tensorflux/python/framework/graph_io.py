"""tensorflow.python.framework.graph_io -> tensorflux.framework.graph_io."""
from tensorflux.framework.graph_io import *  # noqa: F401,F403
