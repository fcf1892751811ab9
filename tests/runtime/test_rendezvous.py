"""Rendezvous keys and the local rendezvous: send never blocks, recv waits or calls back."""
import threading
import time

import pytest

import tensorflux as tf
from tensorflux.runtime import rendezvous
from tensorflux.runtime.rendezvous import LocalRendezvous, create_key, parse_key

pytestmark = pytest.mark.timeout(20)

SRC = "/job:localhost/replica:0/task:0/device:CPU:0"
DST = "/job:localhost/replica:0/task:0/device:CPU:1"


def test_key_format_and_round_trip():
    key = create_key(SRC, 0xABC, DST, "layer1/MatMul:0", (0, 0))
    assert key == f"{SRC};0000000000000abc;{DST};layer1/MatMul:0;0:0"
    parsed = parse_key(key)
    assert parsed == rendezvous.ParsedKey(SRC, 0xABC, DST, "layer1/MatMul:0", 0, 0)
    assert parse_key(create_key(SRC, 2 ** 63 + 5, DST, "x", (3, 17))).iter_id == 17
    assert create_key(SRC, -1, DST, "x").split(";")[1] == "f" * 16  # int64 attrs may be negative


@pytest.mark.parametrize("bad", ["a;b;c", f"{SRC};zz;{DST};x;0:0", f"{SRC};1;{DST};x;0"])
def test_malformed_keys_are_rejected(bad):
    with pytest.raises(tf.errors.InvalidArgumentError, match="rendezvous key"):
        parse_key(bad)


def test_send_first_then_recv():
    r = LocalRendezvous()
    r.send("k", 1)
    r.send("k", 2)  # never blocks; values queue per key
    assert r.recv("k", timeout=1) == (1, False)
    assert r.recv("k", timeout=1) == (2, False)


def test_recv_first_gets_a_callback_and_deadness():
    r = LocalRendezvous()
    got = []
    r.recv_async("k", lambda error, value, is_dead: got.append((error, value, is_dead)))
    assert got == [] and r.pending_keys() == ["k"]
    r.send("k", None, is_dead=True)
    assert got == [(None, None, True)]
    assert r.pending_keys() == []


def test_recv_waits_for_a_sender_in_another_thread():
    r = LocalRendezvous()
    threading.Timer(0.05, r.send, args=("k", "value")).start()
    assert r.recv("k", timeout=5) == ("value", False)


def test_recv_times_out_quickly():
    r = LocalRendezvous()
    start = time.monotonic()
    with pytest.raises(tf.errors.DeadlineExceededError, match="'k'"):
        r.recv("k", timeout=0.05)
    assert time.monotonic() - start < 2


def test_abort_fails_waiters_and_later_calls():
    r = LocalRendezvous()
    got = []
    r.recv_async("a", lambda error, value, is_dead: got.append(error))
    error = tf.errors.CancelledError(None, None, "cancelled")
    r.start_abort(error)
    r.start_abort(tf.errors.AbortedError(None, None, "second"))  # the first error wins
    assert got == [error]
    with pytest.raises(tf.errors.CancelledError, match="cancelled"):
        r.send("b", 1)
    with pytest.raises(tf.errors.CancelledError, match="cancelled"):
        r.recv("b", timeout=1)
    assert r.aborted_with is error


def test_keys_do_not_mix():
    r = LocalRendezvous()
    r.send(create_key(SRC, 1, DST, "x"), "x")
    r.send(create_key(SRC, 1, DST, "y"), "y")
    assert r.recv(create_key(SRC, 1, DST, "y"), timeout=1)[0] == "y"
    with pytest.raises(tf.errors.DeadlineExceededError,
                       match="Timed out after 0.01s waiting for rendezvous key"):
        r.recv(create_key(SRC, 2, DST, "x"), timeout=0.01)  # another incarnation


def test_a_timed_out_recv_leaves_the_rendezvous_usable():
    r = LocalRendezvous()
    with pytest.raises(tf.errors.DeadlineExceededError,
                       match="Timed out after 0.01s waiting for rendezvous key"):
        r.recv("k", timeout=0.01)
    assert r.pending_keys() == []
    r.send("k", 3)
    assert r.recv("k", timeout=1) == (3, False)
