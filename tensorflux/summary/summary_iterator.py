"""summary_iterator (`tf.train.summary_iterator`): the Event protos of an event file, in order."""
from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.lib.io import tf_record


def summary_iterator(path):
    """Yields each `Event` proto in the event file at `path`.

    Raises:
      errors.DataLossError: for a torn or corrupt record (from the TFRecord reader).
      errors.DataLossError: for a record (its CRCs intact) that is not an Event proto.
    """
    for index, record in enumerate(tf_record.tf_record_iterator(path)):
        event = protos.Event()
        try:
            event.ParseFromString(record)
        except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError
            raise errors.DataLossError(None, None, f"Corrupted event file {path}: record {index} "
                                             f"is not an Event proto: {e}") from None
        yield event
