"""Readers: ops that turn a queue of filenames into records (TextLine, FixedLengthRecord,
TFRecord, WholeFile), plus ReadFile and WriteFile.

A reader op outputs a handle to a Reader (created per session, like a queue): TF 0.9's ops
(TextLineReader, ReaderRead, ...) a `Ref(string)` handle, TF >= 1.2's V2 ops a resource; one
kernel serves both (data_flow_ops.resource_of finds the reader). A ReaderRead asks the reader
for one record: the reader reads from its current file ("work unit") and, when that is
exhausted, dequeues the next filename from the queue it is given, without holding a thread
while it waits. Reads on one reader are served one at a time, in
order. Once the filename queue is closed and empty, a read fails with OutOfRangeError.

    filenames = tf.train.string_input_producer(["a.bin", "b.bin"])
    key, value = tf.FixedLengthRecordReader(record_bytes=3073).read(filenames)
"""
import collections
import os
import threading

import numpy as np

from tensorflux.framework import dtypes, errors, limits, ops, registry, tensor_shape
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib.io import tf_record
from tensorflux.ops import data_flow_ops
from tensorflux.platform import gfile

__all__ = [
    "FixedLengthRecordReader",
    "ReaderBase",
    "TFRecordReader",
    "TextLineReader",
    "WholeFileReader",
    "matching_files",
    "read_file",
    "write_file",
]


class _Request:
    __slots__ = ("callback", "done", "n", "partial_ok", "records")

    def __init__(self, n, partial_ok, callback):
        self.n = n
        self.partial_ok = partial_ok
        self.records = []
        self.callback = callback
        self.done = False


class Reader:
    """A record reader over work units (filenames) dequeued from a queue.

    `open_work(filename)` returns an iterator of (key, value) bytes pairs for one file.
    """

    def __init__(self, name, kind, open_work, signature):
        self.name = name
        self.kind = kind
        self._open_work = open_work
        self._signature = signature
        self._lock = threading.Lock()
        self._pending = collections.deque()
        self._busy = False
        self._work = None
        self._dequeue = None  # (queue, waiter) while waiting for a filename
        self.produced = 0
        self.completed = 0

    def signature(self):
        return (self.kind,) + tuple(self._signature)

    def read(self, queue, n, partial_ok, callback):
        """Asks for `n` records from `queue`'s files; returns the request if it has to wait."""
        request = _Request(n, partial_ok, callback)
        with self._lock:
            self._pending.append(request)
        self._pump(queue)
        return None if request.done else request

    def cancel(self, request, error):
        """Withdraws a pending read; True if it was pending (its callback is not run)."""
        with self._lock:
            if request.done:
                return False
            request.done = True
            self._pending.remove(request)
            pending = self._dequeue if not self._pending else None
        if pending is not None and pending[0].cancel(pending[1], error):
            with self._lock:
                self._dequeue = None
                self._busy = False
        return True

    def reset(self):
        """Forgets the current work unit and the counters."""
        with self._lock:
            self._close_work()
            self.produced = 0
            self.completed = 0

    def close_resource(self):
        error = errors.CancelledError(None, None, f"{self.kind} '{self.name}' was destroyed: "
                                                  "its session has been closed.")
        with self._lock:
            self._close_work()
            requests, self._pending = list(self._pending), collections.deque()
            for request in requests:
                request.done = True
        for request in requests:
            request.callback(error, None)

    def _close_work(self):
        if self._work is not None:
            try:
                self._work.close()
            except ValueError:  # being read by another thread: it ends when that read does
                pass
            self._work = None

    # ---- serving ---------------------------------------------------------------------------
    def _pump(self, queue):
        """Serves pending requests in order until one must wait for a filename."""
        while True:
            with self._lock:
                if self._busy or not self._pending:
                    return
                self._busy = True
                request = self._pending[0]
            try:
                filled, error = self._fill(request), None
            except errors.OpError as e:
                filled, error = True, e
            if not filled:
                result = self._next_work(queue)
                if result is None:
                    return  # the dequeue callback resumes serving
                request, error, filled = self._start_work(*result)
            if filled:
                self._finish(request, error)

    def _fill(self, request):
        """Reads records into `request`; False if the current work ran out first."""
        while len(request.records) < request.n:
            work = self._work
            if work is None:
                return False
            record = next(work, None)
            if record is None:
                with self._lock:
                    self._close_work()
                    self.completed += 1
                continue
            request.records.append(record)
            with self._lock:
                self.produced += 1
        return True

    def _finish(self, request, error):
        with self._lock:
            self._busy = False
            if request.done:
                return
            request.done = True
            self._pending.remove(request)
        request.callback(error, None if error is not None else request.records)

    def _next_work(self, queue):
        """Dequeues a filename: the (error, elements) result, or None if it has to wait."""
        box = {"sync": True, "result": None}

        def got(error, value):
            with self._lock:
                if box["sync"]:
                    box["result"] = (error, value)
                    return
                self._dequeue = None
            request, error, filled = self._start_work(error, value)
            if filled:
                self._finish(request, error)
            self._pump(queue)

        waiter = queue.dequeue(1, got)
        with self._lock:
            box["sync"] = False
            if box["result"] is None and waiter is not None:
                self._dequeue = (queue, waiter)
        return box["result"]

    def _start_work(self, error, elements):
        """Opens the dequeued file: (head request, error, whether that request is finished)."""
        with self._lock:
            if not self._pending:
                self._busy = False
                return None, None, False
            request = self._pending[0]
        if error is not None:
            if request.partial_ok and request.records and isinstance(error,
                                                                     errors.OutOfRangeError):
                return request, None, True
            return request, error, True
        try:
            work = self._open_work(_filename_of(elements))
        except errors.OpError as e:
            return request, e, True
        with self._lock:
            self._work = work
            self._busy = False
        return request, None, False


def _filename_of(elements):
    element = elements[0]
    if len(element) != 1 or element[0].dtype != np.object_:
        raise errors.InvalidArgumentError(
            None, None, f"A reader needs a queue of single strings (filenames), got an element "
                        f"of {len(element)} components {[str(c.dtype) for c in element]}")
    value = element[0].item()
    return value if isinstance(value, bytes) else str(value).encode()


def _open(filename):
    path = os.fsdecode(filename)
    if gfile.is_url(path):
        return gfile.GFile(path, "rb")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    except OSError as e:
        raise errors.UnknownError(None, None, f"Cannot open {path}: {e.strerror}") from None


def _check_file_size(op, f):
    """Refuses a whole file larger than the per-tensor limit before reading it (local files;
    a remote GFile without a file descriptor is read as it comes)."""
    try:
        size = os.fstat(f.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return
    limits.check_allocation(op, [size], np.uint8)


def _key(filename, suffix):
    return filename + b":" + str(suffix).encode()


# ---- record formats ---------------------------------------------------------------------------
def text_lines(skip_header_lines):
    def open_work(filename):
        with _open(filename) as f:
            for number, line in enumerate(f, 1):
                if number > skip_header_lines:
                    yield _key(filename, number), line.rstrip(b"\n").rstrip(b"\r")
    return open_work


def fixed_length_records(header_bytes, record_bytes, footer_bytes, hop_bytes):
    def open_work(filename):
        with _open(filename) as f:
            end = os.fstat(f.fileno()).st_size - footer_bytes
            offset, number = header_bytes, 0
            step = hop_bytes or record_bytes
            while offset + record_bytes <= end:
                f.seek(offset)
                yield _key(filename, number), f.read(record_bytes)
                offset += step
                number += 1
    return open_work


def tf_records(compression_type):
    def open_work(filename):
        path = os.fsdecode(filename)
        stream, raw = tf_record._open_for_read(path, tf_record._compression_type(
            compression_type or None))
        try:
            offset = 0
            while True:
                data = tf_record._read_record(stream, path, offset)
                if data is None:
                    return
                yield _key(filename, offset), data
                offset += 16 + len(data)
        finally:
            stream.close()
            raw.close()
    return open_work


def whole_files():
    def open_work(filename):
        with _open(filename) as f:
            # a whole file is one value: refuse one larger than the per-tensor limit up front
            _check_file_size(None, f)
            data = f.read()
        yield filename, data
    return open_work


# ---- reader ops -----------------------------------------------------------------------------
_READER_ATTRS = {"container": "", "shared_name": ""}


def register_reader(name, attrs, make_open, signature_attrs, cls=None):
    """Registers reader op `name` (TF 0.9's, a `Ref(string)` handle) and `name`V2 (a resource
    handle) with one kernel; returns the V2 op's definition."""
    def create(ctx, display):
        values = [ctx.attrs[a] for a in signature_attrs]
        return (cls or Reader)(display, name, make_open(*values), values)

    for suffix, handle_type in data_flow_ops.HANDLE_VERSIONS:
        op_def = registry.register_op(name + suffix, outputs=[f"reader_handle: {handle_type}"],
                                      attrs=dict(_READER_ATTRS, **attrs), stateful=True)
        op_def.not_differentiable()
        op_def.shape(data_flow_ops.handle_shape_fn(handle_type))
        op_def.kernel("CPU")(data_flow_ops.resource_kernel(create, "reader", as_ref=not suffix))
    return op_def


TextLineReaderV2 = register_reader("TextLineReader", {"skip_header_lines": 0}, text_lines,
                                    ["skip_header_lines"])
FixedLengthRecordReaderV2 = register_reader(
    "FixedLengthRecordReader",
    {"header_bytes": 0, "record_bytes": "int", "footer_bytes": 0, "hop_bytes": 0},
    fixed_length_records, ["header_bytes", "record_bytes", "footer_bytes", "hop_bytes"])
TFRecordReaderV2 = register_reader("TFRecordReader", {"compression_type": ""}, tf_records,
                                    ["compression_type"])
WholeFileReaderV2 = register_reader("WholeFileReader", {}, whole_files, [])


def reader_of(ctx, handle):
    """The reader behind a V1 or V2 reader handle."""
    reader = data_flow_ops.resource_of(ctx, handle, "reader")
    if not isinstance(reader, Reader):
        raise errors.InvalidArgumentError(
            None, None, f"Expected a reader handle, got {type(reader).__name__}")
    return reader


def _strings(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _start_read(ctx, call, reader_handle, queue_handle, n, partial_ok, convert):
    try:
        reader = reader_of(ctx, reader_handle)
        queue = data_flow_ops.queue_of(ctx, queue_handle)
    except errors.OpError as e:
        call.fail(e)
        return

    def finished(error, records):
        if error is not None:
            call.fail(error)
        else:
            call.done(convert(records))

    request = reader.read(queue, n, partial_ok, finished)
    if request is not None:
        def cancelled(error):
            if reader.cancel(request, error):
                call.fail(error)
        call.on_cancel(cancelled)


def _register_reader_verb(name, inputs, outputs, shape, kernel, is_async=False):
    """Registers reader verb `name` (V1: `Ref(string)` reader and queue handles) and `name`V2
    (resource handles) with one kernel and shape function; returns the V2 op's definition."""
    for suffix, handle_type in data_flow_ops.HANDLE_VERSIONS:
        args = [f"reader_handle: {handle_type}"] + [
            f"{arg}: {handle_type}" if arg == "queue_handle" else arg for arg in inputs]
        op_def = registry.register_op(name + suffix, inputs=args, outputs=outputs,
                                      stateful=True)
        op_def.not_differentiable()
        op_def.shape(shape)
        op_def.kernel("CPU", is_async=is_async)(kernel)
    return op_def


def _read_kernel(ctx, call, reader_handle, queue_handle):
    def convert(records):
        key, value = records[0]
        return np.array(key, dtype=object), np.array(value, dtype=object)
    _start_read(ctx, call, reader_handle, queue_handle, 1, False, convert)


ReaderReadV2 = _register_reader_verb(
    "ReaderRead", ["queue_handle"], ["key: string", "value: string"],
    lambda op: [tensor_shape.scalar(), tensor_shape.scalar()], _read_kernel, is_async=True)


def _read_up_to_kernel(ctx, call, reader_handle, queue_handle, num_records):
    n = int(num_records)
    if n <= 0:
        call.fail(errors.InvalidArgumentError(
            None, None, f"ReaderReadUpTo requires num_records > 0, got {n}"))
        return

    def convert(records):
        return _strings([k for k, _ in records]), _strings([v for _, v in records])
    _start_read(ctx, call, reader_handle, queue_handle, n, True, convert)


ReaderReadUpToV2 = _register_reader_verb(
    "ReaderReadUpTo", ["queue_handle", "num_records: int64"], ["keys: string", "values: string"],
    lambda op: [tensor_shape.vector(None), tensor_shape.vector(None)], _read_up_to_kernel,
    is_async=True)


def _reader_query(name, output, fn):
    outputs = [f"{output}: int64"] if output else []
    return _register_reader_verb(
        name, [], outputs, lambda op: tensor_shape.scalar() if output else [],
        lambda ctx, handle: fn(reader_of(ctx, handle)))


ReaderNumRecordsProducedV2 = _reader_query("ReaderNumRecordsProduced", "records_produced",
                                           lambda r: np.int64(r.produced))
ReaderNumWorkUnitsCompletedV2 = _reader_query("ReaderNumWorkUnitsCompleted",
                                              "units_completed",
                                              lambda r: np.int64(r.completed))
ReaderResetV2 = _reader_query("ReaderReset", None, lambda r: r.reset())


# ---- ReadFile / WriteFile -----------------------------------------------------------------------
def _scalar_string(value, what):
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(None, None, f"{what} must be a scalar string, got "
                                                      f"shape {list(np.shape(value))}")
    value = np.asarray(value, dtype=object).item()
    return value if isinstance(value, bytes) else str(value).encode()


ReadFile = registry.register_op("ReadFile", inputs=["filename: string"],
                                outputs=["contents: string"])
ReadFile.not_differentiable()
ReadFile.shape(lambda op: tensor_shape.scalar())


@ReadFile.kernel("CPU")
def _read_file_kernel(ctx, filename):
    with _open(_scalar_string(filename, "filename")) as f:
        _check_file_size(ctx.op, f)
        return np.array(f.read(), dtype=object)


WriteFile = registry.register_op("WriteFile", inputs=["filename: string", "contents: string"],
                                 stateful=True)
WriteFile.not_differentiable()
WriteFile.shape(lambda op: [])


@WriteFile.kernel("CPU")
def _write_file_kernel(ctx, filename, contents):
    path = os.fsdecode(_scalar_string(filename, "filename"))
    folder = os.path.dirname(path)
    if folder:
        gfile.MakeDirs(folder)
    with gfile.GFile(path, "wb") as f:
        f.write(_scalar_string(contents, "contents"))


MatchingFiles = registry.register_op("MatchingFiles", inputs=["pattern: string"],
                                     outputs=["filenames: string"])
MatchingFiles.not_differentiable()
MatchingFiles.shape(lambda op: tensor_shape.TensorShape([None]))


@MatchingFiles.kernel("CPU")
def _matching_files_kernel(ctx, pattern):
    patterns = np.asarray(pattern, dtype=object).reshape(-1)
    found = []
    for p in patterns:
        found.extend(gfile.Glob(os.fsdecode(p if isinstance(p, bytes) else str(p).encode())))
    return np.array([f.encode() for f in found], dtype=object).reshape(-1)


def matching_files(pattern, name=None):
    """The sorted names of the files (local or any fsspec URL) matching glob `pattern`."""
    return apply_op("MatchingFiles", pattern, name=name)


def read_file(filename, name=None):
    """The whole contents of the file `filename` as a string scalar."""
    return apply_op("ReadFile", filename, name=name)


def write_file(filename, contents, name=None):
    """An op writing the string `contents` to the file `filename` (parent folders created)."""
    return apply_op("WriteFile", filename, contents, name=name)


# ---- Python classes ---------------------------------------------------------------------------
def _queue_ref(queue):
    if isinstance(queue, data_flow_ops.QueueBase):
        return queue.queue_ref
    return queue


class ReaderBase:
    """A reader's Python face: read, read_up_to, counters and reset (`tf.ReaderBase`).

    The readers build TF 0.9's ops (a `string_ref` reader handle); a reader made from a
    resource handle uses the V2 ops, as TF's ReaderBase picked by the handle's dtype.
    """

    def __init__(self, reader_ref, supports_serialize=False):
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    reader_ref = property(lambda self: self._reader_ref, doc="The reader's handle.")
    supports_serialize = property(lambda self: self._supports_serialize)

    def _verb(self, op_type):
        return op_type + ("V2" if self._reader_ref.dtype == dtypes.resource else "")

    def _queue_handle(self, queue):
        """The queue's handle in this reader's version: a V1 reader reads a resource queue
        through FakeQueue (TF's way), a V2 reader needs a resource queue."""
        handle = _queue_ref(queue)
        if self._reader_ref.dtype != dtypes.resource and handle.dtype == dtypes.resource:
            return apply_op("FakeQueue", handle)
        return handle

    def read(self, queue, name=None):
        """(key, value) string scalars: the next record, taking files from `queue`."""
        return apply_op(self._verb("ReaderRead"), self._reader_ref, self._queue_handle(queue),
                        name=name)

    def read_up_to(self, queue, num_records, name=None):
        """(keys, values) vectors of up to `num_records` records."""
        num_records = ops.convert_to_tensor(num_records, dtype="int64")
        return apply_op(self._verb("ReaderReadUpTo"), self._reader_ref,
                        self._queue_handle(queue), num_records, name=name)

    def num_records_produced(self, name=None):
        """An int64 scalar: records this reader has produced."""
        return apply_op(self._verb("ReaderNumRecordsProduced"), self._reader_ref, name=name)

    def num_work_units_completed(self, name=None):
        """An int64 scalar: files this reader has finished."""
        return apply_op(self._verb("ReaderNumWorkUnitsCompleted"), self._reader_ref, name=name)

    def reset(self, name=None):
        """An op resetting the reader to its initial state."""
        return apply_op(self._verb("ReaderReset"), self._reader_ref, name=name)


class TextLineReader(ReaderBase):
    """Reads the lines of files (without the newline); keys are 'filename:line_number'."""

    def __init__(self, skip_header_lines=None, name=None):
        super().__init__(apply_op("TextLineReader", skip_header_lines=skip_header_lines or 0,
                                  name=name))


class FixedLengthRecordReader(ReaderBase):
    """Reads fixed-length records after a header; keys are 'filename:record_index'."""

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None):
        super().__init__(apply_op("FixedLengthRecordReader", record_bytes=record_bytes,
                                  header_bytes=header_bytes or 0,
                                  footer_bytes=footer_bytes or 0, hop_bytes=hop_bytes or 0,
                                  name=name))


class TFRecordReader(ReaderBase):
    """Reads the records of TFRecord files; keys are 'filename:byte_offset'."""

    def __init__(self, name=None, options=None):
        compression = tf_record.TFRecordOptions.get_compression_type_string(options) \
            if options is not None else ""
        super().__init__(apply_op("TFRecordReader", compression_type=compression or "",
                                  name=name))


class WholeFileReader(ReaderBase):
    """Reads each file as one record; the key is the filename."""

    def __init__(self, name=None):
        super().__init__(apply_op("WholeFileReader", name=name))

