"""tf.train.replica_device_setter: variables on parameter-server tasks, the rest on the worker.

    with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
        w = tf.Variable(...)   # /job:ps/task:0
        b = tf.Variable(...)   # /job:ps/task:1
        y = tf.matmul(x, w)    # /job:worker

The setter is an ordinary device function (see `tf.device`), so it works the same on one
process (where a session of `device_count={"CPU": n}` only needs the device strings to match
its devices) and on a cluster. Which ps task a variable goes to is the strategy's choice:
round-robin by default, or tf.contrib.training.GreedyLoadBalancingStrategy.
"""
from tensorflux.framework import device as pydev
from tensorflux.framework import protos
from tensorflux.platform import tf_logging as logging

__all__ = ["replica_device_setter"]

# The op types that hold state a parameter server should own (TensorFlow's default list).
STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable",
                   "MutableHashTableV2", "MutableHashTableOfTensors",
                   "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                   "MutableDenseHashTableV2", "VarHandleOp")


class _RoundRobinStrategy:
    """Tasks 0, 1, ..., num_tasks - 1, 0, ... in the order the ps ops are created."""

    def __init__(self, num_tasks):
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op):
        task = self._next_task
        self._next_task = (task + 1) % self._num_tasks
        return task


class _ReplicaDeviceChooser:
    """The device function replica_device_setter returns."""

    def __init__(self, ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy):
        self._ps_tasks = ps_tasks
        self._ps_device = ps_device
        self._worker_device = worker_device
        self._merge_devices = merge_devices
        self._ps_ops = frozenset(ps_ops)
        self._ps_strategy = ps_strategy

    def device_function(self, op):
        """The device of `op`: its own spec merged over the ps or worker device."""
        if op.device and not self._merge_devices:
            return op.device
        own = pydev.DeviceSpec.from_string(op.device or "")
        if self._ps_tasks and self._ps_device and op.type in self._ps_ops:
            target = pydev.DeviceSpec.from_string(self._ps_device)
            # The strategy only picks the task when the op stays in the ps job: an op the
            # user pinned to another job keeps that job's task numbering.
            if target.job and own.job in (None, target.job):
                target.task = self._ps_strategy(op)
        else:
            target = pydev.DeviceSpec.from_string(self._worker_device or "")
        return target.merge_from(own).to_string()


def _ps_task_count(cluster, ps_device):
    """How many tasks the cluster's ps job has (0 when it has no such job).

    `cluster`: a ClusterSpec (anything with `as_dict`), a ClusterDef proto or a dict of job
    name -> list of addresses or {task index: address}."""
    job = pydev.DeviceSpec.from_string(ps_device or "").job
    if hasattr(cluster, "as_dict"):
        cluster = cluster.as_dict()
    elif isinstance(cluster, protos.ClusterDef):
        cluster = {j.name: dict(j.tasks) for j in cluster.job}
    elif not isinstance(cluster, dict):
        raise TypeError(f"cluster must be a ClusterSpec, a ClusterDef or a dict of job name -> "
                        f"tasks, got {type(cluster).__name__}")
    tasks = cluster.get(job)
    return len(tasks) if tasks else 0


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function placing state ops on ps tasks and every other op on the worker.

    Args:
      ps_tasks: number of ps tasks (ignored when `cluster` is given).
      ps_device: device spec of the ps job; the strategy fills in its task.
      worker_device: device spec of the ops that are not ps ops.
      merge_devices: merge the op's own (partial) device spec over the chosen one; if False,
        an op that already has a device keeps it unchanged.
      cluster: a ClusterSpec or a dict {job: tasks}: the ps task count is the ps job's size.
      ps_ops: op types placed on ps tasks (default STANDARD_PS_OPS).
      ps_strategy: callable(op) -> ps task index (default round-robin).

    Returns:
      A function for `tf.device`, or None when there are no ps tasks.
    """
    if cluster is not None:
        ps_tasks = _ps_task_count(cluster, ps_device)
    if not ps_tasks:
        return None
    if ps_ops is None:
        ps_ops = list(STANDARD_PS_OPS)
    if not merge_devices:
        logging.warning("DEPRECATION: It is recommended to set merge_devices=true in "
                        "replica_device_setter")
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError(f"ps_strategy must be callable, got {type(ps_strategy).__name__}")
    chooser = _ReplicaDeviceChooser(ps_tasks, ps_device, worker_device, merge_devices, ps_ops,
                                    ps_strategy)
    return chooser.device_function
