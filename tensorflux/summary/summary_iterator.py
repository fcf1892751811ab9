"""summary_iterator (`tf.train.summary_iterator`): the Event protos of an event file, in order.

An event file is appended to while training runs, and a writer killed mid-write leaves the
last record cut short. Like TensorBoard's event loader, summary_iterator then stops after the
last whole record (logging a warning) instead of raising; TensorFlow's own summary_iterator
raises DataLossError there. A record whose checksum does not match still raises.
"""
from tensorflux.framework import errors
from tensorflux.framework import protos
from tensorflux.lib.io import tf_record
from tensorflux.platform import tf_logging as logging


def summary_iterator(path):
    """Yields each `Event` proto in the event file at `path`.

    Raises:
      errors.DataLossError: for a corrupt record (from the TFRecord reader); a file ending
        inside its last record just ends the iteration.
      errors.DataLossError: for a record (its CRCs intact) that is not an Event proto.
    """
    for index, record in enumerate(_whole_records(path)):
        event = protos.Event()
        try:
            event.ParseFromString(record)
        except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError
            raise errors.DataLossError(None, None, f"Corrupted event file {path}: record {index} "
                                             f"is not an Event proto: {e}") from None
        yield event


def _whole_records(path):
    records = tf_record.tf_record_iterator(path)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except tf_record.TruncatedRecordError as e:
            logging.warning("%s: dropping the torn last record (the writer was interrupted): "
                            "%s", path, e.message)
            return
        yield record
