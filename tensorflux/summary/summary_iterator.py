"""summary_iterator (`tf.train.summary_iterator`): the Event protos of an event file, in order."""
from tensorflux.framework import protos
from tensorflux.lib.io import tf_record


def summary_iterator(path):
    """Yields each `Event` proto in the event file at `path`.

    Raises:
      errors.DataLossError: for a torn or corrupt record (from the TFRecord reader).
      ValueError: for a record that is not an Event proto.
    """
    for index, record in enumerate(tf_record.tf_record_iterator(path)):
        event = protos.Event()
        try:
            event.ParseFromString(record)
        except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError
            raise ValueError(f"Record {index} of {path} is not an Event proto: {e}") from None
        yield event
