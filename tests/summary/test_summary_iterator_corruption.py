"""summary_iterator over event files whose records are intact but hold no Event."""
import pytest

import tensorflux as tf
from tensorflux.lib.io import tf_record

pytestmark = pytest.mark.timeout(30)


def test_a_record_that_is_not_an_event_is_data_loss(tmp_path):
    path = tmp_path / "events.out.tfevents.1"
    event = tf.Event(step=3, wall_time=1.0).SerializeToString()
    path.write_bytes(tf_record.encode_record(event) + tf_record.encode_record(b"\x0a\xff"))
    events = tf.train.summary_iterator(str(path))
    assert next(events).step == 3
    with pytest.raises(tf.errors.DataLossError, match="record 1 is not an Event"):
        next(events)
