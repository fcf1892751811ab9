"""Cluster resolvers: TF_CONFIG, SLURM (host lists, tasks per node, ports), resolve()."""
import json
import os

import pytest

import tensorflux as tf
from tensorflux.distributed import cluster_resolver as cr
from tensorflux.distributed.cluster import ClusterSpec

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No TF_CONFIG or SLURM variable leaks in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("SLURM_") or name == "TF_CONFIG":
            monkeypatch.delenv(name)
    # The SLURM resolver sets CUDA_VISIBLE_DEVICES itself: setenv first so teardown restores it.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")


def _tf_config(monkeypatch, **config):
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))


def _slurm(monkeypatch, procid, ntasks, nodelist, tasks_per_node):
    monkeypatch.setenv("SLURM_PROCID", str(procid))
    monkeypatch.setenv("SLURM_NTASKS", str(ntasks))
    monkeypatch.setenv("SLURM_JOB_NODELIST", nodelist)
    monkeypatch.setenv("SLURM_TASKS_PER_NODE", tasks_per_node)


CLUSTER = {"ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222"]}


def test_contrib_namespace_exports_the_resolvers():
    assert tf.contrib.cluster_resolver.TFConfigClusterResolver is cr.TFConfigClusterResolver
    assert tf.contrib.cluster_resolver.SlurmClusterResolver is cr.SlurmClusterResolver
    assert issubclass(tf.contrib.cluster_resolver.SimpleClusterResolver,
                      tf.contrib.cluster_resolver.ClusterResolver)


def test_tf_config_cluster_task_and_master(monkeypatch):
    _tf_config(monkeypatch, cluster=CLUSTER, task={"type": "worker", "index": 1},
               rpc_layer="grpc", environment="cloud")
    resolver = cr.TFConfigClusterResolver()
    assert resolver.cluster_spec() == ClusterSpec(CLUSTER)
    assert (resolver.task_type, resolver.task_id) == ("worker", 1)
    assert resolver.environment == "cloud"
    assert resolver.master() == "grpc://h2:2222"
    assert resolver.master("ps", 0) == "grpc://h0:2222"
    assert resolver.master("ps", 0, rpc_layer="grpc+verbs") == "grpc+verbs://h0:2222"
    resolver.task_type, resolver.task_id = "ps", 0  # the user's values win over TF_CONFIG
    assert resolver.master() == "grpc://h0:2222"
    assert resolver.num_accelerators() == {}


def test_tf_config_is_read_at_each_call_and_sparse_keys_are_indices(monkeypatch):
    resolver = cr.TFConfigClusterResolver(rpc_layer=None)
    assert not resolver.cluster_spec() and resolver.master() == ""
    _tf_config(monkeypatch, cluster={"worker": {"1": "h1:2222"}},
               task={"type": "worker", "index": "1"})
    assert resolver.cluster_spec().job_tasks("worker") == [None, "h1:2222"]
    assert resolver.task_id == 1 and resolver.master() == "h1:2222"  # no rpc_layer: bare


def test_bad_tf_config_is_a_value_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        cr.TFConfigClusterResolver().cluster_spec()
    monkeypatch.setenv("TF_CONFIG", "[1, 2]")
    with pytest.raises(ValueError, match="TF_CONFIG must be a JSON object"):
        cr.TFConfigClusterResolver().task_type


def test_simple_and_union_resolvers():
    simple = cr.SimpleClusterResolver(ClusterSpec(CLUSTER), master="h9:1", task_type="worker",
                                      task_id=0, rpc_layer="grpc", num_accelerators={"GPU": 2})
    assert simple.master() == "grpc://h9:1"
    assert simple.master("worker", 1) == "grpc://h2:2222"
    assert simple.num_accelerators() == {"GPU": 2} and simple.task_type == "worker"
    with pytest.raises(TypeError, match="tf.train.ClusterSpec"):
        cr.SimpleClusterResolver(CLUSTER)
    more = cr.SimpleClusterResolver(ClusterSpec({"worker": ["h3:2222"], "chief": ["c:1"]}))
    union = cr.UnionClusterResolver(simple, more)
    assert union.cluster_spec().as_dict() == {
        "ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222", "h3:2222"], "chief": ["c:1"]}
    assert union.master() == "grpc://h9:1" and union.task_type == "worker"
    sparse = cr.SimpleClusterResolver(ClusterSpec({"worker": {5: "h5:2222"}}))
    assert union.__class__(simple, sparse).cluster_spec().task_indices("worker") == [0, 1, 5]
    clash = cr.SimpleClusterResolver(ClusterSpec({"worker": {1: "other:1"}}))
    with pytest.raises(KeyError, match="Duplicate keys"):
        cr.UnionClusterResolver(simple, clash).cluster_spec()


@pytest.mark.parametrize("hostlist, hosts", [
    ("node[01-03,07],gpu5", ["node01", "node02", "node03", "node07", "gpu5"]),
    ("a1,b2", ["a1", "b2"]),
    ("n[8-11]", ["n8", "n9", "n10", "n11"]),
    ("r[1-2]-n[3,5]", ["r1-n3", "r1-n5", "r2-n3", "r2-n5"]),
    ("single", ["single"]),
])
def test_expand_hostlist(hostlist, hosts):
    assert cr.expand_hostlist(hostlist) == hosts


@pytest.mark.parametrize("bad", ["node[1-3", "node1-3]", "node[a-c]", "node[5-2]"])
def test_bad_hostlist_is_a_value_error(bad):
    with pytest.raises(ValueError, match="SLURM host list"):
        cr.expand_hostlist(bad)


def test_expand_tasks_per_node():
    assert cr.expand_tasks_per_node("2(x3),1") == [2, 2, 2, 1]
    assert cr.expand_tasks_per_node("4") == [4]
    with pytest.raises(ValueError, match="tasks-per-node"):
        cr.expand_tasks_per_node("2(3)")


def test_slurm_assigns_sorted_jobs_to_ranks_with_ports_per_node(monkeypatch):
    _slurm(monkeypatch, procid=2, ntasks=5, nodelist="node[01-02],gpu5",
           tasks_per_node="2(x2),1")
    resolver = cr.SlurmClusterResolver(jobs={"worker": 3, "ps": 2}, port_base=9000)
    # Ranks in node order: node01 gets ranks 0-1, node02 2-3, gpu5 4; "ps" sorts first.
    assert resolver.cluster_spec().as_dict() == {
        "ps": ["node01:9000", "node01:9001"],
        "worker": ["node02:9000", "node02:9001", "gpu5:9000"]}
    assert (resolver.task_type, resolver.task_id) == ("worker", 0)
    assert resolver.master() == "grpc://node02:9000"
    assert resolver.num_accelerators() == {}
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_slurm_defaults_every_task_to_a_worker_and_prefers_step_variables(monkeypatch):
    _slurm(monkeypatch, procid=1, ntasks=8, nodelist="big[1-4]", tasks_per_node="2(x4)")
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "3")
    monkeypatch.setenv("SLURM_STEP_NODELIST", "n[1-2]")
    monkeypatch.setenv("SLURM_STEP_TASKS_PER_NODE", "2,1")
    resolver = cr.SlurmClusterResolver()
    assert resolver.cluster_spec().as_dict() == {"worker": ["n1:8888", "n1:8889", "n2:8888"]}
    assert (resolver.task_type, resolver.task_id) == ("worker", 1)


def test_slurm_tasks_per_node_argument_and_gpus(monkeypatch):
    _slurm(monkeypatch, procid=3, ntasks=4, nodelist="a,b", tasks_per_node="ignored")
    resolver = cr.SlurmClusterResolver(tasks_per_node=2, gpus_per_node=4)
    assert resolver.cluster_spec().job_tasks("worker") == ["a:8888", "a:8889", "b:8888",
                                                           "b:8889"]
    assert resolver.num_accelerators() == {"GPU": 2}
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2,3"  # local rank 1 on b: GPUs 2 and 3
    resolver = cr.SlurmClusterResolver(tasks_per_node={"a": 1, "b": 3}, auto_set_gpu=False)
    assert resolver.cluster_spec().job_tasks("worker")[1:] == ["b:8888", "b:8889", "b:8890"]
    with pytest.raises(RuntimeError, match="Requested more GPUs per node than available"):
        cr.SlurmClusterResolver(tasks_per_node=2, gpus_per_node=2, gpus_per_task=2)


def test_slurm_errors(monkeypatch):
    with pytest.raises(RuntimeError, match="SLURM_PROCID is not set"):
        cr.SlurmClusterResolver()
    _slurm(monkeypatch, procid=0, ntasks=3, nodelist="n[1-3]", tasks_per_node="1(x3)")
    with pytest.raises(RuntimeError, match="Requested more tasks than assigned tasks"):
        cr.SlurmClusterResolver(jobs={"ps": 2, "worker": 2})
    monkeypatch.setenv("SLURM_TASKS_PER_NODE", "1(x2)")
    with pytest.raises(ValueError, match="gives 2 nodes, the node list 'n\\[1-3\\]' 3"):
        cr.SlurmClusterResolver()


def test_resolve_prefers_tf_config_then_slurm(monkeypatch):
    with pytest.raises(ValueError, match="neither TF_CONFIG nor SLURM_PROCID is set"):
        cr.resolve()
    _slurm(monkeypatch, procid=1, ntasks=2, nodelist="n[1-2]", tasks_per_node="1(x2)")
    spec, job_name, task_index = cr.resolve(jobs={"ps": 1, "worker": 1}, port_base=7000)
    assert spec.as_dict() == {"ps": ["n1:7000"], "worker": ["n2:7000"]}
    assert (job_name, task_index) == ("worker", 0)
    _tf_config(monkeypatch, cluster=CLUSTER, task={"type": "ps", "index": 0})
    assert cr.resolve() == (ClusterSpec(CLUSTER), "ps", 0)


def test_resolve_rejects_an_environment_that_names_no_task(monkeypatch):
    _tf_config(monkeypatch, cluster=CLUSTER)
    with pytest.raises(ValueError, match="does not say which task this process is"):
        cr.resolve()
    _tf_config(monkeypatch, cluster=CLUSTER, task={"type": "worker", "index": 7})
    with pytest.raises(ValueError, match="No task with index 7 in job 'worker'"):
        cr.resolve()
    _tf_config(monkeypatch, task={"type": "worker", "index": 0})
    with pytest.raises(ValueError, match="TF_CONFIG defines no cluster"):
        cr.resolve()
