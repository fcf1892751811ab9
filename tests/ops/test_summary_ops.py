"""Summary ops: harness entries that parse the Summary protos, and the 0.9 / 1.0 wrappers."""
import io
import itertools
import wave

import numpy as np
import pytest

import tensorflux as tf
from op_harness import OpSpec, run_spec, uniform
from tensorflux import summary as tf_summary
from tensorflux.framework import protos
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib import png
from tensorflux.ops import summary_ops

_COUNTER = itertools.count()


def _tags(rng, shape, dtype):
    return np.array([f"tag{next(_COUNTER)}".encode() for _ in range(int(np.prod(shape)))],
                    dtype=object).reshape(shape)


_tags.dtype = tf.string


def _serialized_summaries(rng, shape, dtype):
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        value = protos.Summary.Value(tag=f"m{next(_COUNTER)}", simple_value=rng.random())
        out[index] = protos.Summary(value=[value]).SerializeToString()
    return out


_serialized_summaries.dtype = tf.string


def _parse(data):
    summary = protos.Summary()
    if not isinstance(data, bytes):  # np.asarray(bytes) would strip trailing NULs
        data = np.asarray(data, dtype=object).item()
    summary.ParseFromString(data)
    return summary


def _as_bytes(summary):
    return np.array(summary.SerializeToString(), dtype=object)


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


# ---- references --------------------------------------------------------------------------------
def _scalar_ref(tags, values):
    return _as_bytes(protos.Summary(value=[
        protos.Summary.Value(tag=t.decode(), simple_value=float(v))
        for t, v in zip(tags.ravel(), values.ravel())]))


def _histogram_ref(tag, values):
    return _as_bytes(protos.Summary(value=[protos.Summary.Value(
        tag=tag.item().decode(), histo=summary_ops.histogram_proto(values))]))


def _check_histogram(spec):
    values = np.array([-3.0, -1e-13, 0.0, 0.0, 1.0, 1.05, 2.5, 1e3])
    histo = _parse(_run(summary_ops.histogram_summary("h", tf.constant(values)))).value[0].histo
    assert (histo.min, histo.max, histo.num) == (-3.0, 1e3, 8)
    assert histo.sum == pytest.approx(values.sum())
    assert histo.sum_squares == pytest.approx(np.dot(values, values))
    assert sum(histo.bucket) == 8
    limits = list(histo.bucket_limit)
    assert limits == sorted(limits)
    counts = dict(zip(limits, histo.bucket))
    for v in values:  # each value sits in the first bucket whose right edge is above it
        edge = min(limit for limit in summary_ops.BUCKET_LIMITS if limit > v)
        assert counts.get(edge, 0) >= 1, (v, edge)
    edges = summary_ops.BUCKET_LIMITS
    assert edges[len(edges) // 2] == 0.0 and edges[len(edges) // 2 + 1] == 1e-12
    np.testing.assert_allclose(edges[len(edges) // 2 + 2] / edges[len(edges) // 2 + 1], 1.1)


def _image_ref(tag, images):
    summary = protos.Summary()
    for i, image in enumerate(images[:3]):
        pixels = summary_ops.image_to_uint8(image, np.array([255, 0, 0, 255], np.uint8))
        summary.value.add(tag=f"{tag.item().decode()}/image/{i}", image=protos.Summary.Image(
            height=image.shape[0], width=image.shape[1], colorspace=image.shape[2],
            encoded_image_string=png.encode(pixels)))
    return _as_bytes(summary)


def _check_image(spec):
    images = np.array([[[[0.0], [0.5], [1.0]]], [[[-1.0], [0.0], [1.0]]],
                       [[[np.nan], [0.25], [0.5]]]])
    summary = _parse(_run(summary_ops.image_summary("img", tf.constant(images, tf.float32),
                                                    max_images=2)))
    assert [v.tag for v in summary.value] == ["img/image/0", "img/image/1"]
    first, second = (png.decode(v.image.encoded_image_string)[0, :, 0] for v in summary.value)
    # TensorFlow 2.21's pixels for these images (scaled, then truncated)
    assert first.tolist() == [0, 127, 255]  # non-negative: largest value -> 255
    assert second.tolist() == [1, 128, 255]  # signed: 0 -> 128, largest magnitude -> 1 or 255
    assert (summary.value[0].image.height, summary.value[0].image.width) == (1, 3)
    one = _parse(_run(summary_ops.image_summary("x", tf.constant(images[2:], tf.float32),
                                                max_images=1)))
    assert one.value[0].tag == "x/image"
    assert png.decode(one.value[0].image.encoded_image_string)[0, :, 0].tolist() == [255, 127,
                                                                                      255]
    rgb = _parse(_run(summary_ops.image_summary("c", tf.constant(np.full((1, 2, 2, 3), 7,
                                                                         np.uint8)))))
    assert png.decode(rgb.value[0].image.encoded_image_string).tolist() == [[[7] * 3] * 2] * 2


def _audio_ref(sample_rate, v2=False):
    def ref(tag, clips, *rest):
        summary = protos.Summary()
        for i, clip in enumerate(clips[:3]):
            clip = clip[:, None] if clip.ndim == 1 else clip
            summary.value.add(tag=f"{tag.item().decode()}/audio/{i}", audio=protos.Summary.Audio(
                sample_rate=sample_rate, num_channels=clip.shape[1],
                length_frames=clip.shape[0],
                encoded_audio_string=summary_ops.wav_bytes(clip, sample_rate),
                content_type="audio/wav"))
        return _as_bytes(summary)
    return ref


def _check_audio(spec):
    clip = np.array([[[0.0, 1.0], [0.5, -2.0], [-0.5, 0.25]]])
    summary = _parse(_run(tf_summary.audio("snd", tf.constant(clip, tf.float32), 16000,
                                           max_outputs=1)))
    audio = summary.value[0].audio
    assert summary.value[0].tag == "snd/audio"
    assert (audio.sample_rate, audio.num_channels, audio.length_frames) == (16000, 2, 3)
    with wave.open(io.BytesIO(audio.encoded_audio_string)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 2, 2)
        samples = np.frombuffer(wav.readframes(3), "<i2").reshape(3, 2)
    # TensorFlow 2.21's EncodeWav: x * 32768 rounded, clamped to int16 (1.0 -> 32767, -2 -> -32768)
    np.testing.assert_array_equal(samples, [[0, 32767], [16384, -32768], [-16384, 8192]])


_TEXT_METADATA = summary_ops.plugin_metadata("text").SerializeToString()


def _tensor_summary(tag, tensor):
    return apply_op("TensorSummaryV2", tag, tensor, tf.constant(_TEXT_METADATA))


def _tensor_summary_ref(tag, tensor):
    value = protos.Summary.Value(tag=tag.item().decode())
    value.metadata.ParseFromString(_TEXT_METADATA)
    value.tensor.CopyFrom(tensor_util.make_tensor_proto(tensor))
    return _as_bytes(protos.Summary(value=[value]))


def _check_text(spec):
    summary = _parse(_run(tf_summary.text("notes", tf.constant(["# hi", "there"]))))
    value = summary.value[0]
    assert value.tag == "notes" and value.metadata.plugin_data.plugin_name == "text"
    assert tensor_util.MakeNdarray(value.tensor).tolist() == [b"# hi", b"there"]


def _merge_ref(*inputs):
    merged = protos.Summary()
    for array in inputs:
        for data in array.ravel():
            merged.MergeFromString(data)
    return _as_bytes(merged)


SPECS = [
    OpSpec("ScalarSummary", summary_ops.scalar_summary, _scalar_ref,
           [((), ()), ((3,), (3,)), ((2, 2), (2, 2))],
           dtypes=[tf.float32, tf.float64, tf.int32, tf.float16, tf.bfloat16],
           inputs=[_tags, uniform]),
    OpSpec("HistogramSummary", summary_ops.histogram_summary, _histogram_ref,
           [((), (3, 4)), ((), ())], dtypes=[tf.float32, tf.int64, tf.float16, tf.bfloat16],
           inputs=[_tags, uniform],
           check=_check_histogram),
    OpSpec("ImageSummary", summary_ops.image_summary, _image_ref, [((), (4, 3, 5, 3)),
                                                                   ((), (1, 2, 2, 1))],
           dtypes=[tf.float32, tf.uint8, tf.float64], inputs=[_tags, uniform],
           check=_check_image),
    # TensorFlow scales a float16 image in float16 arithmetic (a pixel can differ by one from
    # the float32 answer), so its reference takes back the float16 values the harness widened
    OpSpec("ImageSummary", summary_ops.image_summary,
           lambda tag, images: _image_ref(tag, images.astype(np.float16)),
           [((), (4, 3, 5, 3))], dtypes=[tf.float16], inputs=[_tags, uniform]),
    OpSpec("AudioSummary", lambda tag, x: summary_ops.audio_summary(tag, x, 8000.0),
           _audio_ref(8000.0), [((), (2, 50, 2)), ((), (4, 10))], dtypes=[tf.float32],
           inputs=[_tags, uniform]),
    OpSpec("AudioSummaryV2",
           lambda tag, x: apply_op("AudioSummaryV2", tag, x, tf.constant(22050.0)),
           _audio_ref(22050.0), [((), (1, 30, 1))], dtypes=[tf.float32],
           inputs=[_tags, uniform], check=_check_audio),
    OpSpec("TensorSummaryV2", _tensor_summary, _tensor_summary_ref, [((), (2, 3)), ((), ())],
           dtypes=[tf.float32, tf.int32], inputs=[_tags, uniform], check=_check_text),
    OpSpec("MergeSummary", lambda a, b: summary_ops.merge_summary([a, b]), _merge_ref,
           [((), ()), ((3,), ())], dtypes=[tf.string], inputs=_serialized_summaries),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- wrappers and behaviour ------------------------------------------------------------------
def test_summaries_join_the_summaries_collection_and_merge_all():
    assert summary_ops.merge_all_summaries() is None
    assert tf_summary.merge_all() is None
    a = summary_ops.scalar_summary("a", tf.constant(1.0))
    b = tf_summary.scalar("b", tf.constant(2.0))
    c = summary_ops.scalar_summary("c", tf.constant(3.0), collections=["mine"])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b]
    assert tf.get_collection("mine") == [c]
    merged = tf_summary.merge_all()
    assert merged not in tf.get_collection(tf.GraphKeys.SUMMARIES)
    assert [v.tag for v in _parse(_run(merged)).value] == ["a", "b"]
    assert [v.tag for v in _parse(_run(tf_summary.merge_all("mine"))).value] == ["c"]


def test_one_zero_tags_follow_name_scopes():
    with tf.name_scope("layer1"):
        first = tf_summary.scalar("loss", tf.constant(1.0))
        second = tf_summary.scalar("loss", tf.constant(2.0))
    weird = tf_summary.histogram("bad name:%", tf.constant([1.0]))
    assert first.op.name == "layer1/loss" and second.op.name == "layer1/loss_1"
    assert _parse(_run(first)).value[0].tag == "layer1/loss"
    assert _parse(_run(second)).value[0].tag == "layer1/loss_1"
    assert _parse(_run(weird)).value[0].tag == "bad_name__"


def test_zero_nine_argument_orders():
    s = summary_ops.scalar_summary(["x", "y"], tf.constant([1.0, 2.0]), name="pair")
    assert s.op.name == "pair" and s.op.type == "ScalarSummary"
    assert [(v.tag, v.simple_value) for v in _parse(_run(s)).value] == [("x", 1.0), ("y", 2.0)]
    image = summary_ops.image_summary("im", tf.zeros([5, 2, 2, 1]), 2)
    assert image.op.get_attr("max_images") == 2
    audio = summary_ops.audio_summary("au", tf.zeros([1, 4]), 100)
    assert audio.op.get_attr("sample_rate") == 100.0


def test_scalar_summary_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        summary_ops.scalar_summary(["a", "b"], tf.constant([1.0, 2.0, 3.0]))
    tags = tf.placeholder(tf.string)
    s = summary_ops.scalar_summary(tags, tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not the same shape"):
        _run(s, {tags: np.array([b"a"], dtype=object)})


def test_histogram_of_nan_is_an_error():
    x = tf.placeholder(tf.float32)
    h = summary_ops.histogram_summary("weights", x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram for: "
                                                             "weights"):
        _run(h, {x: np.array([1.0, np.nan], np.float32)})


def test_merge_rejects_duplicate_tags_and_garbage():
    a = summary_ops.scalar_summary("same", tf.constant(1.0))
    b = summary_ops.scalar_summary("same", tf.constant(2.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag same"):
        _run(summary_ops.merge_summary([a, b]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
        _run(summary_ops.merge_summary([tf.constant(b"\xff\xff\xff")]))


def test_image_summary_checks_rank_and_channels():
    with pytest.raises(ValueError, match="4-D"):
        summary_ops.image_summary("i", tf.zeros([2, 2, 3]))
    x = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="last dim 1, 3, or 4"):
        _run(summary_ops.image_summary("i", x), {x: np.zeros((1, 2, 2, 2), np.float32)})


def test_text_requires_strings():
    with pytest.raises(ValueError, match="string tensor"):
        tf_summary.text("t", tf.constant(1.0))
