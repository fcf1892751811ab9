"""`tf.train.ClusterSpec`: the jobs and tasks of a cluster, and their network addresses.

A cluster is a set of jobs ("ps", "worker", ...); each job is a set of tasks numbered from 0,
each task a "host:port" address. A job may be sparse ({1: "w1:2222"}): a server only needs the
addresses of the tasks it talks to. Internally every job is a {task_index: address} dict, the
shape of TF's `JobDef.tasks` map, so converting to and from a `ClusterDef` loses nothing.
"""
from tensorflux.framework import protos

_BAD_CLUSTER = ("`cluster` must be a dictionary mapping one or more job names to lists of "
                "network addresses, or a `ClusterDef` protocol buffer")


def _as_text(value, what):
    """Job names and addresses may be str or bytes (TF's compat.as_text); nothing else."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} {value!r} must be bytes or unicode")


def _job_from_python(job_name, tasks):
    """One job of a dict cluster: a list/tuple (dense) or {task_index: address} (sparse)."""
    if isinstance(tasks, (list, tuple)):
        items = enumerate(tasks)
    elif isinstance(tasks, dict):
        items = tasks.items()
    else:
        raise TypeError(f"The tasks for job {job_name!r} must be a list or a dictionary from "
                        f"integers to strings; got {type(tasks).__name__}: {tasks!r}")
    job = {}
    for index, address in items:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Task index {index!r} of job {job_name!r} must be an integer")
        if index < 0:
            raise ValueError(f"Task index {index} of job {job_name!r} must be non-negative")
        job[index] = _as_text(address, "Task address")
    return job


class ClusterSpec:
    """Represents a cluster as a set of "tasks", organized into "jobs".

    ```python
    cluster = tf.train.ClusterSpec({"worker": ["w0:2222", "w1:2222"], "ps": ["ps0:2222"]})
    sparse = tf.train.ClusterSpec({"worker": {1: "w1:2222"}, "ps": ["ps0:2222"]})
    ```
    """

    def __init__(self, cluster):
        """Creates a `ClusterSpec`.

        Args:
          cluster: a dict mapping job names to (i) a list of network addresses or (ii) a dict
            mapping integer task indices to network addresses; or a `tf.train.ClusterDef`;
            or another `ClusterSpec` (copied).

        Raises:
          TypeError: if `cluster` is none of these, or a job name or address is not a string.
        """
        if isinstance(cluster, ClusterSpec):
            self._jobs = {job: dict(tasks) for job, tasks in cluster._jobs.items()}
        elif isinstance(cluster, protos.ClusterDef):
            self._jobs = {}
            for job_def in cluster.job:
                if job_def.name in self._jobs:
                    raise ValueError(f"Duplicate job name {job_def.name!r} in ClusterDef")
                self._jobs[job_def.name] = dict(job_def.tasks)
        elif isinstance(cluster, dict):
            self._jobs = {}
            for job_name, tasks in cluster.items():
                name = _as_text(job_name, "Job name")
                self._jobs[name] = _job_from_python(name, tasks)
        else:
            raise TypeError(f"{_BAD_CLUSTER}; got {type(cluster).__name__}: {cluster!r}")

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        if isinstance(other, (dict, protos.ClusterDef)):
            other = ClusterSpec(other)
        if not isinstance(other, ClusterSpec):
            return NotImplemented
        return self._jobs == other._jobs

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # mutable-looking value type, as in TF: usable in ==, not as a dict key

    def __str__(self):
        as_dict = self.as_dict()
        items = ", ".join(f"{job!r}: {as_dict[job]!r}" for job in sorted(as_dict))
        return "ClusterSpec({" + items + "})"

    __repr__ = __str__

    @property
    def jobs(self):
        """The list of job names in this cluster."""
        return list(self._jobs)

    def _job(self, job_name):
        try:
            return self._jobs[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r} "
                             f"(jobs: {sorted(self._jobs)})") from None

    def num_tasks(self, job_name):
        """The number of tasks defined in job `job_name`; ValueError if there is no such job."""
        return len(self._job(job_name))

    def task_indices(self, job_name):
        """The sorted list of valid task indices of job `job_name`."""
        return sorted(self._job(job_name))

    def task_address(self, job_name, task_index):
        """The address of task `task_index` of job `job_name`.

        Raises:
          ValueError: if there is no such job, or it has no task with that index.
        """
        job = self._job(job_name)
        try:
            return job[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r} "
                             f"(indices: {sorted(job)})") from None

    def job_tasks(self, job_name):
        """The addresses of job `job_name`'s tasks by index, with None where a sparse job has
        no task (`{1: "a"}` gives `[None, "a"]`)."""
        job = self._job(job_name)
        tasks = [None] * (max(job) + 1 if job else 0)
        for index, address in job.items():
            tasks[index] = address
        return tasks

    def as_dict(self):
        """{job name: list of addresses} for dense jobs, {job name: {index: address}} for
        sparse ones, so that `ClusterSpec(spec.as_dict()) == spec`."""
        result = {}
        for job_name, job in self._jobs.items():
            if not job or max(job) + 1 != len(job):  # an empty job is {} in TF too
                result[job_name] = dict(sorted(job.items()))
            else:
                result[job_name] = self.job_tasks(job_name)
        return result

    def as_cluster_def(self):
        """A `tf.train.ClusterDef` for this cluster, jobs sorted by name (as TF writes them)."""
        cluster_def = protos.ClusterDef()
        for job_name in sorted(self._jobs):
            job_def = cluster_def.job.add()
            job_def.name = job_name
            for index, address in sorted(self._jobs[job_name].items()):
                job_def.tasks[index] = address
        return cluster_def
