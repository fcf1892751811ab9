"""Event files against the one TensorFlow 2.21's FileWriter wrote (tests/data/summary/tf_events,
made by tests/data/make_tf_goldens.py): tensorflux reads it; its summary ops and FileWriter write
the same events from the same inputs (wall times aside, and PNGs compared as pixels: the zlib
streams differ); its EventFileWriter frames TensorFlow's events into TensorFlow's bytes."""
import os

import numpy as np
import pytest
import tf_goldens

import tensorflux as tf
from tensorflux.framework import protos
from tensorflux.lib import png
from tensorflux.lib.io import tf_record
from tensorflux.summary import event_file_writer

pytestmark = pytest.mark.timeout(60)

G = tf_goldens.make
TF_EVENTS = tf_goldens.path("summary", "tf_events", G.EVENTS_NAME)
TAGS = ["loss_1", "weights_1", "pixels_1/image/0", "pixels_1/image/1", "gray_1/image/0",
        "tone_1/audio", "note_1"]


def _tf_events():
    return list(tf.summary.summary_iterator(TF_EVENTS))


def test_reads_tensorflows_event_file():
    events = _tf_events()
    assert events[0].file_version == "brain.Event:2"
    assert events[1].session_log.status == protos.SessionLog.START
    assert [e.step for e in events[2:]] == [1, 2]
    for event in events[2:]:
        assert [v.tag for v in event.summary.value] == TAGS
    assert [e.summary.value[0].simple_value for e in events[2:]] == [0.25, -3.5]
    pixels = events[3].summary.value[2].image
    assert (pixels.height, pixels.width, pixels.colorspace) == (4, 5, 3)
    np.testing.assert_array_equal(png.decode(pixels.encoded_image_string),
                                  G.summary_inputs(2)["pixels"][0])


def _write_ours(logdir):
    """The summaries of make_tf_goldens.write_tf_events, built and written by tensorflux."""
    with tf.Graph().as_default() as graph:
        feeds = {name: tf.placeholder(tf.string if name == "note" else
                                      tf.as_dtype(np.asarray(value).dtype), name=name)
                 for name, value in G.summary_inputs(1).items()}
        tf.summary.scalar("loss", feeds["loss"])
        tf.summary.histogram("weights", feeds["weights"])
        tf.summary.image("pixels", feeds["pixels"], max_outputs=2)
        tf.summary.image("gray", feeds["gray"])
        tf.summary.audio("tone", feeds["tone"], 8000, max_outputs=1)
        tf.summary.text("note", feeds["note"])
        merged = tf.summary.merge_all()
        writer = tf.summary.FileWriter(logdir)
        with tf.Session(graph=graph) as sess:
            writer.add_session_log(tf.summary.SessionLog(status=tf.summary.SessionLog.START), 0)
            for step in (1, 2):
                values = G.summary_inputs(step)
                writer.add_summary(sess.run(merged, {feeds[k]: v for k, v in values.items()}),
                                   step)
        writer.close()
    (name,) = [n for n in os.listdir(logdir) if "tfevents" in n]
    return list(tf.summary.summary_iterator(os.path.join(logdir, name)))


def _take_images(event):
    """The event's images as (height, width, colorspace, pixels), their PNG bytes cleared."""
    images = []
    for value in event.summary.value:
        if value.HasField("image"):
            image = value.image
            images.append((image.height, image.width, image.colorspace,
                           png.decode(image.encoded_image_string).tobytes()))
            image.encoded_image_string = b""
    return images


def test_file_writer_writes_tensorflows_events(tmp_path):
    """Scalar, histogram (buckets, sum and sum of squares to the last bit), audio (16-bit PCM
    WAV bytes), text (with its plugin metadata only on the first event) and image summaries."""
    ours, theirs = _write_ours(str(tmp_path)), _tf_events()
    assert len(ours) == len(theirs) == 4
    # TensorFlow 2.x names its writer library in the first event (source_metadata.writer);
    # tensorflux is not that library, so its first event is the 2016 one: file_version only
    assert theirs[0].source_metadata.writer == "tensorflow.core.util.events_writer"
    theirs[0].ClearField("source_metadata")
    for a, b in zip(ours, theirs):
        assert _take_images(a) == _take_images(b), a.step
        a.wall_time = b.wall_time = 0.0
        assert a == b, a.step
        assert a.SerializeToString() == b.SerializeToString(), a.step


def test_event_file_writer_frames_tensorflows_events_into_its_bytes(tmp_path):
    records = list(tf_record.tf_record_iterator(TF_EVENTS))
    with event_file_writer.EventFileWriter(str(tmp_path)) as writer:
        for record in records[1:]:  # its own file_version event comes first
            writer.add_event(protos.Event.FromString(record))
    with open(writer.path, "rb") as f:
        ours = f.read()
    theirs = tf_goldens.read("summary", "tf_events", G.EVENTS_NAME)
    framing = 16  # length, its CRC, the data's CRC
    first_ours = framing + len(list(tf_record.tf_record_iterator(writer.path))[0])
    assert ours[first_ours:] == theirs[framing + len(records[0]):]
