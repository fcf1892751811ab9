"""tensorflow.python.framework.meta_graph -> tensorflux.framework.meta_graph."""
from tensorflux.framework.meta_graph import *  # noqa: F401,F403
