"""tf.summary: summary ops (TF 1.0 names), FileWriter and the Summary protos (re-exports only)."""
from tensorflux.framework.protos import (  # noqa: F401
    Event, SessionLog, Summary, SummaryDescription, TaggedRunMetadata)
from tensorflux.ops.summary_ops import (  # noqa: F401
    audio, get_summary_description, histogram, image, merge, merge_all, scalar, tensor_summary,
    text)
from tensorflux.summary.summary_iterator import summary_iterator  # noqa: F401
from tensorflux.summary.writer import FileWriter, FileWriterCache  # noqa: F401
