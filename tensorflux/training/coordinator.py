"""Coordinator: lets threads stop together and reports the first exception (`tf.train.Coordinator`).

    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord=coord)
    try:
        while not coord.should_stop():
            sess.run(train_op)
    except tf.errors.OutOfRangeError:
        pass
    finally:
        coord.request_stop()
    coord.join(threads)
"""
import contextlib
import sys
import threading
import time

from tensorflux.framework import errors
from tensorflux.platform import tf_logging as logging

__all__ = ["Coordinator", "LooperThread"]


class Coordinator:
    """A stop flag shared by threads, with the first exception any of them reported."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads = set()

    def _filter_exception(self, ex):
        """exc_info for `ex` (an exception or exc_info tuple), None for a clean stop."""
        if ex is None:
            return None
        if isinstance(ex, tuple):
            exc_info = ex
        else:
            exc_info = (type(ex), ex, ex.__traceback__)
        if not isinstance(exc_info[1], BaseException):
            raise TypeError(f"ex must be an exception or an exc_info tuple, got {ex!r}")
        if isinstance(exc_info[1], self._clean_stop_exception_types):
            return None
        return exc_info

    def request_stop(self, ex=None):
        """Asks every thread to stop; `ex` (the first one given) is re-raised by join()."""
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                if ex is not None and self._exc_info_to_raise is None:
                    logging.error("Exception reported after join(): %s", ex[1])
                return
            if not self._stop_event.is_set():
                if ex is not None and self._exc_info_to_raise is None:
                    logging.info("Error reported to Coordinator: %s", ex[1])
                    self._exc_info_to_raise = ex
                self._stop_event.set()

    def clear_stop(self):
        """Clears the stop flag and the recorded exception (to start the threads again)."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            if self._stop_event.is_set():
                self._stop_event.clear()

    def should_stop(self):
        """True once a stop has been requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """A context manager that requests a stop with any exception raised inside it."""
        try:
            yield
        except BaseException:  # noqa: BLE001 - any exception stops the threads
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None):
        """Waits until a stop is requested (or `timeout` seconds); returns should_stop()."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread):
        """Adds a thread that join() will wait for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for `threads` (and registered ones) to end, then re-raises the first exception.

        Once a stop is requested the threads get `stop_grace_period_secs` to finish; if some
        are still alive then, RuntimeError names them (unless ignore_live_threads).
        """
        with self._lock:
            threads = set(threads or ()) | self._registered_threads
        threads = list(threads)
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(0.05):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            exc_info = self._exc_info_to_raise
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        if stragglers:
            message = f"Coordinator stopped with threads still running: {' '.join(stragglers)}"
            if not ignore_live_threads:
                raise RuntimeError(message)
            logging.info(message)

    @property
    def joined(self):
        return self._joined

    def raise_requested_exception(self):
        """Re-raises the exception given to request_stop, if any."""
        with self._lock:
            exc_info = self._exc_info_to_raise
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a LooperThread calling `target(*args, **kwargs)` every interval."""
        looper = LooperThread(self, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper


class LooperThread(threading.Thread):
    """A thread that runs `target` (or run_loop) every `timer_interval_secs` until stopped."""

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError(  # noqa: TRY004 - TensorFlow raises ValueError here
                f"'coord' argument must be a Coordinator: {coord!r}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        self._args = args or ()
        self._kwargs = kwargs or {}
        coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a LooperThread and returns it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(0.0, next_time - time.monotonic())):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        """Called once when the thread starts."""

    def stop_loop(self):
        """Called once when the thread stops."""

    def run_loop(self):
        """Called every interval; calls the target by default."""
        if self._target:
            self._target(*self._args, **self._kwargs)


def cancel_blocked_steps(coord, session, threads=(), after_secs=1.0, why="a stop"):
    """After a stop request: waits `after_secs` for `threads` and the coordinator's registered
    threads, then cancels the steps still running in `session` (a queue runner blocked on a
    queue or accumulator no one will fill), so joining them does not wait out a grace period
    (TensorFlow waits, 120 s by default, then gives up)."""
    with coord._lock:
        threads = list(threads or ()) + list(coord._registered_threads)
    deadline = time.monotonic() + after_secs
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    cancel = getattr(session, "cancel_running_steps", None)
    if cancel is not None and any(t.is_alive() for t in threads):
        cancel(errors.CancelledError(None, None, f"{why}: the step of a thread still running "
                                                 "was cancelled"))
