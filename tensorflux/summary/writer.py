"""FileWriter (`tf.summary.FileWriter`, TF 0.9's `tf.train.SummaryWriter`) and FileWriterCache.

A FileWriter wraps an EventFileWriter: it turns summaries, graphs, run metadata and session logs
into `Event` protos, stamps them with the wall time and step, and queues them for the writer
thread. One log directory is one TensorBoard run.
"""
import threading
import time

from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.summary.event_file_writer import EventFileWriter


def _graph_def_of(graph):
    """The GraphDef TensorBoard draws: devices and `_output_shapes` on every node."""
    if isinstance(graph, protos.GraphDef):
        return graph
    if isinstance(graph, ops.Graph):
        return graph.as_graph_def(add_shapes=True)
    raise TypeError(f"add_graph expects a tf.Graph or GraphDef, got {type(graph).__name__}")


class FileWriter:
    """Writes Summary protos and graph events to an event file in `logdir`, asynchronously.

        writer = tf.summary.FileWriter("/tmp/run1", sess.graph)
        writer.add_summary(sess.run(merged), global_step=step)
        writer.close()
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None):
        """Opens a new event file in `logdir` (created if needed).

        Args:
          logdir: the run's directory.
          graph: a tf.Graph (or GraphDef) written as the run's graph if given.
          max_queue: events that may wait to be written before add_* calls block.
          flush_secs: how often the writer thread flushes to disk.
          graph_def: TF 0.9's deprecated form of `graph`.
          filename_suffix: appended to the event file's name.
        """
        self._writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._lock = threading.Lock()
        self._seen_metadata_tags = set()
        self._run_metadata_tags = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph if graph is not None else graph_def)

    # ---- events -----------------------------------------------------------------------------
    def add_event(self, event):
        """Queues an Event proto as is."""
        self._writer.add_event(event)

    def _add_event(self, event, step):
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary, global_step=None):
        """Adds a Summary proto, or its serialized bytes (what a summary op returns).

        Plugin metadata is written only with the first value of each tag, as TensorBoard needs
        it once per tag.

        Raises:
          TypeError: for anything else.
        """
        summary = self._as_summary(summary)
        with self._lock:
            for value in summary.value:
                if not value.HasField("metadata"):
                    continue
                if value.tag in self._seen_metadata_tags:
                    value.ClearField("metadata")
                else:
                    self._seen_metadata_tags.add(value.tag)
        self._add_event(protos.Event(summary=summary), global_step)

    @staticmethod
    def _as_summary(summary):
        if isinstance(summary, protos.Summary):
            copy = protos.Summary()
            copy.CopyFrom(summary)
            return copy
        if hasattr(summary, "item") and getattr(summary, "shape", None) == ():
            summary = summary.item()  # a string scalar fetched from Session.run
        if isinstance(summary, (bytes, bytearray)):
            parsed = protos.Summary()
            try:
                parsed.ParseFromString(bytes(summary))
            except Exception as e:  # noqa: BLE001 - protobuf raises DecodeError
                raise ValueError(f"add_summary: the bytes are not a serialized Summary: {e}") \
                    from None
            return parsed
        raise TypeError(f"add_summary expects a Summary proto or its serialized bytes, got "
                        f"{type(summary).__name__}")

    def add_session_log(self, session_log, global_step=None):
        """Adds a SessionLog (e.g. SessionLog(status=SessionLog.START) after a restore)."""
        if not isinstance(session_log, protos.SessionLog):
            raise TypeError(f"add_session_log expects a SessionLog proto, got "
                            f"{type(session_log).__name__}")
        self._add_event(protos.Event(session_log=session_log), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Adds the graph TensorBoard's graph tab draws (with devices and output shapes).

        Args:
          graph: a tf.Graph or a GraphDef.
          global_step: the step to record it at.
          graph_def: TF 0.9's deprecated form of `graph`.
        """
        if graph is None and graph_def is None:
            raise ValueError("add_graph needs a graph or a graph_def, got neither")
        graph_def = _graph_def_of(graph if graph is not None else graph_def)
        self._add_event(protos.Event(graph_def=graph_def.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def, global_step=None):
        """Adds a MetaGraphDef (TensorBoard shows its graph)."""
        if not isinstance(meta_graph_def, protos.MetaGraphDef):
            raise TypeError(f"add_meta_graph expects a MetaGraphDef, got "
                            f"{type(meta_graph_def).__name__}")
        self._add_event(protos.Event(meta_graph_def=meta_graph_def.SerializeToString()),
                        global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Adds the RunMetadata of a traced step under `tag` (compute time and memory per node).

        Raises:
          ValueError: if `tag` was already used in this writer.
        """
        if not isinstance(run_metadata, protos.RunMetadata):
            raise TypeError(f"add_run_metadata expects a RunMetadata proto, got "
                            f"{type(run_metadata).__name__}")
        with self._lock:
            if tag in self._run_metadata_tags:
                raise ValueError(f"The provided run metadata tag {tag!r} is already in use; "
                                 "each traced step needs its own tag")
            self._run_metadata_tags.add(tag)
        tagged = protos.TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self._add_event(protos.Event(tagged_run_metadata=tagged), global_step)

    # ---- file management ----------------------------------------------------------------------
    def get_logdir(self):
        """The directory this writer writes to."""
        return self._writer.get_logdir()

    def flush(self):
        """Writes every queued event to disk."""
        self._writer.flush()

    def close(self):
        """Flushes and closes the event file; add_* calls are then ignored until reopen()."""
        self._writer.close()

    def reopen(self):
        """After close(), starts a new event file in the same directory."""
        self._writer.reopen()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


SummaryWriter = FileWriter  # TF 0.9's name (tf.train.SummaryWriter)


class FileWriterCache:
    """One FileWriter per log directory, shared by the code that writes there."""

    _cache = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir):
        """The FileWriter for `logdir`, created with the default graph on first use."""
        with FileWriterCache._lock:
            writer = FileWriterCache._cache.get(logdir)
            if writer is None:
                writer = FileWriter(logdir, graph=ops.get_default_graph())
                FileWriterCache._cache[logdir] = writer
            return writer

    @staticmethod
    def clear():
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            writers = list(FileWriterCache._cache.values())
            FileWriterCache._cache.clear()
        for writer in writers:
            writer.close()
