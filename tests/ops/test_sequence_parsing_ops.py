"""Harness entries for ParseSingleSequenceExample and DecodeJSONExample; SequenceExample
semantics (context, feature lists, allow_missing, errors), checked against TensorFlow when it
is installed."""
import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, run_in_session as _run
from tensorflux.framework import example_protos as ep

F = ep.Feature


def _ints(values):
    return F(int64_list=ep.Int64List(value=values))


def _floats(values):
    return F(float_list=ep.FloatList(value=values))


def _sequence(rng):
    """A SequenceExample: context 'len' (int), 'tags' (bytes); feature lists 'tok' (2 ints a
    step) and 'w' (1, 0 and 2 floats in its 3 steps); random values, fixed sizes."""
    steps = 3
    tok = rng.integers(0, 9, size=(steps, 2))
    weights = [list(rng.uniform(size=n)) for n in (1, 0, 2)]
    return ep.SequenceExample(
        context=ep.Features(feature={"len": _ints([steps]),
                                     "tags": F(bytes_list=ep.BytesList(value=[b"x", b"yz"]))}),
        feature_lists=ep.FeatureLists(feature_list={
            "tok": ep.FeatureList(feature=[_ints(list(t)) for t in tok]),
            "w": ep.FeatureList(feature=[_floats(w) for w in weights])}))


def _serialized(rng, shape, dtype):
    return np.array(_sequence(rng).SerializeToString(), dtype=object)


_serialized.dtype = tf.string
CONTEXT = {"len": tf.FixedLenFeature([], tf.int64), "tags": tf.VarLenFeature(tf.string),
           "missing": tf.FixedLenFeature([2], tf.float32, default_value=[5.0, 6.0])}
SEQUENCE = {"tok": tf.FixedLenSequenceFeature([2], tf.int64), "w": tf.VarLenFeature(tf.float32),
            "none": tf.FixedLenSequenceFeature([3], tf.float32, allow_missing=True)}


def _parse(serialized):
    context, sequence = tf.parse_single_sequence_example(serialized, CONTEXT, SEQUENCE)
    tags, w = context["tags"], sequence["w"]
    # Reshaped to the sizes the generator makes: the harness wants fully known static shapes.
    return [tf.reshape(tags.indices, [2, 1]), tf.reshape(tags.values, [2]), tags.dense_shape,
            context["len"], context["missing"], tf.reshape(w.indices, [3, 2]),
            tf.reshape(w.values, [3]), w.dense_shape, tf.reshape(sequence["none"], [0, 3]),
            tf.reshape(sequence["tok"], [3, 2])]


def _ref_parse(serialized):
    seq = ep.SequenceExample.FromString(serialized.item())
    lists = seq.feature_lists.feature_list
    w = [list(f.float_list.value) for f in lists["w"].feature]
    w_idx = [[t, j] for t, vs in enumerate(w) for j in range(len(vs))]
    tok = np.array([list(f.int64_list.value) for f in lists["tok"].feature], np.int64)
    return [np.array([[0], [1]], np.int64), np.array([b"x", b"yz"], object),
            np.array([2], np.int64), np.int64(seq.context.feature["len"].int64_list.value[0]),
            np.array([5.0, 6.0], np.float32), np.array(w_idx, np.int64).reshape(-1, 2),
            np.array([v for vs in w for v in vs], np.float32),
            np.array([len(w), max(map(len, w))], np.int64), np.zeros((0, 3), np.float32), tok]


def _json(rng, shape, dtype):
    return np.array([b'{"features": {"feature": {"a": {"int64List": {"value": ["%d"]}}}}}'
                     % k for k in rng.integers(0, 99, size=shape)], dtype=object)


_json.dtype = tf.string


def _ref_json(texts):
    out = np.empty(texts.shape, object)
    for i, text in enumerate(texts):
        value = int(text.decode().split('"value": ["')[1].split('"')[0])
        out[i] = ep.Example(features=ep.Features(feature={"a": _ints([value])})) \
            .SerializeToString()
    return out


SPECS = [
    OpSpec("ParseSingleSequenceExample", _parse, _ref_parse, [((),)], dtypes=[tf.string],
           inputs=_serialized, grad=()),
    OpSpec("DecodeJSONExample", tf.decode_json_example, _ref_json, [((3,),)],
           dtypes=[tf.string], inputs=_json, grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def _example(rng=None):
    return _sequence(rng or np.random.default_rng(0)).SerializeToString()


def test_missing_feature_list_without_allow_missing_is_an_error():
    _, sequence = tf.parse_single_sequence_example(
        _example(), sequence_features={"gone": tf.FixedLenSequenceFeature([], tf.int64)},
        example_name="ex7")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="^Name: ex7, Feature list 'gone' is required but could not be "
                             "found"):
        _run(sequence["gone"])


def test_wrong_step_size_and_type_are_errors():
    _, too_wide = tf.parse_single_sequence_example(
        _example(), sequence_features={"tok": tf.FixedLenSequenceFeature([3], tf.int64)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Number of int64 values"):
        _run(too_wide["tok"])
    _, wrong = tf.parse_single_sequence_example(
        _example(), sequence_features={"tok": tf.FixedLenSequenceFeature([2], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Data types don't match"):
        _run(wrong["tok"])
    with pytest.raises(ValueError, match="Missing features"):
        tf.parse_single_sequence_example(_example())


def test_decode_json_example_then_parse_and_bad_json():
    text = '{"features": {"feature": {"x": {"floatList": {"value": [1.5, 2]}}}}}'
    parsed = tf.parse_single_example(tf.decode_json_example(text),
                                     {"x": tf.FixedLenFeature([2], tf.float32)})
    np.testing.assert_array_equal(_run(parsed["x"]), [1.5, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Error while parsing JSON"):
        _run(tf.decode_json_example(["{not json"]))


@pytest.mark.tensorflow
def test_same_results_as_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    serialized = _example(np.random.default_rng(3))
    graph = tf1.Graph()
    with graph.as_default():
        context, sequence = tf1.io.parse_single_sequence_example(
            serialized,
            {"len": tf1.io.FixedLenFeature([], tf1.int64),
             "tags": tf1.io.VarLenFeature(tf1.string)},
            {"tok": tf1.io.FixedLenSequenceFeature([2], tf1.int64),
             "w": tf1.io.VarLenFeature(tf1.float32)})
        with tf1.Session(graph=graph) as sess:
            want = sess.run([context["len"], context["tags"], sequence["tok"], sequence["w"]])
    got = _run(_parse(serialized))
    assert got[3] == want[0]
    np.testing.assert_array_equal(got[0], want[1].indices)
    np.testing.assert_array_equal(got[1], want[1].values)
    np.testing.assert_array_equal(got[9], want[2])
    np.testing.assert_array_equal(got[5], want[3].indices)
    np.testing.assert_allclose(got[6], want[3].values)
    np.testing.assert_array_equal(got[7], want[3].dense_shape)


def test_attr_counts_that_disagree_are_a_build_error():
    """Found by the op fuzzer: shapes and counts that disagree made the shape function return
    more shapes than the op has outputs (a RuntimeError)."""
    from tensorflux.framework.op_def_library import apply_op
    with pytest.raises(ValueError, match=r"len\(context_dense_shapes\) != Ncontext_dense: 2 vs"):
        apply_op("ParseSingleSequenceExample", tf.constant(b""), tf.constant([], tf.string),
                 [], [], [], [], [], tf.constant(b""),
                 context_dense_shapes=[[1], [2]], Tcontext_dense=[])
