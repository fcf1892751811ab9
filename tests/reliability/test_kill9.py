"""Crash safety: a process writing checkpoints (Saver V2 and V1) or event files is killed
with SIGKILL at 20 seeded random moments each. After each kill the `checkpoint` state file
parses, tf.train.latest_checkpoint names a whole checkpoint at least as new as the last save
that returned, and it restores with the right values; an event file reads up to its last
whole record (a torn tail record is dropped) and every record read is intact.

The writers are forked from one server process (kill9_child.py) that imported tensorflux once.
"""
import glob
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import tensor_util
from tensorflux.training.checkpoint_state import CheckpointState

import kill9_child

pytestmark = pytest.mark.timeout(120)

KILLS = 20
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def fork_server():
    env = dict(os.environ, PYTHONPATH=_ROOT, OPENBLAS_NUM_THREADS="1")
    server = subprocess.Popen([sys.executable, kill9_child.__file__], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    try:
        yield server
    finally:
        server.stdin.close()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


def _ask(server, request):
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    answer = server.stdout.readline()
    assert answer, "the fork server died"
    return answer.strip()


def _progress(directory):
    try:
        with open(os.path.join(directory, "progress")) as f:
            return [int(line) for line in f.read().split()]
    except FileNotFoundError:
        return []


def _kill_writer(server, mode, directory, seed, delay):
    """Starts a writer, waits `delay` seconds past its first whole save/flush, kills -9."""
    pid = int(_ask(server, {"mode": mode, "dir": directory, "seed": seed}))
    try:
        deadline = time.monotonic() + 30
        while not _progress(directory) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
    finally:
        os.kill(pid, 9)
        how = _ask(server, {"reap": pid})
    assert how == "killed 9", f"the writer ended before the kill: {how}"
    return _progress(directory)


def _restore_graph(write_version):
    graph = tf.Graph()
    with graph.as_default():
        _, _, saver = kill9_child.build_saver_graph(write_version)
        variables = tf.global_variables()
    return graph, saver, variables


def _check_checkpoints(directory, done, restore):
    graph, saver, variables = restore
    text = open(os.path.join(directory, "checkpoint"), "rb").read().decode("utf-8")
    state = CheckpointState.from_text(text)  # raises on a torn or garbled state file
    latest = tf.train.latest_checkpoint(directory)
    assert latest is not None and latest == os.path.join(directory, os.path.basename(
        state.model_checkpoint_path)), (latest, text)
    step = int(latest.rsplit("-", 1)[1])
    assert step >= done[-1], f"latest_checkpoint is step {step}, but save {done[-1]} returned"
    for path in state.all_model_checkpoint_paths:
        assert tf.train.checkpoint_exists(os.path.join(directory, os.path.basename(path)))
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, latest)
        values = sess.run(variables)
    for i, value in enumerate(values):
        np.testing.assert_array_equal(value, np.full_like(value, step + i))
    return step


@pytest.mark.parametrize("mode", ["v2", "v1"])
def test_kill9_during_saves(fork_server, tmp_path, mode):
    version = tf.train.SaverDef.V1 if mode == "v1" else tf.train.SaverDef.V2
    restore = _restore_graph(version)
    rng = random.Random(1100 + (mode == "v1"))
    for kill in range(KILLS):
        directory = str(tmp_path / f"kill{kill}")
        os.mkdir(directory)
        done = _kill_writer(fork_server, mode, directory, kill, rng.uniform(0.0, 0.25))
        assert done, "no save finished before the kill"
        _check_checkpoints(directory, done, restore)


def _check_events(directory, done, seed):
    files = glob.glob(os.path.join(directory, "events.out.tfevents.*"))
    assert len(files) == 1, files
    events = list(tf.train.summary_iterator(files[0]))  # no exception, torn tail or not
    assert events[0].file_version == "brain.Event:2"
    steps = []
    for event in events[1:]:
        values = {v.tag: v for v in event.summary.value}
        payload = tensor_util.MakeNdarray(values["payload"].tensor)
        np.testing.assert_array_equal(payload, kill9_child.event_payload(event.step, seed))
        assert values["step"].simple_value == event.step
        steps.append(event.step)
    assert steps == list(range(len(steps))), "an event was lost or repeated before the tail"
    assert len(steps) > done[-1], f"{len(steps)} events read, but flush {done[-1]} returned"
    whole = sum(len(e.SerializeToString()) + 16 for e in events)
    return os.path.getsize(files[0]) > whole  # a torn tail was dropped


def test_kill9_during_event_writes(fork_server, tmp_path):
    rng = random.Random(1102)
    torn = []
    for kill in range(KILLS):
        directory = str(tmp_path / f"kill{kill}")
        os.mkdir(directory)
        done = _kill_writer(fork_server, "events", directory, kill, rng.uniform(0.0, 0.2))
        assert done, "no flush finished before the kill"
        torn.append(_check_events(directory, done, kill))
    print(f"{sum(torn)} of {KILLS} event files ended in a torn record")


def test_summary_iterator_drops_a_torn_tail_at_every_cut(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        for k in range(3):
            writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="x", simple_value=k)]), k)
    path = glob.glob(str(tmp_path / "events.out.tfevents.*"))[0]
    data = open(path, "rb").read()
    events = list(tf.train.summary_iterator(path))
    whole = [e.step for e in events]
    record_start = len(data) - 16 - len(events[-1].SerializeToString())  # 12 + 4 framing bytes
    cut_path = str(tmp_path / "cut")
    for cut in range(record_start + 1, len(data)):
        with open(cut_path, "wb") as f:
            f.write(data[:cut])
        assert [e.step for e in tf.train.summary_iterator(cut_path)] == whole[:-1], cut
    # A damaged byte inside a whole record is still an error, not a silent stop.
    damaged = bytearray(data)
    damaged[record_start + 14] ^= 0xFF
    with open(cut_path, "wb") as f:
        f.write(bytes(damaged))
    with pytest.raises(tf.errors.DataLossError, match="Corrupted record"):
        list(tf.train.summary_iterator(cut_path))
