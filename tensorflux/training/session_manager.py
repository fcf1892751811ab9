"""SessionManager: sessions that are initialized, restored or ready (`tf.train.SessionManager`).

The chief of a training cluster calls `prepare_session`: it restores the latest checkpoint if
there is one, else runs the init op; the other tasks call `wait_for_session`, which polls the
ready op (by default `report_uninitialized_variables()`, empty once every variable has a value)
until the chief has done its work. Readiness is a property of the variables a session sees, so
the same code works for a local `tf.Session()` and for one on a cluster target whose variables
live on parameter servers.

    sm = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = sm.prepare_session("", init_op=init, saver=saver, checkpoint_dir=logdir)  # chief
    sess = sm.wait_for_session("", max_wait_secs=600)                              # others
"""
import time

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.platform import tf_logging as logging
from tensorflux.runtime import session as session_lib
from tensorflux.training import checkpoint_state

__all__ = ["SessionManager"]


class SessionManager:
    """Creates sessions, restoring from checkpoints or initializing, or waiting for readiness.

    Args:
      local_init_op: run in every new session once `ready_for_local_init_op` passes (local
        variables, tables).
      ready_op: a 1-D string tensor naming what is not ready; empty (or None) means ready.
      ready_for_local_init_op: like ready_op, checked before running local_init_op.
      graph: the graph sessions run (default: the default graph).
      recovery_wait_secs: seconds between two readiness or checkpoint polls.
    """

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs=30):
        if graph is None:
            graph = ops.get_default_graph()
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError(f"If you pass a ready_for_local_init_op you must also pass a "
                             f"local_init_op , ready_for_local_init_op "
                             f"[{ready_for_local_init_op}]")
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph
        self._recovery_wait_secs = recovery_wait_secs
        self._target = None

    # ---- the three ways to get a session -------------------------------------------------------
    def prepare_session(self, master, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None, init_feed_dict=None, init_fn=None):
        """A session whose model is ready: restored from a checkpoint, else initialized.

        Returns:
          A Session.
        Raises:
          RuntimeError: if the model cannot be initialized or is not ready afterwards.
        """
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        try:
            self._initialize_unless_restored(sess, restored, init_op, init_feed_dict, init_fn)
        except BaseException:
            _safe_close(sess)
            raise
        return sess

    def _initialize_unless_restored(self, sess, restored, init_op, init_feed_dict, init_fn):
        if not restored:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or "
                                   "local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        local_init_ok, msg = self._try_run_local_init_op(sess)
        if not local_init_ok:
            raise RuntimeError(f"Init operations did not make model ready for local_init. "
                               f"Init op: {_op_name(init_op)}, init fn: {init_fn}, error: {msg}")
        ready, msg = self._model_ready(sess)
        if not ready:
            raise RuntimeError(f"Init operations did not make model ready. Init op: "
                               f"{_op_name(init_op)}, init fn: {init_fn}, local_init_op: "
                               f"{self._local_init_op}, error: {msg}")

    def recover_session(self, master, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None):
        """A session restored from a checkpoint if one exists, and whether it is ready.

        Returns:
          (sess, initialized): initialized is True only if the restore made the model ready.
        """
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        # The local init op runs whether or not a checkpoint was found (TF does the same).
        local_init_ok, msg = self._try_run_local_init_op(sess)
        if not restored:
            return sess, False
        source = checkpoint_dir or checkpoint_filename_with_path
        if not local_init_ok:
            logging.info("Restoring model from %s did not make model ready for local init: %s",
                         source, msg)
            return sess, False
        ready, msg = self._model_ready(sess)
        if not ready:
            logging.info("Restoring model from %s did not make model ready: %s", source, msg)
            return sess, False
        logging.info("Restored model from %s", source)
        return sess, True

    def wait_for_session(self, master, config=None, max_wait_secs=float("inf")):
        """Creates sessions until one sees a ready model (another task initialized it).

        Each try opens a new session (on a cluster, the model may appear on restarted tasks),
        runs the local init op when allowed, and checks the ready op; between tries it sleeps
        recovery_wait_secs.

        Raises:
          DeadlineExceededError: if the model is not ready within max_wait_secs.
        """
        self._target = master
        if max_wait_secs is None:
            max_wait_secs = float("inf")
        deadline = time.monotonic() + max_wait_secs
        while True:
            sess = session_lib.Session(master, graph=self._graph, config=config)
            not_ready_msg = None
            try:
                local_init_ok, not_ready_msg = self._try_run_local_init_op(sess)
                if local_init_ok:
                    ready, not_ready_msg = self._model_ready(sess)
                    if ready:
                        return sess
            except BaseException:
                _safe_close(sess)
                raise
            _safe_close(sess)
            if deadline - time.monotonic() - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(
                    None, None, f"Session was not ready after waiting {max_wait_secs} secs. "
                                f"Last readiness check: {not_ready_msg}")
            logging.info("Waiting for model to be ready. %s", not_ready_msg)
            time.sleep(self._recovery_wait_secs)

    # ---- helpers -----------------------------------------------------------------------------
    def _restore_checkpoint(self, master, saver=None, checkpoint_dir=None,
                            checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                            max_wait_secs=7200, config=None):
        """A new session and whether a checkpoint was restored into it."""
        self._target = master
        sess = session_lib.Session(master, graph=self._graph, config=config)
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        try:
            return sess, self._restore_into(sess, saver, checkpoint_dir,
                                            checkpoint_filename_with_path, wait_for_checkpoint,
                                            max_wait_secs)
        except BaseException:
            _safe_close(sess)
            raise

    def _restore_into(self, sess, saver, checkpoint_dir, checkpoint_filename_with_path,
                      wait_for_checkpoint, max_wait_secs):
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return True
        waited = 0
        ckpt = checkpoint_state.get_checkpoint_state(checkpoint_dir)
        while not ckpt or not ckpt.model_checkpoint_path:
            if not wait_for_checkpoint or waited >= max_wait_secs:
                return False
            logging.info("Waiting for checkpoint to be available.")
            time.sleep(self._recovery_wait_secs)
            waited += self._recovery_wait_secs
            ckpt = checkpoint_state.get_checkpoint_state(checkpoint_dir)
        saver.restore(sess, ckpt.model_checkpoint_path)
        saver.recover_last_checkpoints(list(ckpt.all_model_checkpoint_paths))
        return True

    def _try_run_local_init_op(self, sess):
        """(True, None) once the local init op ran (or there is none), else (False, why)."""
        if self._local_init_op is None:
            return True, None
        ready, msg = _ready(self._ready_for_local_init_op, sess,
                            "Model not ready for local init")
        if not ready:
            return False, msg
        logging.info("Running local_init_op.")
        sess.run(self._local_init_op)
        return True, None

    def _model_ready(self, sess):
        return _ready(self._ready_op, sess, "Model not ready")

    def _model_ready_for_local_init(self, sess):
        return _ready(self._ready_for_local_init_op, sess, "Model not ready for local init")


def _ready(op, sess, msg):
    """(True, None) if `op` reports nothing uninitialized, else (False, a message naming it).

    A ready op returns the names of what is not ready (empty when ready). An op that itself
    reads an uninitialized variable fails with FailedPreconditionError: that means "not ready"
    too; any other error is real and propagates.
    """
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            logging.warning("%s: %s", msg, e)
            raise
        return False, str(e)
    if value is None or np.asarray(value).dtype == np.int32 or np.asarray(value).size == 0:
        return True, None
    names = ", ".join(_as_text(v) for v in np.asarray(value).ravel())
    return False, f"Variables not initialized: {names}"


def _as_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _op_name(op):
    return getattr(op, "name", op)


def _safe_close(sess):
    try:
        sess.close()
    except Exception:  # noqa: BLE001 - the session is being dropped; its errors do not matter
        pass
