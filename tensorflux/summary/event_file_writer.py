"""Event files for TensorBoard: TFRecord-framed `Event` protos written by a background thread.

The file is `events.out.tfevents.{seconds:010d}.{hostname}[suffix]` in the log directory
(".NNN" appended if that name is taken); its first record is `Event(wall_time,
file_version="brain.Event:2")`, which TensorBoard reads to know the format.
"""
import os
import queue
import socket
import threading
import time

from tensorflux.framework import protos
from tensorflux.lib.io import tf_record
from tensorflux.platform import gfile

FILE_VERSION = "brain.Event:2"
_CLOSE = object()  # queue sentinel: write what is left, flush, stop


def _open_new_file(logdir, filename_suffix):
    """Creates a new event file. One made in the same second as an existing one gets ".N"
    appended rather than overwriting it, so that it sorts after it (TensorBoard reads a run's
    files in name order)."""
    base = os.path.join(logdir,
                        f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}")
    suffix = filename_suffix or ""
    for attempt in range(1000):
        path = base + suffix + (f".{attempt:03d}" if attempt else "")
        try:
            return path, _create(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a new event file named like {base + suffix}")


def _create(path):
    """Opens a new event file for appending; on a URL, through gfile's append mode (the
    filesystem must support appends, as memory://, file:// and HDFS do)."""
    if not gfile.is_url(path):
        return open(path, "xb")
    if gfile.Exists(path):
        raise FileExistsError(path)
    return gfile.GFile(path, "ab")


class _WriterThread(threading.Thread):
    """Drains the queue into the file, flushing every `flush_secs` and at the sentinel."""

    def __init__(self, event_queue, file, lock, flush_secs):
        super().__init__(name="EventFileWriterThread", daemon=True)
        self._queue = event_queue
        self._file = file
        self._lock = lock
        self._flush_secs = flush_secs
        self.error = None  # the first write error; raised by flush() and close()

    def run(self):
        next_flush = time.monotonic() + self._flush_secs
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_flush - time.monotonic()))
            except queue.Empty:
                item = None
            try:
                if item is _CLOSE:
                    self._flush_safely()
                    return
                if item is not None:
                    self._write_safely(item)
                if time.monotonic() >= next_flush:
                    self._flush_safely()
                    next_flush = time.monotonic() + self._flush_secs
            finally:
                if item is not None:
                    self._queue.task_done()

    def _write_safely(self, record):
        # After a failure keep draining (so producers never block on a full queue) but drop.
        if self.error is not None:
            return
        try:
            with self._lock:
                self._file.write(tf_record.encode_record(record))
        except Exception as e:  # noqa: BLE001 - reported by flush()/close(), never a hang
            self.error = e

    def _flush_safely(self):
        if self.error is not None:
            return
        try:
            with self._lock:
                self._file.flush()
        except Exception as e:  # noqa: BLE001
            self.error = e


class EventFileWriter:
    """Writes `Event` protos to an event file in `logdir`, asynchronously.

    `add_event` queues the event; a daemon thread writes queued events and flushes the file
    every `flush_secs` seconds. `flush()` returns once everything queued is on disk.
    """

    def __init__(self, logdir, max_queue=10, flush_secs=120, filename_suffix=None):
        """Creates `logdir` if needed and opens a new event file in it.

        Args:
          logdir: the run's directory.
          max_queue: how many events may wait in the queue; add_event blocks beyond that.
          flush_secs: how often, in seconds, the thread flushes the file.
          filename_suffix: appended to the event file's name.
        """
        self._logdir = str(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._filename_suffix = filename_suffix
        self._lock = threading.Lock()
        self._closed = True
        gfile.MakeDirs(self._logdir)
        self._open()

    def _open(self):
        self._path, self._file = _open_new_file(self._logdir, self._filename_suffix)
        self._queue = queue.Queue(self._max_queue)
        self._thread = _WriterThread(self._queue, self._file, self._lock, self._flush_secs)
        self._closed = False
        self._thread.start()
        self.add_event(protos.Event(wall_time=time.time(), file_version=FILE_VERSION))
        self.flush()  # TensorBoard recognizes the file before the first summary arrives

    def get_logdir(self):
        """The directory the event file is in."""
        return self._logdir

    @property
    def path(self):
        """The path of the current event file."""
        return self._path

    def add_event(self, event):
        """Queues an `Event` proto to be written (ignored after close()).

        Raises:
          TypeError: if `event` is not an Event proto.
        """
        if not isinstance(event, protos.Event):
            raise TypeError(f"add_event expects an Event proto, got {type(event).__name__}")
        record = event.SerializeToString()
        while not self._closed:
            try:
                self._queue.put(record, timeout=1.0)
                return
            except queue.Full:
                continue  # re-check: close() from another thread must not leave us blocked

    def flush(self):
        """Writes every queued event and flushes the file.

        Raises:
          OSError: if writing the file failed.
        """
        if self._closed:
            return
        self._queue.join()
        self._thread._flush_safely()
        self._raise_thread_error()

    def close(self):
        """Writes what is queued, stops the thread and closes the file. Idempotent.

        Raises:
          OSError: if writing the file failed.
        """
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join()
        with self._lock:
            self._file.close()
        self._raise_thread_error()

    def reopen(self):
        """After close(), starts a new event file in the same directory."""
        if self._closed:
            self._open()

    def _raise_thread_error(self):
        error = self._thread.error
        if error is not None:
            raise OSError(f"Writing event file {self._path} failed: {error}") from error

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
