"""tf.contrib.cluster_resolver: where a task finds its cluster (TF 1.x names)."""
from tensorflux.distributed.cluster_resolver import (  # noqa: F401
    ClusterResolver,
    SimpleClusterResolver,
    SlurmClusterResolver,
    TFConfigClusterResolver,
    UnionClusterResolver,
)
