"""Cluster resolvers: where a task learns its cluster, its job name and its task index.

TF 1.x `tf.contrib.cluster_resolver` (TF 2's `tf.distribute.cluster_resolver`):
`SimpleClusterResolver` (given values), `TFConfigClusterResolver` (the `TF_CONFIG` JSON that
Kubernetes operators, cloud schedulers and our launcher set), `SlurmClusterResolver` (SLURM's
environment) and `UnionClusterResolver`. `resolve()` picks whichever environment is present and
returns what `tf.train.Server(cluster, job_name=..., task_index=...)` needs.
"""
import json
import os
import re

from tensorflux.distributed.cluster import ClusterSpec


def format_master_url(master, rpc_layer=None):
    """"grpc://host:port" for an address and an RPC layer; the bare address without a layer."""
    return f"{rpc_layer}://{master}" if rpc_layer else master


class ClusterResolver:
    """Base class: a cluster spec, this task's identity and the master to connect to.

    Subclasses implement `cluster_spec()` and `master()`; `task_type`/`task_id` may be set by
    the user to override what the environment says.
    """

    def __init__(self):
        self._task_type = None
        self._task_id = None
        self._rpc_layer = None

    def cluster_spec(self):
        """The `tf.train.ClusterSpec` of the cluster (re-read on every call)."""
        raise NotImplementedError(f"{type(self).__name__} must implement cluster_spec()")

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        """The session target of a task ("grpc://host:port"), this task's by default; '' when
        the task is unknown."""
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        if task_type is None or task_id is None:
            return ""
        address = self.cluster_spec().task_address(task_type, task_id)
        return format_master_url(address, rpc_layer or self.rpc_layer)

    @property
    def task_type(self):
        return self._task_type

    @task_type.setter
    def task_type(self, task_type):
        self._task_type = task_type

    @property
    def task_id(self):
        return self._task_id

    @task_id.setter
    def task_id(self, task_id):
        self._task_id = task_id

    @property
    def rpc_layer(self):
        return self._rpc_layer

    @rpc_layer.setter
    def rpc_layer(self, rpc_layer):
        self._rpc_layer = rpc_layer

    @property
    def environment(self):
        """The environment the cluster runs in ('' for none in particular, 'cloud', ...)."""
        return ""

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        """{device type: count} of accelerators per task. tensorflux computes on the CPU (NumPy),
        so a resolver reports accelerators only where it was told about them."""
        del task_type, task_id, config_proto
        return {}


class SimpleClusterResolver(ClusterResolver):
    """A resolver holding the values it was given."""

    def __init__(self, cluster_spec, master="", task_type=None, task_id=None, environment="",
                 num_accelerators=None, rpc_layer=None):
        super().__init__()
        if not isinstance(cluster_spec, ClusterSpec):
            raise TypeError(f"cluster_spec must be a `tf.train.ClusterSpec`; got "
                            f"{type(cluster_spec).__name__}")
        self._cluster_spec = cluster_spec
        self._master = master
        self._task_type, self._task_id, self._rpc_layer = task_type, task_id, rpc_layer
        self._environment = environment
        self._num_accelerators = dict(num_accelerators or {})

    def cluster_spec(self):
        return self._cluster_spec

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        """The address of (task_type, task_id) if both are given, else the given master."""
        if task_type is not None and task_id is not None:
            address = self._cluster_spec.task_address(task_type, task_id)
        else:
            address = self._master
        return format_master_url(address, rpc_layer or self._rpc_layer)

    @property
    def environment(self):
        return self._environment

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return dict(self._num_accelerators)


class UnionClusterResolver(ClusterResolver):
    """The union of other resolvers' clusters; task identity and master from the first one.

    A job present in several resolvers is merged: dense jobs (lists) everywhere are
    concatenated in resolver order; otherwise the tasks are merged by index, and an index
    given twice is a KeyError, as in TF.
    """

    def __init__(self, *resolvers, task_type=None, task_id=None, rpc_layer=None):
        super().__init__()
        if not resolvers:
            raise ValueError("At least one ClusterResolver is required.")
        for resolver in resolvers:
            if not isinstance(resolver, ClusterResolver):
                raise TypeError(f"All arguments must be a sub-class of `ClusterResolver`; got "
                                f"{type(resolver).__name__}")
        self._resolvers = resolvers
        self._task_type, self._task_id, self._rpc_layer = task_type, task_id, rpc_layer

    def cluster_spec(self):
        parts = [resolver.cluster_spec().as_dict() for resolver in self._resolvers]
        merged = {}
        for job_name in dict.fromkeys(job for part in parts for job in part):
            jobs = [part[job_name] for part in parts if job_name in part]
            if all(isinstance(tasks, list) for tasks in jobs):
                merged[job_name] = [address for tasks in jobs for address in tasks]
            else:
                merged[job_name] = _merge_sparse(job_name, jobs)
        return ClusterSpec(merged)

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        if task_type is not None and task_id is not None:
            address = self.cluster_spec().task_address(task_type, task_id)
            return format_master_url(address, rpc_layer or self.rpc_layer)
        return self._resolvers[0].master(rpc_layer=rpc_layer or self._rpc_layer)

    @property
    def task_type(self):
        return self._task_type if self._task_type is not None else self._resolvers[0].task_type

    @task_type.setter
    def task_type(self, task_type):
        self._task_type = task_type

    @property
    def task_id(self):
        return self._task_id if self._task_id is not None else self._resolvers[0].task_id

    @task_id.setter
    def task_id(self, task_id):
        self._task_id = task_id

    @property
    def rpc_layer(self):
        return self._rpc_layer if self._rpc_layer is not None else self._resolvers[0].rpc_layer

    @rpc_layer.setter
    def rpc_layer(self, rpc_layer):
        self._rpc_layer = rpc_layer

    @property
    def environment(self):
        return self._resolvers[0].environment

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return self._resolvers[0].num_accelerators(task_type, task_id, config_proto)


def _merge_sparse(job_name, jobs):
    merged = {}
    for tasks in jobs:
        tasks = dict(enumerate(tasks)) if isinstance(tasks, list) else tasks
        duplicates = sorted(set(tasks) & set(merged))
        if duplicates:
            raise KeyError(f"Duplicate keys detected when merging two ClusterSpecs: job "
                           f"{job_name!r}, task indices {duplicates}")
        merged.update(tasks)
    return merged


def _load_tf_config():
    """The parsed TF_CONFIG variable ({} when unset or empty)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {text!r}") from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object; got {text!r}")
    return config


def _json_cluster(cluster):
    """JSON object keys are strings: a sparse job {"1": "host:port"} means task index 1."""
    def tasks(job):
        if isinstance(job, dict):
            return {int(index): address for index, address in job.items()}
        return job
    return {job_name: tasks(job) for job_name, job in cluster.items()}


class TFConfigClusterResolver(ClusterResolver):
    """Reads the cluster and this task from the `TF_CONFIG` environment variable:

    ```
    {"cluster": {"ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222"]},
     "task": {"type": "worker", "index": 1}, "rpc_layer": "grpc", "environment": "cloud"}
    ```
    The variable is read at each call, so a process may set it after creating the resolver.
    """

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        super().__init__()
        self._task_type, self._task_id, self._rpc_layer = task_type, task_id, rpc_layer
        self._environment = environment

    def cluster_spec(self):
        return ClusterSpec(_json_cluster(_load_tf_config().get("cluster", {})))

    @property
    def task_type(self):
        if self._task_type is not None:
            return self._task_type
        return _load_tf_config().get("task", {}).get("type")

    @task_type.setter
    def task_type(self, task_type):
        self._task_type = task_type

    @property
    def task_id(self):
        if self._task_id is not None:
            return self._task_id
        index = _load_tf_config().get("task", {}).get("index")
        return None if index is None else int(index)

    @task_id.setter
    def task_id(self, task_id):
        self._task_id = task_id

    @property
    def rpc_layer(self):
        if self._rpc_layer is not None:
            return self._rpc_layer
        return _load_tf_config().get("rpc_layer")

    @rpc_layer.setter
    def rpc_layer(self, rpc_layer):
        self._rpc_layer = rpc_layer

    @property
    def environment(self):
        if self._environment is not None:
            return self._environment
        return _load_tf_config().get("environment", "")


def _split_top_level(text):
    """Splits "a[1,2],b" at the commas outside brackets: ["a[1,2]", "b"]."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0:
            raise ValueError(f"Unbalanced ']' in SLURM host list {text!r}")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"Unbalanced '[' in SLURM host list {text!r}")
    parts.append(text[start:])
    return [part for part in parts if part]


def _expand_range(item, hostlist):
    """"07" -> ["07"]; "01-03" -> ["01", "02", "03"] (keeping the zero padding)."""
    low, sep, high = item.partition("-")
    if not low.isdigit() or (sep and not high.isdigit()):
        raise ValueError(f"Bad range {item!r} in SLURM host list {hostlist!r}")
    if not sep:
        return [low]
    if int(high) < int(low):
        raise ValueError(f"Empty range {item!r} in SLURM host list {hostlist!r}")
    return [str(n).zfill(len(low)) for n in range(int(low), int(high) + 1)]


def _expand_host(pattern, hostlist):
    """"n[1-2]-ib[3,5]" -> n1-ib3, n1-ib5, n2-ib3, n2-ib5 (brackets multiply, left first)."""
    match = re.search(r"\[([^\[\]]*)\]", pattern)
    if match is None:
        return [pattern]
    prefix, rest = pattern[:match.start()], pattern[match.end():]
    tails = _expand_host(rest, hostlist)
    hosts = []
    for item in match.group(1).split(","):
        for number in _expand_range(item.strip(), hostlist):
            hosts.extend(prefix + number + tail for tail in tails)
    return hosts


def expand_hostlist(hostlist):
    """Expands a SLURM host list: "node[01-03,07],gpu5" -> node01 node02 node03 node07 gpu5."""
    hosts = []
    for pattern in _split_top_level(hostlist.strip()):
        hosts.extend(_expand_host(pattern, hostlist))
    return hosts


def expand_tasks_per_node(tasks_per_node):
    """Expands SLURM_TASKS_PER_NODE: "2(x3),1" -> [2, 2, 2, 1]."""
    counts = []
    for item in tasks_per_node.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:\(x(\d+)\))?\s*", item)
        if match is None:
            raise ValueError(f"Bad SLURM tasks-per-node list {tasks_per_node!r} at {item!r}")
        counts.extend([int(match.group(1))] * int(match.group(2) or 1))
    return counts


def _slurm_env(*names):
    """The first of `names` set in the environment (job-step variables before job ones)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise RuntimeError(f"{names[0]} is not set: not running under SLURM (srun)?")


class SlurmClusterResolver(ClusterResolver):
    """Builds the cluster from SLURM's environment, for tasks started with `srun`.

    Every SLURM task (rank `SLURM_PROCID`) becomes one cluster task. Tasks are laid out node by
    node in host-list order, the order in which SLURM's default block distribution hands out
    ranks, so rank r's address names the node rank r runs on; ports are `port_base` plus the
    task's local rank on its node. Job names are then given consecutive ranks in sorted order,
    as in TF: `jobs={"ps": 1, "worker": 2}` makes rank 0 ps/0 and ranks 1-2 worker/0-1.
    """

    def __init__(self, jobs=None, port_base=8888, gpus_per_node=None, gpus_per_task=None,
                 tasks_per_node=None, auto_set_gpu=True, rpc_layer="grpc"):
        """Reads the SLURM environment.

        Args:
          jobs: {job name: number of tasks}; defaults to every SLURM task a 'worker'.
          port_base: the first port on each node.
          gpus_per_node: GPUs on each node (tensorflux computes on the CPU: default 0).
          gpus_per_task: GPUs per task; defaults to gpus_per_node split over the node's tasks.
          tasks_per_node: an int, or {hostname: count}; defaults to SLURM_STEP_TASKS_PER_NODE.
          auto_set_gpu: set CUDA_VISIBLE_DEVICES to this task's GPUs (when it has any).
          rpc_layer: the protocol of `master()` URLs.

        Raises:
          RuntimeError: outside SLURM, or when `jobs` asks for more tasks than SLURM started or
            the tasks of a node ask for more GPUs than it has.
          ValueError: if the host list or the tasks-per-node list cannot be parsed.
        """
        super().__init__()
        self._rank = int(_slurm_env("SLURM_PROCID"))
        num_tasks = int(_slurm_env("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"))
        self._jobs = dict(jobs) if jobs is not None else {"worker": num_tasks}
        self._port_base = port_base
        self._rpc_layer = rpc_layer
        self._layout = _slurm_layout(tasks_per_node)  # [(host, tasks on it)] in rank order
        self._gpus_per_task = _gpus_per_task(self._layout, gpus_per_node, gpus_per_task)
        self._allocation = self._allocate()
        if auto_set_gpu and self._gpus_per_task:
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, self._local_gpus()))

    def _task_addresses(self):
        """[(address, local rank)] for every SLURM rank, in rank order."""
        return [(f"{host}:{self._port_base + local}", local)
                for host, count in self._layout for local in range(count)]

    def _allocate(self):
        """{job: [addresses]}, and this rank's task_type/task_id."""
        addresses = [address for address, _ in self._task_addresses()]
        if not 0 <= self._rank < len(addresses):
            raise RuntimeError(f"SLURM_PROCID {self._rank} is outside the {len(addresses)} "
                               f"tasks of the SLURM layout {self._layout}")
        requested = sum(self._jobs.values())
        if requested > len(addresses):
            raise RuntimeError(f"Requested more tasks than assigned tasks: jobs {self._jobs} "
                               f"need {requested} tasks, SLURM started {len(addresses)} "
                               f"({self._layout})")
        allocation, start = {}, 0
        for job_name, count in sorted(self._jobs.items()):
            allocation[job_name] = addresses[start:start + count]
            if start <= self._rank < start + count:
                self._task_type, self._task_id = job_name, self._rank - start
            start += count
        return allocation

    def _local_gpus(self):
        local_rank = self._task_addresses()[self._rank][1]
        first = local_rank * self._gpus_per_task
        return list(range(first, first + self._gpus_per_task))

    def cluster_spec(self):
        return ClusterSpec({job: list(tasks) for job, tasks in self._allocation.items()})

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return {"GPU": self._gpus_per_task} if self._gpus_per_task else {}


def _slurm_layout(tasks_per_node):
    """[(hostname, number of tasks on it)] from the node list and the tasks-per-node spec."""
    nodelist = _slurm_env("SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST")
    hosts = expand_hostlist(nodelist)
    if isinstance(tasks_per_node, int):
        counts = [tasks_per_node] * len(hosts)
    elif isinstance(tasks_per_node, dict):
        missing = [host for host in hosts if host not in tasks_per_node]
        if missing:
            raise ValueError(f"tasks_per_node has no entry for hosts {missing} of the SLURM "
                             f"node list {nodelist!r}")
        counts = [tasks_per_node[host] for host in hosts]
    else:
        spec = _slurm_env("SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE")
        counts = expand_tasks_per_node(spec)
        if len(counts) != len(hosts):
            raise ValueError(f"SLURM tasks per node {spec!r} gives {len(counts)} nodes, the "
                             f"node list {nodelist!r} {len(hosts)}")
    return list(zip(hosts, counts))


def _gpus_per_task(layout, gpus_per_node, gpus_per_task):
    gpus_per_node = gpus_per_node or 0
    if gpus_per_task is None:
        busiest = max((count for _, count in layout), default=1)
        gpus_per_task = gpus_per_node // max(busiest, 1)
    for host, count in layout:
        if count * gpus_per_task > gpus_per_node:
            raise RuntimeError(f"Requested more GPUs per node than available: {count} tasks "
                               f"x {gpus_per_task} GPUs on {host}, which has {gpus_per_node}")
    return gpus_per_task


def resolve(jobs=None, port_base=8888):
    """This process's (ClusterSpec, job_name, task_index) from its environment.

    `TF_CONFIG` when set (Kubernetes, cloud schedulers, `tensorflux.distributed.launch`), else
    SLURM's variables when `SLURM_PROCID` is set (`jobs` and `port_base` as in
    `SlurmClusterResolver`).

    Raises:
      ValueError: if neither is set, or the environment does not name this task.
    """
    if os.environ.get("TF_CONFIG", "").strip():
        resolver, source = TFConfigClusterResolver(), "TF_CONFIG"
    elif "SLURM_PROCID" in os.environ:
        resolver = SlurmClusterResolver(jobs=jobs, port_base=port_base)
        source = "SLURM"
    else:
        raise ValueError("No cluster in the environment: neither TF_CONFIG nor SLURM_PROCID is "
                         "set. Start the tasks with `python -m tensorflux.distributed.launch`, "
                         "set TF_CONFIG, run under SLURM's srun, or build a tf.train.ClusterSpec")
    spec, job_name, task_index = resolver.cluster_spec(), resolver.task_type, resolver.task_id
    if not spec:
        raise ValueError(f"{source} defines no cluster (no jobs)")
    if job_name is None or task_index is None:
        raise ValueError(f"{source} does not say which task this process is (task type "
                         f"{job_name!r}, index {task_index!r}); cluster: {spec}")
    spec.task_address(job_name, task_index)  # ValueError if the task is not in the cluster
    return spec, job_name, task_index
