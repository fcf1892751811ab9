"""Interop with a real TensorFlow (2.21) installed beside tensorflux; skipped without it.

Run with a Python that has TensorFlow, e.g.
    PYTHONPATH=/work/main /work/peers/bin/python -m pytest tests/interop -q
"""
import os
import sys

import numpy as np
import pytest

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1

import interop_models
import tf_goldens
from tensorflow.python.framework import op_def_registry

import tensorflux as tf
from tensorflux.framework import dtypes, protos, registry
from tensorflux.training import saver as saver_mod

DATA = interop_models.DATA_DIR
TOL = interop_models.TOLERANCE


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _to_tf(graph_def):
    """Our GraphDef as TensorFlow's own GraphDef proto, through the wire format."""
    return tf1.GraphDef.FromString(graph_def.SerializeToString())


def _tf_run(graph_def, fetches, feed, init=None):
    with real_tf.Graph().as_default() as graph:
        tf1.import_graph_def(_to_tf(graph_def), name="")
        with tf1.Session(graph=graph) as sess:
            if init is not None:
                sess.run(init)
            return sess.run(fetches, feed)


def _max_diff(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    return float(np.abs(got.astype(np.float64) - want).max())


# ---- (a) TensorFlow imports tensorflux GraphDefs ---------------------------------------------
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_tensorflow_imports_our_frozen_model_and_computes_the_same(model):
    build, x_value = ((interop_models.build_mlp, interop_models.mlp_input()) if model == "mlp"
                      else (interop_models.build_cnn, interop_models.cnn_input()))
    frozen, ours = interop_models.frozen_graph_def(build, x_value)
    assert not any(node.op == "VariableV2" for node in frozen.node)
    theirs = _tf_run(frozen, "probs:0", {"x:0": x_value})
    diff = _max_diff(theirs, ours)
    print(f"{model}: max abs diff TensorFlow vs tensorflux = {diff:.3g}")
    assert diff <= TOL


_SERIAL = {"inter_op_parallelism_threads": 1, "intra_op_parallelism_threads": 1}


def _train_both(var_scope, steps=3):
    """Builds the MLP with a cross-entropy loss and a GradientDescent train op over the
    variables under `var_scope` ("" for all) on /cpu:0, trains it `steps` times in tensorflux,
    then imports the whole unfrozen GraphDef (VariableV2/Assign initializers, gradients,
    ApplyGradientDescent, global step, devices, `_output_shapes`) into TensorFlow and trains
    it there (one thread, so the run is deterministic). Returns (ours, theirs): loss, probs,
    layer1/w, out/w, global_step."""
    x_value = interop_models.mlp_input()
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    fetches = ["loss:0", "probs:0", "layer1/w:0", "out/w:0", "global_step:0"]
    with tf.Graph().as_default() as graph, tf.device("/cpu:0"):
        weights, probs = interop_models.build_mlp()
        y = tf.placeholder(tf.float32, [None, 3], name="y")
        loss = tf.reduce_mean(-tf.reduce_sum(y * tf.log(probs), axis=1), name="loss")
        step = tf.Variable(0, name="global_step", trainable=False)
        var_list = [v for n, v in sorted(weights.items()) if n.startswith(var_scope)]
        tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step,
                                                        var_list=var_list, name="train")
        init = tf.global_variables_initializer()
        feed = {"x:0": x_value, "y:0": labels}
        with tf.Session() as sess:
            sess.run(init)
            for _ in range(steps):
                sess.run("train", feed)
            ours = sess.run(fetches, feed)
        graph_def = graph.as_graph_def(add_shapes=True)
    assert {"VariableV2", "Assign", "ApplyGradientDescent"} <= {n.op for n in graph_def.node}
    assert graph_def.node[0].device.endswith("CPU:0")
    with real_tf.Graph().as_default() as tf_graph:
        tf1.import_graph_def(_to_tf(graph_def), name="")
        with tf1.Session(graph=tf_graph, config=tf1.ConfigProto(**_SERIAL)) as sess:
            sess.run(init.name)
            for _ in range(steps):
                sess.run("train", feed)
            theirs = sess.run(fetches, feed)
    return ours, theirs


def test_tensorflow_imports_our_training_graph_and_trains_it_the_same():
    """Training only the output layer: no update can race with a gradient that reads it."""
    ours, theirs = _train_both("out/")
    diffs = [_max_diff(t, o) for t, o in zip(theirs[:4], ours[:4])]
    print(f"training out/ 3 steps: max abs diffs (loss, probs, layer1/w, out/w) = {diffs}")
    assert max(diffs) <= TOL and diffs[2] == 0.0 and theirs[4] == ours[4] == 3


def test_tensorflow_trains_our_whole_training_graph_the_same():
    ours, theirs = _train_both("")
    diffs = [_max_diff(t, o) for t, o in zip(theirs[:4], ours[:4])]
    print(f"training all 3 steps: max abs diffs (loss, probs, layer1/w, out/w) = {diffs}")
    assert max(diffs) <= TOL and theirs[4] == ours[4] == 3


_PACKAGE_DIR = os.path.dirname(os.path.abspath(tf.__file__))


def _our_op_names():
    """The op types tensorflux registers (not those other test modules register), less the
    internal ones ("_...") TensorFlow has no OpDef for."""
    return sorted(n for n in registry.registered_ops()
                  if registry.get_op_def(n).registered_at.startswith(_PACKAGE_DIR + os.sep)
                  and not (n.startswith("_") and op_def_registry.get(n) is None))


# Known OpDef gaps, each a strict xfail: the test starts failing once the op is fixed, so the
# marker gets removed.
_KNOWN_OP_DEF_GAPS = {}


def _arg_problems(ours, theirs, tf_attrs, what):
    if len(ours) != len(theirs):
        return [f"{what}: {len(ours)} args, TensorFlow has {len(theirs)}"]
    problems = []
    for a, b in zip(ours, theirs):
        fixed_ok = a.type and (a.type == b.type or (
            b.type_attr and tf_attrs[b.type_attr].default_value.type == a.type))
        if not (fixed_ok or (a.type_attr and a.type_attr == b.type_attr)
                or (a.type_list_attr and a.type_list_attr == b.type_list_attr)):
            problems.append(f"{what} {a.name}: type differs from TensorFlow's {b.name}")
        if (a.number_attr != b.number_attr) or (a.is_ref != b.is_ref):
            problems.append(f"{what} {a.name}: list length or ref differs from TensorFlow's")
    return problems


def _op_def_problems(name):
    """Why TensorFlow would refuse, or misread, a node of our op `name` (a list)."""
    theirs = op_def_registry.get(name)
    if theirs is None:
        return [f"TensorFlow 2.21 has no op {name}"]
    ours = registry.get_op_def(name).to_proto()
    tf_attrs = {a.name: a for a in theirs.attr}
    problems = []
    for attr in ours.attr:  # every attr we write must exist in TensorFlow's op, same type
        if attr.name not in tf_attrs:
            problems.append(f"attr {attr.name} is not in TensorFlow's op")
        elif attr.type != tf_attrs[attr.name].type:
            problems.append(f"attr {attr.name} is {attr.type}, TensorFlow's is "
                            f"{tf_attrs[attr.name].type}")
    declared = {a.name for a in ours.attr}
    for attr in theirs.attr:  # attrs TensorFlow requires, we must write
        if not attr.HasField("default_value") and attr.name not in declared:
            problems.append(f"TensorFlow requires attr {attr.name}, which we never write")
    problems += _arg_problems(ours.input_arg, theirs.input_arg, tf_attrs, "input")
    problems += _arg_problems(ours.output_arg, theirs.output_arg, tf_attrs, "output")
    return problems


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=_KNOWN_OP_DEF_GAPS[n]))
    if n in _KNOWN_OP_DEF_GAPS else n for n in _our_op_names()])
def test_every_op_we_register_has_tensorflows_signature(name):
    """Our nodes carry only attrs that TensorFlow's op declares (with the same attr types),
    every attr it requires, and inputs/outputs of the same types, so TensorFlow accepts them."""
    assert _op_def_problems(name) == []


def test_op_type_lists_match_tensorflow_where_known():
    """dtypes our ops accept that TensorFlow's op of the same name refuses (a node of such a
    type only runs in tensorflux). Pinned so that new ones are noticed."""
    known = {"Add": {"uint16", "uint32", "uint64"},
             "MatrixDeterminant": {"bfloat16"}, "MatrixInverse": {"bfloat16"},
             "LRN": {"float64"}, "LRNGrad": {"float64"}, "MaxPool": {"uint32", "uint64"},
             # float64 so the op harness can check its gradient numerically
             "AdjustContrastv2": {"float64"},
             # TF 1.x's UNARY ops took int32/int64; TF 2.21 dropped them for these four
             "Asin": {"int32", "int64"}, "Acos": {"int32", "int64"},
             "Atan": {"int32", "int64"}, "Tan": {"int32", "int64"},
             # TF 0.9's Batch* names run the TF 1.0 op, with its types (TF 2.21 froze 0.9's)
             "BatchCholesky": {"complex64", "complex128"},
             "BatchMatrixDeterminant": {"bfloat16", "float16"},
             "BatchMatrixInverse": {"bfloat16", "float16", "complex64", "complex128"},
             "BatchMatrixSolve": {"complex64", "complex128"},
             "BatchMatrixSolveLs": {"complex64", "complex128"},
             "BatchMatrixTriangularSolve": {"complex64", "complex128"},
             "BatchSelfAdjointEigV2": {"complex64", "complex128"}}
    extra = {}
    for name in _our_op_names():
        theirs = op_def_registry.get(name)
        if theirs is None:
            continue
        tf_attrs = {a.name: a for a in theirs.attr}
        for attr in registry.get_op_def(name).to_proto().attr:
            tf_attr = tf_attrs.get(attr.name)
            if attr.type != "type" or tf_attr is None or not tf_attr.HasField("allowed_values"):
                continue
            more = set(attr.allowed_values.list.type) - set(tf_attr.allowed_values.list.type)
            if more:
                extra.setdefault(name, set()).update(dtypes.as_dtype(t).name for t in more)
    assert extra == known


# ---- (b) tensorflux imports TensorFlow GraphDefs, made now -----------------------------------
def _make_tf_graphs(out_dir):
    sys.path.insert(0, DATA)
    try:
        import make_tf_graphs
    finally:
        sys.path.remove(DATA)
    make_tf_graphs.make_cnn(str(out_dir))
    make_tf_graphs.make_mlp_with_variables(str(out_dir))


def test_we_import_tensorflow_graphs_made_now(tmp_path):
    _make_tf_graphs(tmp_path)
    with np.load(tmp_path / "tf_cnn.npz", allow_pickle=False) as data:
        graph_def = protos.GraphDef.FromString((tmp_path / "tf_cnn_frozen.pb").read_bytes())
        with tf.Graph().as_default():
            tf.import_graph_def(graph_def, name="")
            with tf.Session() as sess:
                got = sess.run("probs:0", {"x:0": data["x"]})
        cnn_diff = _max_diff(got, data["probs"])
    with np.load(tmp_path / "tf_mlp_vars.npz", allow_pickle=False) as data:
        graph_def = protos.GraphDef.FromString((tmp_path / "tf_mlp_vars.pb").read_bytes())
        with tf.Graph().as_default():
            tf.import_graph_def(graph_def, name="")
            with tf.Session() as sess:
                sess.run("init")
                got = sess.run("probs:0", {"x:0": data["x"]})
        mlp_diff = _max_diff(got, data["probs"])
    print(f"TensorFlow CNN: max abs diff {cnn_diff:.3g}; TF MLP with variables: {mlp_diff:.3g}")
    assert cnn_diff <= TOL and mlp_diff <= TOL


def test_committed_tensorflow_goldens_are_what_tensorflow_makes(tmp_path):
    """The golden .pb files are reproducible: TensorFlow writes the same GraphDefs again (as
    protos: the order of map entries such as attrs is not fixed on the wire)."""
    _make_tf_graphs(tmp_path)
    for name in ("tf_cnn_frozen.pb", "tf_mlp_vars.pb"):
        again = tf1.GraphDef.FromString((tmp_path / name).read_bytes())
        assert again == tf1.GraphDef.FromString(_read(os.path.join(DATA, name)))


# ---- (c) the goldens of tests/data, and checkpoints both ways -----------------------------------
def _same_events(path_a, path_b):
    """The events of two files, equal but for wall times."""
    events = []
    for path in (path_a, path_b):
        events.append([tf1.Event.FromString(r) for r in real_tf.compat.v1.io.tf_record_iterator(
            str(path))])
    assert len(events[0]) == len(events[1])
    for a, b in zip(*events):
        a.wall_time = b.wall_time = 0.0
        assert a == b


def test_committed_goldens_are_what_tensorflow_writes(tmp_path):
    """tests/data/make_tf_goldens.py run again today writes the committed files byte for byte
    (event files: but for wall times)."""
    make = tf_goldens.make
    checkpoints = tmp_path / "checkpoints"
    make.write_golden_checkpoint(str(checkpoints / "golden"))
    make.write_slice_keys_checkpoint(str(checkpoints / "slice_keys"))
    make.write_tf_saver(str(checkpoints / "tf_saver"))
    make.write_tf_partitioned(str(checkpoints / "tf_partitioned"))
    make.write_tf_records(str(tmp_path / "tfrecord"))
    make.write_tf_events(str(tmp_path))
    files = ["golden.index", "golden.data-00000-of-00001", "slice_keys.index",
             "slice_keys.data-00000-of-00001"]
    files = [f"checkpoints/{name}" for name in files] + [
        f"checkpoints/{d}/{name}" for d in ("tf_saver", "tf_partitioned")
        for name in ("checkpoint", "model-1.index", "model-1.data-00000-of-00001")]
    for name in files + ["tfrecord/tf_records.tfrecord"]:
        assert (tmp_path / name).read_bytes() == tf_goldens.read(name), name
    _same_events(tmp_path / make.EVENTS_NAME,
                 tf_goldens.path("summary", "tf_events", make.EVENTS_NAME))


def test_tensorflow_reads_our_checkpoints_bit_exactly(tmp_path):
    """What tensorflux's BundleWriter writes (the golden tensors, and slices at the OrderedCode
    edges), TensorFlow's reader and RestoreV2 read back bit for bit."""
    from tensorflux.lib.io import tensor_bundle
    from tensorflux.ops import io_ops
    tensors, slices, part = tf_goldens.make.golden_tensors()
    writer = tensor_bundle.BundleWriter(str(tmp_path / "golden"))
    for name, value in tensors.items():
        writer.add(name, value)
    cases = tf_goldens.make.slice_key_cases()
    for name, spec, value in slices + [(n, spec, tf_goldens.make.slice_value(shape))
                                       for n, spec, shape in cases]:
        full_shape, tensor_slice = io_ops.parse_shape_and_slice(spec)
        writer.add_slice(name, full_shape, tensor_slice, value)
    prefix = writer.finish()
    reader = real_tf.train.load_checkpoint(prefix)
    for name, want in list(tensors.items()) + [("part", part)]:
        got = reader.get_tensor(name)
        if want.dtype == object:
            assert list(np.asarray(got).reshape(-1)) == list(want.reshape(-1)), name
        else:
            assert got.dtype == want.dtype and got.shape == want.shape, name
            assert got.tobytes() == want.tobytes(), name
    restored = real_tf.raw_ops.RestoreV2(
        prefix=prefix, tensor_names=[n for n, _, _ in cases],
        shape_and_slices=[spec for _, spec, _ in cases], dtypes=[real_tf.float32] * len(cases))
    for (name, _, shape), got in zip(cases, restored):
        assert got.numpy().tobytes() == tf_goldens.make.slice_value(shape).tobytes(), name


@pytest.mark.parametrize("tf_parts", [2, 3])
def test_tensorflow_restores_our_partitioned_checkpoint(tmp_path, tf_parts):
    """tensorflux saves variables split by fixed_size_partitioner(2); TensorFlow restores them
    into variables split in `tf_parts`."""
    values = tf_goldens.make.partitioned_values()
    with tf.Graph().as_default():
        variables = {name: tf.get_variable(
            name, full.shape, tf.as_dtype(full.dtype), initializer=tf.zeros_initializer(),
            **({"partitioner": tf.fixed_size_partitioner(parts)} if parts else {}))
            for name, (full, parts) in values.items()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for name, (full, _) in values.items():
                sess.run(variables[name].assign(full))
            path = saver_mod.Saver().save(sess, str(tmp_path / "model"), global_step=1,
                                          write_meta_graph=False)
    with real_tf.Graph().as_default() as graph:
        theirs = {name: tf1.get_variable(
            name, full.shape, real_tf.as_dtype(full.dtype), use_resource=False,
            partitioner=tf1.fixed_size_partitioner(tf_parts) if parts else None)
            for name, (full, parts) in values.items()}
        with tf1.Session(graph=graph) as sess:
            tf1.train.Saver().restore(sess, path)
            for name, (full, _) in values.items():
                got = sess.run(real_tf.convert_to_tensor(theirs[name]))
                assert got.dtype == full.dtype and got.tobytes() == full.tobytes(), name


# ---- (d) meta graphs ----------------------------------------------------------------------------
def test_tensorflow_imports_our_meta_graph_and_restores_our_checkpoint(tmp_path):
    x_value = interop_models.mlp_input()
    with tf.Graph().as_default():
        weights, probs = interop_models.build_mlp()
        tf.add_to_collection("outputs", probs)
        loss = tf.reduce_mean(probs, name="loss")
        step = tf.Variable(0, name="global_step", trainable=False)
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step, name="train")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run("train", {"x:0": x_value})
            ours = sess.run(probs, {"x:0": x_value})
            path = saver_mod.Saver().save(sess, str(tmp_path / "model"), global_step=1)
            trained_w = sess.run(weights["layer1/w"])
    with real_tf.Graph().as_default() as graph:
        saver = tf1.train.import_meta_graph(path + ".meta")
        assert saver is not None and saver.saver_def.restore_op_name == "save/restore_all"
        with tf1.Session(graph=graph) as sess:
            saver.restore(sess, path)
            theirs = sess.run(tf1.get_collection("outputs")[0], {"x:0": x_value})
            assert sess.run("layer1/w:0").tobytes() == trained_w.tobytes()
            assert sess.run("global_step:0") == 1
            names = sorted(v.op.name for v in tf1.global_variables())
            trainable = sorted(v.op.name for v in tf1.trainable_variables())
            sess.run("train", {"x:0": x_value})  # our gradient graph runs in TensorFlow too
            assert sess.run("global_step:0") == 2
            resaved = saver.save(sess, str(tmp_path / "tf_model"), global_step=2)
    assert names == sorted(list(weights) + ["global_step"]) and trainable == sorted(weights)
    assert _max_diff(theirs, ours) <= TOL
    with tf.Graph().as_default():  # and what TensorFlow saved through our saver_def, we restore
        restored = saver_mod.import_meta_graph(resaved + ".meta")
        with tf.Session() as sess:
            restored.restore(sess, resaved)
            assert sess.run("global_step:0") == 2


def test_tensorflow_runs_our_while_loop():
    with tf.Graph().as_default() as ours:
        x = tf.placeholder(tf.float32, [], name="x")
        _, total = tf.while_loop(lambda i, acc: i < 5, lambda i, acc: (i + 1, acc * x + 1.0),
                                 [tf.constant(0), tf.constant(1.0)])
        tf.identity(total, name="total")
        with tf.Session(graph=ours) as sess:
            want = sess.run("total:0", {"x:0": 1.5})
    graph = real_tf.Graph()
    with graph.as_default():
        tf1.import_graph_def(tf1.GraphDef.FromString(ours.as_graph_def().SerializeToString()),
                             name="")
        with tf1.Session(graph=graph) as sess:
            assert sess.run("total:0", {"x:0": 1.5}) == want
