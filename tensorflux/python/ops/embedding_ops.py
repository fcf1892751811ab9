"""tensorflow.python.ops.embedding_ops -> tensorflux.ops.embedding_ops."""
from tensorflux.ops.embedding_ops import embedding_lookup, embedding_lookup_sparse  # noqa: F401
