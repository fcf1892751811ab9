"""The distributed runtime: tf.train.Server, and tf.Session('grpc://...') over a cluster.

Importing it registers the 'grpc://' session target with the local runtime
(tensorflux.runtime.session), which never imports this package.
"""
from tensorflux.distributed import session as _session  # noqa: F401 (registers grpc://)
from tensorflux.distributed.server import Server, ServerDef  # noqa: F401
