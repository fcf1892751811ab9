"""Step tracing: FULL_TRACE fills RunMetadata.step_stats for every executed node, and the
Timeline turns it into a Chrome trace."""
import json

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.client import timeline
from tensorflux.runtime.executor import prune

pytestmark = pytest.mark.timeout(30)

LOCAL = "/job:localhost/replica:0/task:0/device:CPU:%d"
FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _traced_run(fetches, feed=None, devices=1):
    metadata = tf.RunMetadata()
    # The graph optimizer is off (L0): the traces are compared with the pruned graph.
    config = tf.ConfigProto(device_count={"CPU": devices}, graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    with tf.Session(config=config) as sess:
        value = sess.run(fetches, feed, options=FULL, run_metadata=metadata)
    return value, metadata


def _model():
    x = tf.placeholder(tf.float32, [3, 4], name="x")
    w = tf.constant(np.ones((4, 5), np.float32), name="w")
    y = tf.matmul(x, w, name="y")
    return x, tf.reduce_sum(tf.tanh(y), name="loss"), y


def test_untraced_runs_leave_run_metadata_empty():
    x, loss, _ = _model()
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(loss, {x: np.zeros((3, 4))}, run_metadata=metadata)
    assert not metadata.step_stats.dev_stats


def test_single_device_trace_covers_every_executed_node():
    x, loss, y = _model()
    _, metadata = _traced_run(loss, {x: np.ones((3, 4), np.float32)})
    stats = metadata.step_stats
    assert [d.device for d in stats.dev_stats] == [LOCAL % 0]
    executed = {op.name for op in prune([loss], [], {x})}
    nodes = {n.node_name: n for n in stats.dev_stats[0].node_stats}
    assert set(nodes) == executed
    for n in nodes.values():
        assert n.all_start_micros > 1_000_000_000_000_000  # microseconds since the epoch
        assert 0 <= n.op_start_rel_micros <= n.op_end_rel_micros <= n.all_end_rel_micros
        assert n.timeline_label.startswith(f"{n.node_name} = ")
    out = nodes["y"].output[0].tensor_description
    assert out.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in out.shape.dim] == [3, 5]
    assert out.allocation_description.requested_bytes == 3 * 5 * 4
    assert nodes["y"].memory[0].total_bytes == 60
    assert nodes["y"].timeline_label == "y = MatMul(x, w)"
    cost = {n.name: n for n in metadata.cost_graph.node}
    assert set(cost) == executed and cost["y"].output_info[0].size == 60


def test_multi_device_trace_has_stats_per_device_including_send_recv():
    x = tf.placeholder(tf.float32, [4], name="x")
    out = x
    for d in range(4):
        with tf.device("/cpu:%d" % d):
            out = tf.square(out, name=f"sq{d}")
    value, metadata = _traced_run(out, {x: np.full(4, 1.1, np.float32)}, devices=4)
    np.testing.assert_allclose(value, np.full(4, 1.1 ** 16), rtol=1e-5)
    by_device = {d.device: [n.node_name for n in d.node_stats]
                 for d in metadata.step_stats.dev_stats}
    assert sorted(by_device) == [LOCAL % d for d in range(4)]
    for d in range(4):
        names = by_device[LOCAL % d]
        assert f"sq{d}" in names
        assert sum(n.startswith("_send_") for n in names) == (d < 3)
        assert sum(n.startswith("_recv_") for n in names) == (d > 0)


def _events(trace_json):
    trace = json.loads(trace_json)
    assert isinstance(trace, dict) and isinstance(trace["traceEvents"], list)
    return trace["traceEvents"]


def test_chrome_trace_is_valid():
    x = tf.placeholder(tf.float32, [4], name="x")
    with tf.device("/cpu:0"):
        a = tf.square(x, name="a")
    with tf.device("/cpu:1"):
        b = tf.negative(a, name="b")
    _, metadata = _traced_run(b, {x: np.ones(4, np.float32)}, devices=2)
    events = _events(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format())
    complete = [e for e in events if e["ph"] == "X"]
    nodes = {n.node_name for d in metadata.step_stats.dev_stats for n in d.node_stats}
    assert {e["args"]["name"] for e in complete} == nodes
    for e in complete:
        assert {"name", "ph", "ts", "dur", "pid", "tid"} <= set(e)
        assert isinstance(e["ts"], int) and e["dur"] >= 0
    assert {e["name"] for e in complete} >= {"Square", "Neg", "_Send", "_Recv"}
    names = {e["pid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    assert sorted(names.values()) == [f"{LOCAL % d} Compute" for d in range(2)]
    assert {e["pid"] for e in complete} <= set(names)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "t"}
    assert starts and set(starts) == set(ends)
    send_to_recv = [i for i, e in starts.items() if e["name"] == "_Send"]
    assert send_to_recv and starts[send_to_recv[0]]["pid"] != ends[send_to_recv[0]]["pid"]
    assert not [e for e in events if e["ph"] == "C"]


def test_chrome_trace_options():
    x, loss, _ = _model()
    _, metadata = _traced_run(loss, {x: np.ones((3, 4), np.float32)})
    trace = timeline.Timeline(metadata.step_stats)
    plain = _events(trace.generate_chrome_trace_format(show_dataflow=False))
    assert not [e for e in plain if e["ph"] in ("s", "t")]
    memory = _events(trace.generate_chrome_trace_format(show_memory=True))
    counters = [e for e in memory if e["ph"] == "C"]
    assert counters and all("bytes" in e["args"] for e in counters)
    analysis = trace.analyze_step_stats()
    assert analysis.allocator_maximums[LOCAL % 0].num_bytes >= 60


def test_tensorflow_import_path():
    from tensorflux.python.client import timeline as tf_path_timeline
    assert tf_path_timeline.Timeline is timeline.Timeline


def _memory(metadata):
    return {n.node_name: n for d in metadata.step_stats.dev_stats for n in d.node_stats}


def test_memory_stats_count_new_buffers_frees_and_the_peak():
    x = tf.placeholder(tf.float32, [1000], name="x")
    a = tf.square(x, name="a")                    # 4000 new bytes
    r = tf.reshape(a, [10, 100], name="r")        # a view of a: nothing new
    b = tf.tanh(r, name="b")                      # 4000 new; a is spent after b
    c = tf.negative(b, name="c")                  # 4000 new; b is spent after c
    total = tf.reduce_sum(c, name="total")        # 4 new bytes, fetched
    _, metadata = _traced_run(total, {x: np.ones(1000, np.float32)})
    nodes = _memory(metadata)
    allocated = {n: nodes[n].memory[0].total_bytes for n in ("a", "r", "b", "c", "total")}
    assert allocated == {"a": 4000, "r": 0, "b": 4000, "c": 4000, "total": 4}
    alloc = nodes["r"].output[0].tensor_description.allocation_description
    assert (alloc.requested_bytes, alloc.allocated_bytes) == (4000, 0)
    in_use = {n: nodes[n].memory[0].allocator_bytes_in_use for n in allocated}
    # a (held by its view r) and b live together while b finishes; a is freed before c ends
    assert in_use == {"a": 4000, "r": 4000, "b": 8000, "c": 8000, "total": 4004}
    assert nodes["total"].memory[0].live_bytes == 4 and nodes["c"].memory[0].live_bytes == 0
    from tensorflux.runtime import step_stats
    assert step_stats.peak_bytes(metadata.step_stats) == {LOCAL % 0: 8000}


def test_memory_stats_leave_variables_and_constants_out():
    v = tf.Variable(np.ones((50, 50), np.float32), name="v")
    k = tf.constant(np.ones((50, 50), np.float32), name="k")
    out = tf.matmul(v, k, name="out")
    metadata = tf.RunMetadata()
    # no graph optimization (ConfigProto's L0): the Const must run as a node of its own
    config = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    with tf.Session(config=config) as sess:
        sess.run(v.initializer)
        sess.run(out, options=FULL, run_metadata=metadata)
    nodes = _memory(metadata)
    assert nodes["v"].memory[0].total_bytes == 0 and nodes["k"].memory[0].total_bytes == 0
    assert nodes["out"].memory[0].total_bytes == 10000
    assert max(n.memory[0].allocator_bytes_in_use for n in nodes.values()) == 10000
