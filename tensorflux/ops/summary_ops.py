"""Summary ops: each produces a serialized `Summary` proto (a string scalar) for TensorBoard.

ScalarSummary, HistogramSummary, ImageSummary (PNG), AudioSummary / AudioSummaryV2 (WAV),
TensorSummaryV2 (tensors with plugin metadata, e.g. text) and MergeSummary. The TF 0.9 wrappers
(`scalar_summary`, ...) are in `__all__`; the TF 1.0 ones (`scalar`, `histogram`, ...) are
re-exported by `tensorflux.summary`. Every summary op is added to `GraphKeys.SUMMARIES` unless
`collections=` says otherwise.
"""
import io
import re
import wave

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import registry
from tensorflux.framework import tensor_shape
from tensorflux.framework import tensor_util
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib import png
from tensorflux.ops import common

__all__ = [
    "scalar_summary",
    "histogram_summary",
    "image_summary",
    "audio_summary",
    "merge_summary",
    "merge_all_summaries",
]

_IMAGE_TYPES = frozenset({dtypes.uint8, dtypes.float16, dtypes.float32, dtypes.float64})


def _string_scalar(data):
    return np.array(data, dtype=object)


def _tag_of(tag, op):
    value = np.asarray(tag)
    if value.shape != ():
        raise errors.InvalidArgumentError(None, op, f"{op.type} op '{op.name}': tag must be a "
                                          f"scalar string, got shape {list(value.shape)}")
    tag = value.item()
    return tag.decode("utf-8", "replace") if isinstance(tag, bytes) else str(tag)


def _scalar_tag_shape(op, what="tag"):
    shape = op.inputs[0].get_shape()
    if shape.ndims not in (None, 0):
        raise ValueError(f"{what} must be a scalar string, got shape {shape}")
    return tensor_shape.scalar()


def _summary_op(name, inputs, attrs=None, shape_fn=_scalar_tag_shape):
    """Registers a not-differentiable summary op with a string scalar output and shape_fn."""
    op_def = registry.register_op(name, inputs=inputs, outputs=["summary: string"],
                                  attrs=attrs or {})
    op_def.shape(shape_fn)
    op_def.not_differentiable()
    return op_def


# ---- ScalarSummary ---------------------------------------------------------------------------
def _scalar_summary_shape(op):
    tags, values = op.inputs[0].get_shape(), op.inputs[1].get_shape()
    if not tags.is_compatible_with(values):
        raise ValueError(f"tags and values must have the same shape, got tags {tags} and "
                         f"values {values}")
    return tensor_shape.scalar()


ScalarSummary = _summary_op("ScalarSummary", ["tags: string", "values: T"],
                            {"T": common.REALS}, _scalar_summary_shape)


@ScalarSummary.kernel("CPU")
def _scalar_summary_kernel(ctx, tags, values):
    tags, values = np.asarray(tags), np.asarray(values)
    if tags.shape != values.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"tags and values not the same shape: {list(tags.shape)} != "
                          f"{list(values.shape)} (tags '{ctx.op.inputs[0].name}')")
    summary = protos.Summary()
    for tag, value in zip(tags.ravel(), values.ravel()):
        tag = tag.decode("utf-8", "replace") if isinstance(tag, bytes) else str(tag)
        summary.value.add(tag=tag, simple_value=float(value))
    return _string_scalar(summary.SerializeToString())


# ---- HistogramSummary ------------------------------------------------------------------------
def _default_bucket_limits():
    """Right edges: -DBL_MAX, then -1e20 .. -1e-12 and 0 and 1e-12 .. 1e20 in steps of x1.1,
    then DBL_MAX (TensorFlow's default histogram buckets)."""
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    positive.append(np.finfo(np.float64).max)
    positive = np.array(positive)
    return np.concatenate([-positive[::-1], [0.0], positive])


BUCKET_LIMITS = _default_bucket_limits()


def histogram_proto(values):
    """A HistogramProto of `values` (any real array) over TensorFlow's default buckets.

    A value v is counted in the first bucket whose right edge is > v. Runs of empty buckets are
    written as one empty bucket ending at the run's last edge.
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    counts = np.bincount(np.searchsorted(BUCKET_LIMITS, flat, side="right"),
                         minlength=len(BUCKET_LIMITS))[:len(BUCKET_LIMITS)]
    nonzero = counts > 0
    keep = nonzero.copy()
    keep[:-1] |= nonzero[1:]
    keep[-1] = True
    big = float(np.finfo(np.float64).max)
    return protos.HistogramProto(
        min=float(flat.min()) if flat.size else big, max=float(flat.max()) if flat.size else -big,
        num=float(flat.size), sum=_sequential_sum(flat), sum_squares=_sequential_sum(flat * flat),
        bucket_limit=BUCKET_LIMITS[keep].tolist(), bucket=counts[keep].astype(float).tolist())


def _sequential_sum(flat):
    """The sum added up in order, as TensorFlow's histogram does (NumPy's pairwise sum differs
    in the last bits, and the golden event files compare bytes)."""
    return float(np.add.accumulate(flat)[-1]) if flat.size else 0.0


HistogramSummary = _summary_op("HistogramSummary", ["tag: string", "values: T"],
                               {"T": registry.Attr("type", dtypes.float32,
                                                   sorted(common.REALS, key=lambda d: d.name))})


@HistogramSummary.kernel("CPU")
def _histogram_summary_kernel(ctx, tag, values):
    tag = _tag_of(tag, ctx.op)
    values = np.asarray(values).astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Nan in summary histogram for: {tag} (input "
                          f"'{ctx.op.inputs[1].name}' has non-finite values)")
    summary = protos.Summary()
    summary.value.add(tag=tag, histo=histogram_proto(values))
    return _string_scalar(summary.SerializeToString())


# ---- ImageSummary --------------------------------------------------------------------------
def _batch_summary_shape(ranks, what):
    def shape_fn(op):
        _scalar_tag_shape(op)
        shape = op.inputs[1].get_shape()
        if shape.ndims is not None and shape.ndims not in ranks:
            raise ValueError(f"{what} must be {' or '.join(map(str, ranks))}-D, got shape "
                             f"{shape}")
        return tensor_shape.scalar()
    return shape_fn


ImageSummary = _summary_op(
    "ImageSummary", ["tag: string", "tensor: T"],
    {"T": registry.Attr("type", dtypes.float32, sorted(_IMAGE_TYPES, key=lambda d: d.name)),
     "max_images": 3,
     "bad_color": registry.Attr("tensor", np.array([255, 0, 0, 255], np.uint8))},
    _batch_summary_shape((4,), "images tensor [batch, height, width, channels]"))


def image_to_uint8(image, bad_color):
    """One [h, w, c] image as uint8, normalized as TensorFlow's ImageSummary does for floats.

    All values >= 0: scaled so the largest is 255. Any value < 0: scaled by 127 over the largest
    magnitude and shifted by 128 (so 0 is at 128 and the largest magnitude at 1 or 255). A
    largest magnitude under 1e-6 scales by 0. The bounds and the scale are float32, the
    arithmetic is in the image's own precision and the result truncated, which reproduces
    TensorFlow's pixels to the bit (tests/summary/test_tf_events.py). Non-finite pixels get
    `bad_color`.
    """
    if image.dtype == np.uint8:
        return image
    ftype = image.dtype.type if image.dtype in (np.float16, np.float64) else np.float32
    image = image.astype(ftype)
    finite = np.isfinite(image).all(axis=2)
    values = image[finite].astype(np.float32)
    lo, hi = (values.min(), values.max()) if values.size else (np.float32(0), np.float32(0))
    largest, top, offset = (max(-lo, hi), 127, 128) if lo < 0 else (hi, 255, 0)
    scale = np.float32(top) / largest if largest >= np.float32(1e-6) else np.float32(0)
    scaled = np.where(np.isfinite(image), image, ftype(0)) * ftype(scale) + ftype(offset)
    out = np.clip(scaled, 0, 255).astype(np.uint8)
    out[~finite] = _bad_color(bad_color, image.shape[2])
    return out


def _bad_color(bad_color, channels):
    color = np.asarray(bad_color, np.uint8).ravel()
    return color[:channels] if color.size >= channels else np.resize(color, channels)


def _numbered_tags(base, kind, count, max_outputs):
    if max_outputs > 1:
        return [f"{base}/{kind}/{i}" for i in range(count)]
    return [f"{base}/{kind}"] * count


@ImageSummary.kernel("CPU")
def _image_summary_kernel(ctx, tag, tensor):
    tag = _tag_of(tag, ctx.op)
    tensor = np.asarray(tensor)
    if tensor.ndim != 4 or tensor.shape[3] not in (1, 3, 4):
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Tensor must be 4-D with last dim 1, 3, or 4, not "
                          f"{list(tensor.shape)}")
    if tensor.shape[1] < 1 or tensor.shape[2] < 1:
        raise errors.InvalidArgumentError(None, ctx.op, f"Images must have height and width "
                                          f">= 1, got {list(tensor.shape)}")
    count = min(ctx.attrs["max_images"], tensor.shape[0])
    summary = protos.Summary()
    for image_tag, image in zip(_numbered_tags(tag, "image", count, ctx.attrs["max_images"]),
                                tensor[:count]):
        pixels = image_to_uint8(image, ctx.attrs["bad_color"])
        summary.value.add(tag=image_tag, image=protos.Summary.Image(
            height=image.shape[0], width=image.shape[1], colorspace=image.shape[2],
            encoded_image_string=png.encode(pixels)))
    return _string_scalar(summary.SerializeToString())


# ---- AudioSummary / AudioSummaryV2 ---------------------------------------------------------
def wav_bytes(samples, sample_rate):
    """A 16-bit PCM WAV file of `samples` [frames, channels] in [-1, 1] (clipped).

    As TensorFlow's EncodeWav: a sample is scaled by 32768, rounded half away from zero and
    clamped to the int16 range (so 1.0 is 32767 and -1.0 is -32768).
    """
    scaled = np.asarray(samples, np.float64) * 32768.0
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    pcm = np.clip(rounded, -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(pcm.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(int(round(sample_rate)))
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _audio_summary(op, tag, tensor, sample_rate, max_outputs):
    tag = _tag_of(tag, op)
    tensor = np.asarray(tensor, np.float64)
    if tensor.ndim == 2:
        tensor = tensor[:, :, None]
    if tensor.ndim != 3 or tensor.shape[2] < 1:
        raise errors.InvalidArgumentError(None, op, f"Tensor must be 3-D [batch, frames, "
                                          f"channels] or 2-D [batch, frames], got "
                                          f"{list(np.shape(tensor))}")
    if not sample_rate > 0:
        raise errors.InvalidArgumentError(None, op, f"sample_rate must be > 0, got "
                                          f"{sample_rate}")
    count = min(max_outputs, tensor.shape[0])
    summary = protos.Summary()
    for audio_tag, clip in zip(_numbered_tags(tag, "audio", count, max_outputs), tensor[:count]):
        summary.value.add(tag=audio_tag, audio=protos.Summary.Audio(
            sample_rate=float(sample_rate), num_channels=clip.shape[1],
            length_frames=clip.shape[0], encoded_audio_string=wav_bytes(clip, sample_rate),
            content_type="audio/wav"))
    return _string_scalar(summary.SerializeToString())


_AUDIO_SHAPE = _batch_summary_shape((2, 3), "audio tensor [batch, frames(, channels)]")
AudioSummary = _summary_op("AudioSummary", ["tag: string", "tensor: float"],
                           {"sample_rate": registry.Attr("float"), "max_outputs": 3},
                           _AUDIO_SHAPE)
AudioSummary.kernel("CPU")(lambda ctx, tag, tensor: _audio_summary(
    ctx.op, tag, tensor, ctx.attrs["sample_rate"], ctx.attrs["max_outputs"]))

AudioSummaryV2 = _summary_op("AudioSummaryV2",
                             ["tag: string", "tensor: float", "sample_rate: float"],
                             {"max_outputs": 3}, _AUDIO_SHAPE)


@AudioSummaryV2.kernel("CPU")
def _audio_summary_v2_kernel(ctx, tag, tensor, sample_rate):
    if np.shape(sample_rate) != ():
        raise errors.InvalidArgumentError(None, ctx.op, f"sample_rate must be a scalar, got "
                                          f"shape {list(np.shape(sample_rate))}")
    return _audio_summary(ctx.op, tag, tensor, float(sample_rate), ctx.attrs["max_outputs"])


# ---- TensorSummaryV2 -----------------------------------------------------------------------
TensorSummaryV2 = _summary_op("TensorSummaryV2",
                              ["tag: string", "tensor: T", "serialized_summary_metadata: string"])


@TensorSummaryV2.kernel("CPU")
def _tensor_summary_kernel(ctx, tag, tensor, metadata):
    tag = _tag_of(tag, ctx.op)
    summary = protos.Summary()
    value = summary.value.add(tag=tag)
    try:
        value.metadata.ParseFromString(np.asarray(metadata).item())
    except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError
        raise errors.InvalidArgumentError(None, ctx.op, f"serialized_summary_metadata is not a "
                                          f"SummaryMetadata proto: {e}") from None
    value.tensor.CopyFrom(tensor_util.make_tensor_proto(np.asarray(tensor),
                                                        ctx.attrs["T"]))
    return _string_scalar(summary.SerializeToString())


# ---- MergeSummary --------------------------------------------------------------------------
MergeSummary = _summary_op("MergeSummary", ["inputs: N * string"], {"N": 1},
                           common.scalar_shape)


@MergeSummary.kernel("CPU")
def _merge_summary_kernel(ctx, *inputs):
    merged, seen = protos.Summary(), set()
    for array in inputs:
        for data in np.asarray(array).ravel():
            part = protos.Summary()
            try:
                part.ParseFromString(data)
            except Exception:  # noqa: BLE001 - protobuf raises DecodeError
                raise errors.InvalidArgumentError(
                    None, ctx.op, "Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag in seen:
                    raise errors.InvalidArgumentError(
                        None, ctx.op, f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return _string_scalar(merged.SerializeToString())


# ---- Python wrappers -------------------------------------------------------------------------
def _collect(tensor, collections, default=(ops.GraphKeys.SUMMARIES,)):
    for key in default if collections is None else collections:
        tensor.graph.add_to_collection(key, tensor)
    return tensor


def scalar_summary(tags, values, collections=None, name=None):
    """TF 0.9: a Summary with one `simple_value` per element of `values`, tagged by `tags`."""
    return _collect(apply_op("ScalarSummary", tags, values, name=name), collections)


def histogram_summary(tag, values, collections=None, name=None):
    """TF 0.9: a histogram Summary of `values` (raises InvalidArgumentError on NaN/Inf)."""
    return _collect(apply_op("HistogramSummary", tag, values, name=name), collections)


def image_summary(tag, tensor, max_images=3, collections=None, name=None):
    """TF 0.9: PNG image summaries of up to `max_images` images of [batch, h, w, 1|3|4]."""
    return _collect(apply_op("ImageSummary", tag, tensor, max_images=max_images, name=name),
                    collections)


def audio_summary(tag, tensor, sample_rate, max_outputs=3, collections=None, name=None):
    """TF 0.9: WAV audio summaries of [batch, frames(, channels)] floats in [-1, 1]."""
    return _collect(apply_op("AudioSummary", tag, tensor, sample_rate=float(sample_rate),
                             max_outputs=max_outputs, name=name), collections)


def merge_summary(inputs, collections=None, name=None):
    """TF 0.9: merges serialized Summary tensors into one (duplicate tags are an error)."""
    return _collect(apply_op("MergeSummary", list(inputs), name=name), collections, ())


def merge_all_summaries(key=ops.GraphKeys.SUMMARIES):
    """TF 0.9: merges every summary in collection `key`; None if there is none."""
    summaries = ops.get_collection(key)
    if not summaries:
        return None
    return merge_summary(summaries)


# ---- TF 1.0 names (tf.summary.*): the tag is the op's name-scoped name ---------------------
_INVALID_TAG_CHARS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    if name is None:
        return None
    cleaned = _INVALID_TAG_CHARS.sub("_", name).lstrip("/")
    return cleaned or "summary"


def _scoped_summary(name, values, build, collections):
    with ops.name_scope(_clean_tag(name), None, values) as scope:
        return _collect(build(scope.rstrip("/"), scope), collections)


def scalar(name, tensor, collections=None):
    """A scalar Summary of the single value `tensor`, tagged with the scoped `name`."""
    return _scoped_summary(name, [tensor], lambda tag, scope: apply_op(
        "ScalarSummary", tag, tensor, name=scope), collections)


def histogram(name, values, collections=None):
    """A histogram Summary of `values`, tagged with the scoped `name`."""
    return _scoped_summary(name, [values], lambda tag, scope: apply_op(
        "HistogramSummary", tag, values, name=scope), collections)


def image(name, tensor, max_outputs=3, collections=None):
    """PNG image summaries of up to `max_outputs` images of [batch, h, w, 1|3|4]."""
    return _scoped_summary(name, [tensor], lambda tag, scope: apply_op(
        "ImageSummary", tag, tensor, max_images=max_outputs, name=scope), collections)


def audio(name, tensor, sample_rate, max_outputs=3, collections=None):
    """WAV audio summaries of [batch, frames(, channels)] floats in [-1, 1]."""
    return _scoped_summary(name, [tensor], lambda tag, scope: apply_op(
        "AudioSummaryV2", tag, tensor, ops.convert_to_tensor(sample_rate, dtypes.float32),
        max_outputs=max_outputs, name=scope), collections)


def plugin_metadata(plugin_name, content=b"", display_name="", description=""):
    """A SummaryMetadata proto naming the TensorBoard plugin that shows a tensor summary."""
    metadata = protos.summary_pb2.SummaryMetadata(display_name=display_name,
                                                  summary_description=description)
    metadata.plugin_data.plugin_name = plugin_name
    metadata.plugin_data.content = content
    return metadata


def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None):
    """A Summary holding `tensor` itself (TensorSummaryV2), with optional plugin metadata."""
    metadata = summary_metadata or protos.summary_pb2.SummaryMetadata()
    if summary_description is not None:
        metadata.summary_description = getattr(summary_description, "type_hint",
                                               str(summary_description))
    serialized = metadata.SerializeToString()
    return _scoped_summary(name, [tensor], lambda tag, scope: apply_op(
        "TensorSummaryV2", tag, tensor, ops.convert_to_tensor(serialized, dtypes.string),
        name=scope), collections)


def text(name, tensor, collections=None):
    """A text Summary of a string tensor, shown by TensorBoard's text dashboard (Markdown)."""
    tensor = ops.convert_to_tensor(tensor)
    if tensor.dtype.base_dtype != dtypes.string:
        raise ValueError(f"tf.summary.text expects a string tensor, got {tensor.dtype.name} "
                         f"({tensor.name})")
    return tensor_summary(name, tensor, collections=collections,
                          summary_metadata=plugin_metadata("text"))


def merge(inputs, collections=None, name=None):
    """Merges serialized Summary tensors into one; not added to any collection by default."""
    return merge_summary(inputs, collections=collections, name=name)


def merge_all(key=ops.GraphKeys.SUMMARIES):
    """Merges every summary in collection `key`; None if there is none."""
    return merge_all_summaries(key)


def get_summary_description(node_def):
    """The SummaryDescription of a TensorSummary node (its type hint is unset here)."""
    if node_def.op not in ("TensorSummary", "TensorSummaryV2"):
        raise ValueError(f"Can't get_summary_description on {node_def.op}; required a "
                         "TensorSummary node")
    return protos.SummaryDescription()

