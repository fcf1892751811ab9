"""The distributed runtime: tf.train.Server, and tf.Session('grpc://...') over a cluster.

Importing it registers the 'grpc://' session target with the local runtime
(tensorflux.runtime.session), which never imports this package.
"""
import os

# gRPC's C core logs connection events (peers going away at shutdown) at INFO to stderr;
# errors reach users as TensorFlow errors instead. GRPC_VERBOSITY set by the user wins.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
from tensorflux.distributed import session as _session  # noqa: F401,E402 (grpc://)
from tensorflux.distributed.server import Server, ServerDef  # noqa: F401,E402
