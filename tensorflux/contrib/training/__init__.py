"""tf.contrib.training: ps load-balancing strategies for tf.train.replica_device_setter."""
from tensorflux.contrib.training.device_setter import (  # noqa: F401
    GreedyLoadBalancingStrategy,
    byte_size_load_fn,
)
