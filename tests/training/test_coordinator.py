"""Coordinator: stop requests, exception reporting, join with a grace period, LooperThread."""
import threading
import time

import pytest

import tensorflux as tf
from tensorflux.training.coordinator import Coordinator, LooperThread

pytestmark = pytest.mark.timeout(30)


def _sleep_until_stop(coord):
    while not coord.should_stop():
        time.sleep(0.005)


def test_request_stop_stops_threads_and_join_returns():
    coord = Coordinator()
    threads = [threading.Thread(target=_sleep_until_stop, args=(coord,)) for _ in range(3)]
    for t in threads:
        t.start()
    assert not coord.should_stop()
    coord.request_stop()
    assert coord.should_stop() and coord.wait_for_stop(0)
    coord.join(threads, stop_grace_period_secs=5)
    assert not any(t.is_alive() for t in threads) and coord.joined


def test_join_reraises_the_first_exception():
    coord = Coordinator()

    def fail(message):
        with coord.stop_on_exception():
            raise ValueError(message)
    first = threading.Thread(target=fail, args=("first",))
    first.start()
    first.join()
    second = threading.Thread(target=fail, args=("second",))
    second.start()
    second.join()
    with pytest.raises(ValueError, match="first"):
        coord.join([first, second])


def test_out_of_range_is_a_clean_stop():
    coord = Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "done"))
    assert coord.should_stop()
    coord.join([])  # nothing raised
    custom = Coordinator(clean_stop_exception_types=(KeyError,))
    custom.request_stop(KeyError("k"))
    custom.join([])


def test_join_waits_until_threads_end_without_a_stop():
    coord = Coordinator()
    done = []
    thread = threading.Thread(target=lambda: (time.sleep(0.1), done.append(1)))
    thread.start()
    coord.join([thread])
    assert done == [1]


def test_join_names_threads_that_outlive_the_grace_period():
    coord = Coordinator()
    release = threading.Event()
    stubborn = threading.Thread(target=release.wait, name="stubborn", daemon=True)
    stubborn.start()
    coord.request_stop()
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="stubborn"):
        coord.join([stubborn], stop_grace_period_secs=0.2)
    assert time.monotonic() - start < 2
    release.set()


def test_registered_threads_are_joined_and_clear_stop_resets():
    coord = Coordinator()
    thread = threading.Thread(target=_sleep_until_stop, args=(coord,))
    coord.register_thread(thread)
    thread.start()
    coord.request_stop(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        coord.join()
    assert not thread.is_alive()
    coord.clear_stop()
    assert not coord.should_stop()
    coord.request_stop()
    coord.join()


def test_raise_requested_exception_and_exc_info():
    coord = Coordinator()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        coord.request_stop(sys.exc_info())
    with pytest.raises(RuntimeError, match="boom"):
        coord.raise_requested_exception()


def test_looper_thread_runs_until_stop():
    coord = Coordinator()
    calls = []
    looper = coord.loop(0.01, calls.append, args=(1,))
    time.sleep(0.1)
    coord.request_stop()
    coord.join([looper], stop_grace_period_secs=5)
    assert len(calls) >= 3
    with pytest.raises(ValueError, match="Coordinator"):
        LooperThread(object(), 1)
