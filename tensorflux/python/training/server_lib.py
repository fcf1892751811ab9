"""tensorflow.python.training.server_lib -> tensorflux.distributed (Server, ClusterSpec)."""
from tensorflux.distributed.cluster import ClusterSpec  # noqa: F401
from tensorflux.distributed.server import Server, ServerDef  # noqa: F401
