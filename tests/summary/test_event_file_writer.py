"""EventFileWriter: files TensorBoard can read, background flushing, clean shutdown."""
import os
import re
import socket
import threading
import time

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import event_file_loader

from tensorflux.framework import protos
from tensorflux.summary import event_file_writer


def _scalar_event(step, value, tag="loss"):
    summary = protos.Summary(value=[protos.Summary.Value(tag=tag, simple_value=value)])
    return protos.Event(wall_time=time.time(), step=step, summary=summary)


def _events(path):
    return list(event_file_loader.EventFileLoader(path).Load())


def _event_files(logdir):
    return sorted(os.path.join(logdir, f) for f in os.listdir(logdir) if "tfevents" in f)


def test_file_name_and_first_event(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path / "run"))
    writer.close()
    files = _event_files(writer.get_logdir())
    assert len(files) == 1 and files[0] == writer.path
    name = os.path.basename(files[0])
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\." + re.escape(socket.gethostname()),
                        name)
    assert abs(int(name.split(".")[3]) - time.time()) < 60
    (first,) = _events(files[0])
    assert first.file_version == "brain.Event:2"
    assert abs(first.wall_time - time.time()) < 60


def test_scalars_read_back_by_event_accumulator(tmp_path):
    with event_file_writer.EventFileWriter(str(tmp_path), max_queue=3) as writer:
        for step in range(50):
            writer.add_event(_scalar_event(step, step * 0.5))
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    scalars = acc.Scalars("loss")
    assert [s.step for s in scalars] == list(range(50))
    assert [s.value for s in scalars] == [step * 0.5 for step in range(50)]


def test_flush_makes_events_visible_while_open(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path), flush_secs=3600)
    writer.add_event(_scalar_event(7, 1.0))
    writer.add_event(protos.Event(step=8, session_log=protos.SessionLog(
        status=protos.SessionLog.START)))
    writer.flush()
    events = _events(writer.path)
    assert [e.step for e in events[1:]] == [7, 8]
    assert events[2].session_log.status == protos.SessionLog.START
    writer.close()


def test_background_thread_flushes_every_flush_secs(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path), flush_secs=0.1)
    writer.add_event(_scalar_event(1, 2.0))
    deadline = time.time() + 10
    while time.time() < deadline and len(_events(writer.path)) < 2:
        time.sleep(0.05)
    assert [e.step for e in _events(writer.path)] == [0, 1]
    writer.close()


def test_close_joins_daemon_thread_and_is_idempotent(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path))
    thread = writer._thread
    assert thread.daemon and thread.is_alive()
    writer.close()
    assert not thread.is_alive()
    writer.close()
    writer.add_event(_scalar_event(99, 1.0))  # ignored after close, no hang
    writer.flush()
    assert len(_events(writer.path)) == 1


def test_reopen_starts_a_new_file(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path), filename_suffix=".v2")
    writer.add_event(_scalar_event(1, 1.0))
    writer.close()
    first_path = writer.path
    writer.reopen()
    writer.add_event(_scalar_event(2, 2.0))
    writer.close()
    assert writer.path != first_path
    assert _event_files(str(tmp_path)) == [first_path, writer.path]  # name order = time order
    assert first_path.endswith(".v2") and ".v2" in writer.path
    assert [e.step for e in _events(first_path)] == [0, 1]
    assert [e.step for e in _events(writer.path)] == [0, 2]
    assert _events(writer.path)[0].file_version == "brain.Event:2"


def test_many_threads_adding_events(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path), max_queue=2)

    def add(base):
        for i in range(25):
            writer.add_event(_scalar_event(base + i, 0.0))

    threads = [threading.Thread(target=add, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    steps = sorted(e.step for e in _events(writer.path)[1:])
    assert steps == sorted(k * 100 + i for k in range(4) for i in range(25))


def test_add_event_requires_an_event(tmp_path):
    with event_file_writer.EventFileWriter(str(tmp_path)) as writer:
        with pytest.raises(TypeError, match="Summary"):
            writer.add_event(protos.Summary())


def test_write_failure_is_reported_without_hanging(tmp_path):
    writer = event_file_writer.EventFileWriter(str(tmp_path), max_queue=1)

    class BrokenFile:
        def write(self, data):
            raise OSError("disk full")

        def flush(self):
            pass

    writer._thread._file = BrokenFile()
    for step in range(5):  # more than max_queue: must not block
        writer.add_event(_scalar_event(step, 0.0))
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    with pytest.raises(OSError, match="disk full"):
        writer.close()
    assert not writer._thread.is_alive()
