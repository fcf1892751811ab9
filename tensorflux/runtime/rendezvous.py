"""Rendezvous: where a _Send leaves a tensor and the matching _Recv picks it up.

A key names one transfer of one step:

    src_device;src_incarnation;dst_device;tensor_name;frame_id:iter_id

e.g. "/job:localhost/replica:0/task:0/device:CPU:0;00a1b2c3d4e5f607;
/job:localhost/replica:0/task:0/device:CPU:1;layer1/MatMul:0;0:0". The incarnation is the
sending device's random 64-bit number, written as 16 hex digits.

`send` never blocks; `recv_async` calls back when the value is there (at once if it already
is); `recv` waits, with a timeout. `start_abort(error)` fails every pending and later call.
LocalRendezvous serves the devices of one process; the distributed runtime implements the same
interface over RPC.
"""
import collections
import threading

from tensorflux.framework import errors

ParsedKey = collections.namedtuple(
    "ParsedKey", ["src_device", "src_incarnation", "dst_device", "edge_name", "frame_id",
                  "iter_id"])


def create_key(src_device, src_incarnation, dst_device, tensor_name, frame_iter=(0, 0)):
    """The rendezvous key of one transfer (see the module docstring)."""
    frame_id, iter_id = frame_iter
    return (f"{src_device};{src_incarnation & 0xFFFFFFFFFFFFFFFF:016x};{dst_device};"
            f"{tensor_name};{frame_id}:{iter_id}")


def parse_key(key):
    """Splits a key into a ParsedKey; InvalidArgumentError naming the key if malformed."""
    parts = key.split(";")
    if len(parts) != 5:
        raise errors.InvalidArgumentError(
            None, None, f"Invalid rendezvous key {key!r}: required 5 ';'-separated fields "
                        "src_device;incarnation;dst_device;tensor_name;frame:iter, got "
                        f"{len(parts)}")
    src, inc, dst, name, frame_iter = parts
    frame, _, it = frame_iter.partition(":")
    try:
        return ParsedKey(src, int(inc, 16), dst, name, int(frame), int(it))
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"Invalid rendezvous key {key!r}: incarnation must be hex and "
                        f"frame:iter two integers, got {inc!r} and {frame_iter!r}") from None


class Rendezvous:
    """The interface: send(key, value, is_dead), recv_async(key, callback), recv(key, timeout).

    `callback(error, value, is_dead)` receives an OpError (value None) or the value.
    """

    create_key = staticmethod(create_key)
    parse_key = staticmethod(parse_key)

    def send(self, key, value, is_dead=False):
        raise NotImplementedError

    def recv_async(self, key, callback):
        raise NotImplementedError

    def start_abort(self, error):
        raise NotImplementedError

    def _cancel_wait(self, key, callback):
        """Withdraws a waiting `callback`; False if it has been (or is being) called."""
        raise NotImplementedError

    def recv(self, key, timeout=None):
        """Waits for the value of `key`: returns (value, is_dead).

        Raises:
          DeadlineExceededError: if `timeout` seconds pass first.
          OpError: the error the rendezvous was aborted with.
        """
        done = threading.Event()
        box = []

        def callback(error, value, is_dead):
            box.append((error, value, is_dead))
            done.set()
        self.recv_async(key, callback)
        if not done.wait(timeout) and self._cancel_wait(key, callback):
            raise errors.DeadlineExceededError(
                None, None, f"Timed out after {timeout}s waiting for rendezvous key {key!r}")
        done.wait()
        error, value, is_dead = box[0]
        if error is not None:
            raise error
        return value, is_dead


class LocalRendezvous(Rendezvous):
    """An in-process rendezvous: a table of sent values and of waiting receivers per key."""

    __slots__ = ("_lock", "_values", "_waiters", "_error")

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}   # key -> deque of (value, is_dead) nobody asked for yet
        self._waiters = {}  # key -> deque of callbacks waiting for a value
        self._error = None

    def send(self, key, value, is_dead=False):
        """Leaves `value` under `key` (or hands it to a waiting receiver); never blocks."""
        with self._lock:
            if self._error is not None:
                raise self._error
            waiters = self._waiters.get(key)
            if not waiters:
                self._values.setdefault(key, collections.deque()).append((value, is_dead))
                return
            callback = waiters.popleft()
            if not waiters:
                del self._waiters[key]
        callback(None, value, is_dead)

    def recv_async(self, key, callback):
        """Calls `callback(error, value, is_dead)` once `key` has a value (or on abort)."""
        with self._lock:
            error = self._error
            if error is None:
                values = self._values.get(key)
                if not values:
                    self._waiters.setdefault(key, collections.deque()).append(callback)
                    return
                value, is_dead = values.popleft()
                if not values:
                    del self._values[key]
        if error is not None:
            callback(error, None, False)
        else:
            callback(None, value, is_dead)

    def start_abort(self, error):
        """Fails every waiting receiver and every later send/recv with `error` (first wins)."""
        with self._lock:
            if self._error is not None:
                return
            self._error = error
            waiters = [cb for queue in self._waiters.values() for cb in queue]
            self._waiters.clear()
            self._values.clear()
        for callback in waiters:
            callback(error, None, False)

    def _cancel_wait(self, key, callback):
        with self._lock:
            waiters = self._waiters.get(key)
            if not waiters or callback not in waiters:
                return False
            waiters.remove(callback)
            if not waiters:
                del self._waiters[key]
            return True

    @property
    def aborted_with(self):
        return self._error

    def pending_keys(self):
        """Keys that receivers wait on (for error messages and tests)."""
        with self._lock:
            return sorted(self._waiters)
