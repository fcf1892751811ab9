"""A fork server for the kill -9 tests (test_kill9.py): imports tensorflux once, then forks one
writer process per request, so each of the many kills costs a fork rather than an import.

Protocol, one JSON object a line: {"mode": "v2"|"v1"|"events", "dir": ..., "seed": n} on
stdin -> the writer's pid on stdout; {"reap": pid} -> how it ended ("killed 9", "exit 0").
The writer appends a line to <dir>/progress after each whole checkpoint or flushed event, with
one os.write on an O_APPEND descriptor (the kernel keeps it whatever happens to the process).
The server is single-threaded, so forking it is safe; it exits when stdin closes.
"""
import json
import os
import sys

import numpy as np

import tensorflux as tf
from tensorflux.framework import tensor_util

NUM_VARS = 3
VAR_ELEMENTS = 1 << 17  # 512 KiB of float32 each: a save takes long enough to be cut


def _progress(directory):
    fd = os.open(os.path.join(directory, "progress"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    return lambda step: os.write(fd, f"{step}\n".encode())


def build_saver_graph(write_version):
    """Variables v0..v2 and a Saver; at step k, v_i holds k + i everywhere."""
    step = tf.placeholder(tf.float32, [], name="step")
    assigns = []
    for i in range(NUM_VARS):
        v = tf.Variable(tf.zeros([VAR_ELEMENTS]), name=f"v{i}")
        assigns.append(tf.assign(v, tf.fill([VAR_ELEMENTS], step + i)))
    saver = tf.train.Saver(max_to_keep=2, write_version=write_version)
    return step, tf.group(*assigns), saver


def save_forever(directory, write_version):
    done = _progress(directory)
    step, assign, saver = build_saver_graph(write_version)
    with tf.Session() as sess:
        for k in range(10 ** 9):
            sess.run(assign, {step: float(k)})
            saver.save(sess, os.path.join(directory, "model"), global_step=k)
            done(k)


def event_payload(step, rng_seed):
    """The tensor summary of event `step`, derived from the step alone: 500-4,000 bytes, and
    every fourth one 2 MB (a write that long is often cut by the kill, leaving a torn tail)."""
    size = (2 << 20) if step % 4 == 3 else 500 + (step * 7919 + rng_seed) % 3500
    return (np.arange(size, dtype=np.int64) * (step + 1) % 251).astype(np.uint8)


def write_events_forever(directory, seed):
    done = _progress(directory)
    writer = tf.summary.FileWriter(directory, flush_secs=3600)
    for k in range(10 ** 9):
        summary = tf.Summary()
        value = summary.value.add(tag="payload")
        value.tensor.CopyFrom(tensor_util.make_tensor_proto(event_payload(k, seed)))
        summary.value.add(tag="step", simple_value=float(k))
        writer.add_summary(summary, global_step=k)
        if k % 5 == 4:
            writer.flush()
            done(k)


def _child(request):
    directory = request["dir"]
    if request["mode"] == "events":
        write_events_forever(directory, request["seed"])
    else:
        version = tf.train.SaverDef.V1 if request["mode"] == "v1" else tf.train.SaverDef.V2
        save_forever(directory, version)


def main():
    for line in sys.stdin:
        request = json.loads(line)
        if "reap" in request:
            _, status = os.waitpid(request["reap"], 0)
            how = (f"killed {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit {os.WEXITSTATUS(status)}")
            print(how, flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _child(request)
                code = 0
            finally:
                os._exit(code)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
