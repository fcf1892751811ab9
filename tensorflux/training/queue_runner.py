"""QueueRunner: threads that keep running a queue's enqueue ops (`tf.train.QueueRunner`).

Each enqueue op gets its own thread, which runs it in a loop until the coordinator asks for a
stop or the op reports that its input is exhausted (OutOfRangeError: e.g. limit_epochs ran
out, or it reads from a closed queue). When the last thread of a runner ends that way, the
runner closes its queue, so consumers drain it and then get OutOfRangeError. A stop request
runs `cancel_op` (close with cancel_pending_enqueues), which wakes threads blocked on a full
queue.
"""
import threading
import weakref

from tensorflux.framework import errors, ops
from tensorflux.platform import tf_logging as logging

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]


class QueueRunner:
    """Holds a queue's enqueue ops and starts a thread per op to run them."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, name=None):
        if queue_runner_def is not None:
            raise NotImplementedError("QueueRunner(queue_runner_def=...) is not supported by "
                                      "tensorflux: build the runner from its queue and ops")
        if queue is None or not enqueue_ops:
            raise ValueError(f"QueueRunner requires a queue and a non-empty list of enqueue "
                             f"ops, got queue={queue!r}, enqueue_ops={enqueue_ops!r}")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(
            cancel_pending_enqueues=True)
        if queue_closed_exception_types is None:
            queue_closed_exception_types = (errors.OutOfRangeError,)
        self._queue_closed_exception_types = tuple(queue_closed_exception_types)
        self._name = name or queue.name
        self._lock = threading.Lock()
        self._runs_per_session = weakref.WeakKeyDictionary()
        self._exceptions_raised = []

    queue = property(lambda self: self._queue)
    enqueue_ops = property(lambda self: self._enqueue_ops)
    close_op = property(lambda self: self._close_op)
    cancel_op = property(lambda self: self._cancel_op)
    queue_closed_exception_types = property(lambda self: self._queue_closed_exception_types)
    name = property(lambda self: self._name, doc="The name of the runner (its queue's).")

    @property
    def exceptions_raised(self):
        """Exceptions the threads raised (when they ran without a coordinator)."""
        return self._exceptions_raised

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """One thread per enqueue op (plus one that cancels on stop, with a coordinator).

        Returns [] if threads for `sess` are still running from an earlier call.
        """
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self._name}-{op.name}")
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, coord),
                                            name=f"QueueRunnerCloser-{self._name}"))
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            t.daemon = daemon
            if start:
                t.start()
        return threads

    def _run(self, sess, enqueue_op, coord):
        """Runs `enqueue_op` until a stop, the end of its input, or an error."""
        decremented = False
        try:
            while not (coord is not None and coord.should_stop()):
                try:
                    sess.run(enqueue_op)
                except self._queue_closed_exception_types:
                    decremented = True
                    self._last_run_closes(sess)
                    return
        except Exception as e:
            if coord is not None:
                coord.request_stop(e)
            else:
                logging.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] = self._runs_per_session.get(sess, 1) - 1

    def _last_run_closes(self, sess):
        with self._lock:
            self._runs_per_session[sess] -= 1
            last = self._runs_per_session[sess] == 0
        if last:
            try:
                sess.run(self._close_op)
            except Exception as e:  # noqa: BLE001 - errors from close are ignored, as in TF
                logging.vlog(1, "Ignored exception: %s", e)

    def _close_on_stop(self, sess, coord):
        """Waits for a stop request, then cancels the queue (waking blocked enqueues)."""
        coord.wait_for_stop()
        try:
            sess.run(self._cancel_op)
        except Exception as e:  # noqa: BLE001
            logging.vlog(1, "Ignored exception: %s", e)


def add_queue_runner(qr, collection=ops.GraphKeys.QUEUE_RUNNERS):
    """Adds `qr` to the graph collection `collection` (start_queue_runners starts them)."""
    ops.add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection=ops.GraphKeys.QUEUE_RUNNERS):
    """Starts the threads of every QueueRunner in `collection`; returns the threads."""
    if sess is None:
        sess = ops.get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    with sess.graph.as_default():
        threads = []
        for qr in ops.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
