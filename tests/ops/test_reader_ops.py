"""Harness entries and behaviour tests for the readers (tensorflux/ops/reader_ops.py)."""
import atexit
import itertools
import os
import shutil
import struct
import tempfile
import threading
import time

import numpy as np
import pytest
from op_harness import OpSpec, run_spec

import tensorflux as tf
from tensorflux.framework.op_def_library import apply_op
from tensorflux.lib.io import tf_record
from tensorflux.ops import data_flow_ops, reader_ops

pytestmark = pytest.mark.timeout(60)

_DIR = []
_COUNTER = itertools.count()


def _scratch_path(suffix):
    """A fresh file path in a folder removed at exit (harness entries have no tmp_path)."""
    if not _DIR:
        _DIR.append(tempfile.mkdtemp(prefix="tensorflux_reader_ops_"))
        atexit.register(shutil.rmtree, _DIR[0], True)
    return os.path.join(_DIR[0], f"f{next(_COUNTER)}{suffix}")


def as_v2_reader(reader):
    """`reader` rebuilt as TF >= 1.2's V2 op (a resource handle) with the V1 op's attrs."""
    op = reader.reader_ref.op
    return reader_ops.ReaderBase(apply_op(op.type + "V2", name=op.name + "_v2", **{
        k: op.get_attr(k) for k in op.node_def.attr}))


def _filename_queue(filenames, deps=(), v2=False):
    """A closed queue holding `filenames`, filled after `deps` (run all in one step); with
    `v2`, a FIFOQueueV2 (a resource handle)."""
    q = data_flow_ops.FIFOQueue(len(filenames) + 1, tf.string, shapes=[[]])
    if v2:
        q = data_flow_ops.QueueBase(q.dtypes, q.shapes, None, apply_op(
            "FIFOQueueV2", component_types=[tf.string], shapes=[[]], capacity=len(filenames) + 1))
    with tf.control_dependencies(list(deps)):
        fill = q.enqueue_many([filenames])
    with tf.control_dependencies([fill]):
        close = q.close()
    return q, close


def _written(contents, suffix=".dat"):
    path = _scratch_path(suffix)
    return path, reader_ops.write_file(path, contents)


def _as_vector(scalar):
    """A string scalar as a 1-vector: Session.run returns a 0-d string as bytes, which the
    harness's np.asarray turns into a fixed-width |S array."""
    return tf.reshape(scalar, [1])


def _is_v2(reader):
    return reader.reader_ref.dtype == tf.resource


def _read_one(reader, contents, queue_v2=False):
    path, write = _written(contents)
    q, ready = _filename_queue([path], [write], queue_v2 or _is_v2(reader))
    with tf.control_dependencies([ready]):
        return _as_vector(reader.read(q)[1])


def _read_all(reader, contents, count=3):
    """All records (the contents hold `count`: the static shape the harness expects)."""
    path, write = _written(contents)
    q, ready = _filename_queue([path], [write], _is_v2(reader))
    with tf.control_dependencies([ready]):
        values = reader.read_up_to(q, 100)[1]
    values.set_shape([count])
    return values


def _bytes_input(make):
    def gen(rng, shape, dtype):
        return np.array(make(rng), dtype=object)
    gen.dtype = tf.string
    return gen


def _lines(rng):
    return "".join(f"line {k} {rng.integers(100)}\n" for k in range(3)).encode()


def _fixed(rng):
    return bytes(rng.integers(0, 256, 2 + 3 * 4 + 1).astype(np.uint8))


def _framed(rng):
    return b"".join(tf_record.encode_record(bytes([65 + k]) * (k + 1)) for k in range(3))


def _unframe(data):
    records, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        records.append(data[offset + 12:offset + 12 + length])
        offset += 16 + length
    return records


def _obj(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _counters(contents, wrap=lambda r: r):
    reader = wrap(reader_ops.FixedLengthRecordReader(4, header_bytes=2, footer_bytes=1))
    values = _read_all(reader, contents)
    with tf.control_dependencies([values]):
        produced = reader.num_records_produced()
        units = reader.num_work_units_completed()
    with tf.control_dependencies([produced, units]):
        reset = reader.reset()
    with tf.control_dependencies([reset]):
        after = reader.num_records_produced()
    return [produced, units, after]


def _whole_and_read_file(contents, wrap=lambda r: r):
    path, write = _written(contents)
    reader = wrap(reader_ops.WholeFileReader())
    q, ready = _filename_queue([path], [write], _is_v2(reader))
    with tf.control_dependencies([ready]):
        value = reader.read(q)[1]
        direct = reader_ops.read_file(path)
    return [_as_vector(value), _as_vector(direct)]


def _check_text_lines(spec):
    path = _scratch_path(".txt")
    with open(path, "wb") as f:
        f.write(b"header\r\nfirst\r\nsecond\nno newline")
    q, ready = _filename_queue([path])
    key, value = reader_ops.TextLineReader(skip_header_lines=1).read(q)
    with tf.Session() as sess:
        sess.run(ready)
        got = [sess.run([key, value]) for _ in range(3)]
        with pytest.raises(tf.errors.OutOfRangeError,
                           match="is closed and has insufficient elements"):
            sess.run(value)
    assert [v for _, v in got] == [b"first", b"second", b"no newline"]
    assert [k for k, _ in got] == [f"{path}:{n}".encode() for n in (2, 3, 4)]


def _check_fixed_length_hops(spec):
    path = _scratch_path(".bin")
    with open(path, "wb") as f:
        f.write(b"HH" + bytes(range(10)) + b"F")
    q, ready = _filename_queue([path])
    keys, values = reader_ops.FixedLengthRecordReader(
        4, header_bytes=2, footer_bytes=1, hop_bytes=3).read_up_to(q, 10)
    with tf.Session() as sess:
        sess.run(ready)
        k, v = sess.run([keys, values])
    assert v.tolist() == [bytes([0, 1, 2, 3]), bytes([3, 4, 5, 6]), bytes([6, 7, 8, 9])]
    assert k.tolist() == [f"{path}:{n}".encode() for n in range(3)]


def _check_tf_records_with_writer(spec):
    plain, zipped = _scratch_path(".tfr"), _scratch_path(".tfr.gz")
    with tf_record.TFRecordWriter(plain) as w:
        for r in (b"a", b"bb", b""):
            w.write(r)
    options = tf_record.TFRecordOptions(tf_record.TFRecordCompressionType.GZIP)
    with tf_record.TFRecordWriter(zipped, options) as w:
        w.write(b"zipped")
    q, ready = _filename_queue([plain])
    keys, values = reader_ops.TFRecordReader().read_up_to(q, 5)
    zq, zready = _filename_queue([zipped])
    zvalue = reader_ops.TFRecordReader(options=options).read(zq)[1]
    with tf.Session() as sess:
        sess.run([ready, zready])
        k, v = sess.run([keys, values])
        assert sess.run(zvalue) == b"zipped"
    assert v.tolist() == [b"a", b"bb", b""]
    assert k.tolist() == [f"{plain}:{o}".encode() for o in (0, 17, 35)]
    assert list(tf_record.tf_record_iterator(plain)) == v.tolist()


def _check_whole_file_keys_and_reset(spec):
    paths = [_scratch_path(".txt") for _ in range(2)]
    for k, path in enumerate(paths):
        with open(path, "wb") as f:
            f.write(b"1\n2\n3\n" if k == 0 else b"4\n")
    q, ready = _filename_queue(paths)
    whole = reader_ops.WholeFileReader()
    key, value = whole.read(q)
    lines = reader_ops.TextLineReader()
    line = lines.read(q)[1]
    with tf.Session() as sess:
        sess.run(ready)
        assert sess.run([key, value]) == [paths[0].encode(), b"1\n2\n3\n"]
        assert sess.run(line) == b"4"
        # A separate run: in the same run the count could be read before the read finishes.
        assert sess.run(lines.num_records_produced()) == 1
        sess.run(lines.reset())
        assert sess.run([lines.num_records_produced(),
                         lines.num_work_units_completed()]) == [0, 0]
        with pytest.raises(tf.errors.OutOfRangeError,
                           match="is closed and has insufficient elements"):  # no files left
            sess.run(line)


def _glob_pattern(rng):
    """Three files in a fresh directory, one that does not match; the pattern as bytes."""
    directory = _scratch_path("_glob")
    os.mkdir(directory)
    for name in [f"x{k}{rng.integers(1000)}.rec" for k in range(3)] + ["other.txt"]:
        with open(os.path.join(directory, name), "wb"):
            pass
    return os.path.join(directory, "*.rec").encode()


def _sorted_matches(pattern):
    import glob
    return _obj([p.encode() for p in sorted(glob.glob(pattern.item().decode()))])


def test_match_filenames_once_on_memory_urls():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for name in ("b.rec", "a.rec", "c.txt"):
        fs.pipe_file(f"/match_once/{name}", b"x")
    try:
        files = tf.train.match_filenames_once("memory://match_once/*.rec")
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            assert list(sess.run(files)) == [b"memory://match_once/a.rec",
                                             b"memory://match_once/b.rec"]
    finally:
        fs.rm("/match_once", recursive=True)


SPECS = [
    # Reshaped: the number of matches is only known at run time.
    OpSpec("MatchingFiles", lambda p: tf.reshape(reader_ops.matching_files(p), [3]),
           _sorted_matches, [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_glob_pattern), grad=()),
    OpSpec(("TextLineReader", "ReaderRead", "WriteFile"),
           lambda s: _read_one(reader_ops.TextLineReader(), s),
           lambda s: _obj([s.item().split(b"\n")[0]]), [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_lines), grad=(), check=_check_text_lines),
    OpSpec(("FixedLengthRecordReader", "ReaderReadUpTo"),
           lambda s: _read_all(reader_ops.FixedLengthRecordReader(4, header_bytes=2,
                                                                  footer_bytes=1), s),
           lambda s: _obj([s.item()[2 + 4 * k:6 + 4 * k] for k in range(3)]), [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_fixed), grad=(),
           check=_check_fixed_length_hops),
    OpSpec("TFRecordReader", lambda s: _read_all(reader_ops.TFRecordReader(), s),
           lambda s: _obj(_unframe(s.item())), [((),)], dtypes=[tf.string],
           inputs=_bytes_input(_framed), grad=(), check=_check_tf_records_with_writer),
    OpSpec(("WholeFileReader", "ReadFile"), _whole_and_read_file,
           lambda s: [s.reshape(1), s.reshape(1)], [((),)], dtypes=[tf.string],
           inputs=_bytes_input(_fixed),
           grad=(), check=_check_whole_file_keys_and_reset),
    OpSpec(("ReaderNumRecordsProduced", "ReaderNumWorkUnitsCompleted", "ReaderReset"),
           _counters, lambda s: [np.int64(3), np.int64(1), np.int64(0)], [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_fixed), grad=()),
    # TF >= 1.2's V2 ops (resource reader and queue handles): the same kernels.
    OpSpec(("TextLineReaderV2", "ReaderReadV2"),
           lambda s: _read_one(as_v2_reader(reader_ops.TextLineReader()), s),
           lambda s: _obj([s.item().split(b"\n")[0]]), [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_lines), grad=()),
    OpSpec(("FixedLengthRecordReaderV2", "ReaderReadUpToV2"),
           lambda s: _read_all(as_v2_reader(reader_ops.FixedLengthRecordReader(
               4, header_bytes=2, footer_bytes=1)), s),
           lambda s: _obj([s.item()[2 + 4 * k:6 + 4 * k] for k in range(3)]), [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_fixed), grad=()),
    OpSpec("TFRecordReaderV2", lambda s: _read_all(as_v2_reader(reader_ops.TFRecordReader()), s),
           lambda s: _obj(_unframe(s.item())), [((),)], dtypes=[tf.string],
           inputs=_bytes_input(_framed), grad=()),
    OpSpec("WholeFileReaderV2", lambda s: _whole_and_read_file(s, as_v2_reader),
           lambda s: [s.reshape(1), s.reshape(1)], [((),)], dtypes=[tf.string],
           inputs=_bytes_input(_fixed), grad=()),
    OpSpec(("ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2", "ReaderResetV2"),
           lambda s: _counters(s, as_v2_reader),
           lambda s: [np.int64(3), np.int64(1), np.int64(0)], [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_fixed), grad=()),
    # A V1 reader reading a V2 queue: FakeQueue names the queue in a V1 handle (TF's way).
    OpSpec("FakeQueue", lambda s: _read_one(reader_ops.TextLineReader(), s, queue_v2=True),
           lambda s: _obj([s.item().split(b"\n")[0]]), [((),)],
           dtypes=[tf.string], inputs=_bytes_input(_lines), grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


# ---- behaviour ----------------------------------------------------------------------------
def _write_files(tmp_path, contents):
    paths = []
    for i, text in enumerate(contents):
        path = tmp_path / f"part{i}.txt"
        path.write_bytes(text)
        paths.append(str(path))
    return paths


def test_reads_across_files_skipping_empty_ones_then_out_of_range(tmp_path):
    paths = _write_files(tmp_path, [b"a\nb\n", b"", b"c\n"])
    q, ready = _filename_queue(paths)
    reader = reader_ops.TextLineReader()
    value = reader.read(q)[1]
    with tf.Session() as sess:
        sess.run(ready)
        assert [sess.run(value) for _ in range(3)] == [b"a", b"b", b"c"]
        start = time.monotonic()
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed"):
            sess.run(value)
        assert time.monotonic() - start < 1.0
        assert sess.run(reader.num_work_units_completed()) == 3


def test_read_up_to_returns_a_partial_batch_at_the_end(tmp_path):
    paths = _write_files(tmp_path, [b"1\n2\n3\n", b"4\n5\n"])
    q, ready = _filename_queue(paths)
    values = reader_ops.TextLineReader().read_up_to(q, 4)[1]
    with tf.Session() as sess:
        sess.run(ready)
        assert sess.run(values).tolist() == [b"1", b"2", b"3", b"4"]
        assert sess.run(values).tolist() == [b"5"]
        with pytest.raises(tf.errors.OutOfRangeError,
                           match="is closed and has insufficient elements"):
            sess.run(values)


def test_missing_file_is_not_found(tmp_path):
    q, ready = _filename_queue([str(tmp_path / "nope.txt")])
    value = reader_ops.TextLineReader().read(q)[1]
    with tf.Session() as sess:
        sess.run(ready)
        with pytest.raises(tf.errors.NotFoundError, match="nope.txt"):
            sess.run(value)


def test_read_waiting_for_a_filename_times_out_and_is_withdrawn(tmp_path):
    (path,) = _write_files(tmp_path, [b"x\n"])
    q = data_flow_ops.FIFOQueue(3, tf.string, shapes=[[]])
    value = reader_ops.TextLineReader().read(q)[1]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DeadlineExceededError, match=r"\(ReaderRead\)"):
            sess.run(value, options=tf.RunOptions(timeout_in_ms=200))
        sess.run(q.enqueue(path))
        assert sess.run(q.size()) == 1  # the withdrawn read did not take the filename
        assert sess.run(value) == b"x"


def test_session_close_cancels_a_blocked_read():
    q = data_flow_ops.FIFOQueue(3, tf.string, shapes=[[]])
    value = reader_ops.TextLineReader().read(q)[1]
    sess = tf.Session()
    outcome = {}

    def read():
        try:
            sess.run(value)
        except Exception as e:  # noqa: BLE001 - inspected below
            outcome["error"] = e
    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.2)
    sess.close()
    thread.join(5)
    assert isinstance(outcome.get("error"), tf.errors.CancelledError)


def test_threads_sharing_a_reader_get_each_record_once(tmp_path):
    paths = _write_files(tmp_path, [b"".join(b"%d-%d\n" % (f, i) for i in range(40))
                                    for f in range(4)])
    q, ready = _filename_queue(paths)
    value = reader_ops.TextLineReader().read(q)[1]
    got, lock = [], threading.Lock()
    with tf.Session() as sess:
        sess.run(ready)

        def read():
            while True:
                try:
                    v = sess.run(value)
                except tf.errors.OutOfRangeError:
                    return
                with lock:
                    got.append(v)
        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert sorted(got) == sorted(b"%d-%d" % (f, i) for f in range(4) for i in range(40))


def test_reader_ops_have_tensorflow_names_and_attrs():
    reader = reader_ops.FixedLengthRecordReader(10, header_bytes=1)
    op = reader.reader_ref.op
    assert op.type == "FixedLengthRecordReader" and reader.reader_ref.dtype == tf.string_ref
    assert op.get_attr("record_bytes") == 10 and op.get_attr("header_bytes") == 1
    q = data_flow_ops.FIFOQueue(1, tf.string)
    key = reader.read(q)[0]
    assert key.op.type == "ReaderRead" and key.get_shape().ndims == 0
    assert reader_ops.TextLineReader().reader_ref.op.get_attr("skip_header_lines") == 0
