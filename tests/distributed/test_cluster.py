"""tf.train.ClusterSpec: dense and sparse jobs, ClusterDef round trips, TF's errors."""
import pytest

import tensorflux as tf
from tensorflux.distributed.cluster import ClusterSpec

pytestmark = pytest.mark.timeout(60)

DENSE = {"ps": ["ps0:2222", "ps1:2222"], "worker": ["w0:2222", "w1:2222", "w2:2222"]}


def test_dense_cluster_queries():
    spec = tf.train.ClusterSpec(DENSE)
    assert spec.jobs == ["ps", "worker"]
    assert spec.num_tasks("worker") == 3
    assert spec.task_indices("ps") == [0, 1]
    assert spec.task_address("worker", 2) == "w2:2222"
    assert spec.job_tasks("worker") == DENSE["worker"]
    assert spec.as_dict() == DENSE
    assert isinstance(spec.as_dict()["ps"], list)
    assert bool(spec) and not ClusterSpec({})


def test_sparse_job_has_holes_and_stays_a_dict():
    spec = ClusterSpec({"worker": {1: "w1:2222", 3: "w3:2222"}, "ps": ["ps0:2222"]})
    assert spec.num_tasks("worker") == 2
    assert spec.task_indices("worker") == [1, 3]
    assert spec.job_tasks("worker") == [None, "w1:2222", None, "w3:2222"]
    assert spec.as_dict() == {"worker": {1: "w1:2222", 3: "w3:2222"}, "ps": ["ps0:2222"]}
    # A dict job whose indices are 0..n-1 is dense, so as_dict gives it back as a list.
    assert ClusterSpec({"w": {1: "b", 0: "a"}}).as_dict() == {"w": ["a", "b"]}
    assert ClusterSpec({"w": []}).as_dict() == {"w": {}}


def test_cluster_def_round_trip_keeps_sparse_jobs():
    spec = ClusterSpec({"worker": {1: "w1:2222"}, "ps": ["ps0:2222", "ps1:2222"]})
    cluster_def = spec.as_cluster_def()
    assert isinstance(cluster_def, tf.train.ClusterDef)
    assert [job.name for job in cluster_def.job] == ["ps", "worker"]  # sorted, as TF writes
    assert dict(cluster_def.job[1].tasks) == {1: "w1:2222"}
    parsed = tf.train.ClusterDef.FromString(cluster_def.SerializeToString())
    again = ClusterSpec(parsed)
    assert again == spec and not (again != spec)
    assert again.as_dict() == spec.as_dict()


def test_construct_from_proto_built_by_hand_and_from_another_spec():
    cluster_def = tf.train.ClusterDef()
    job = cluster_def.job.add()
    job.name = "local"
    job.tasks[0] = "localhost:2222"
    job.tasks[1] = "localhost:2223"
    assert isinstance(job, tf.train.JobDef)
    spec = ClusterSpec(cluster_def)
    assert spec.as_dict() == {"local": ["localhost:2222", "localhost:2223"]}
    copy = ClusterSpec(spec)
    assert copy == spec and copy is not spec
    assert ClusterSpec(DENSE) == DENSE  # comparable with the dict it came from


def test_equality_and_str():
    a = ClusterSpec({"ps": ["p:1"], "worker": ["w:1"]})
    assert a == ClusterSpec({"worker": ["w:1"], "ps": ["p:1"]})
    assert a != ClusterSpec({"ps": ["p:1"], "worker": ["w:2"]})
    assert a != ClusterSpec({"ps": ["p:1"]})
    assert a != "not a cluster"
    assert str(a) == "ClusterSpec({'ps': ['p:1'], 'worker': ['w:1']})"
    assert str(ClusterSpec({"w": {2: "x:1"}})) == "ClusterSpec({'w': {2: 'x:1'}})"


def test_bytes_names_and_addresses_are_text():
    spec = ClusterSpec({b"worker": [b"w0:2222"]})
    assert spec.jobs == ["worker"] and spec.task_address("worker", 0) == "w0:2222"


def test_unknown_job_or_task_is_a_value_error():
    spec = ClusterSpec(DENSE)
    for call in (spec.num_tasks, spec.task_indices, spec.job_tasks):
        with pytest.raises(ValueError, match=r"No such job in cluster: 'chief'"):
            call("chief")
    with pytest.raises(ValueError, match=r"No such job in cluster: 'chief'"):
        spec.task_address("chief", 0)
    with pytest.raises(ValueError, match=r"No task with index 5 in job 'worker'"):
        spec.task_address("worker", 5)


@pytest.mark.parametrize("cluster, match", [
    (["w0:2222"], "`cluster` must be a dictionary mapping one or more job names"),
    ("w0:2222", "`cluster` must be a dictionary mapping one or more job names"),
    ({"worker": "w0:2222"}, "The tasks for job 'worker' must be a list or a dictionary"),
    ({"worker": [2222]}, "Task address 2222 must be bytes or unicode"),
    ({3: ["w0:2222"]}, "Job name 3 must be bytes or unicode"),
    ({"worker": {"0": "w0:2222"}}, "Task index '0' of job 'worker' must be an integer"),
])
def test_bad_input_is_a_type_error(cluster, match):
    with pytest.raises(TypeError, match=match):
        ClusterSpec(cluster)


def test_negative_task_index_is_a_value_error():
    with pytest.raises(ValueError, match="Task index -1 of job 'worker' must be non-negative"):
        ClusterSpec({"worker": {-1: "w:1"}})
