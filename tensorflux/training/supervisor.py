"""Supervisor: TF 0.9's training helper (`tf.train.Supervisor`).

    sv = tf.train.Supervisor(logdir="/tmp/run", is_chief=(task_index == 0))
    with sv.managed_session(server.target) as sess:
        while not sv.should_stop():
            sess.run(train_op)

The chief restores the latest checkpoint of `logdir` or initializes the model, writes the graph
and starts three services, each a Coordinator LooperThread: a checkpoint every
save_model_secs, the summary op every save_summaries_secs and the `global_step/sec` speed.
The other tasks wait until the model is ready. managed_session() stops and joins all threads
and closes the session when the block ends; an exception in the block or in a thread is
re-raised (OutOfRangeError, the end of the input, counts as a clean stop).
"""
import contextlib
import os
import time

from tensorflux.framework import dtypes
from tensorflux.framework import graph_io
from tensorflux.framework import meta_graph
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.ops import control_flow_ops
from tensorflux.ops import summary_ops
from tensorflux.ops import variables
from tensorflux.platform import tf_logging as logging
from tensorflux.summary.writer import FileWriter
from tensorflux.training import coordinator
from tensorflux.training import saver as saver_lib
from tensorflux.training import session_manager as session_manager_lib
from tensorflux.training import training_util

__all__ = ["Supervisor"]


class Supervisor:
    """Initializes or restores a model, runs the standard services and stops them cleanly.

    Arguments left at USE_DEFAULT are taken from the graph's collections (READY_OP, INIT_OP,
    LOCAL_INIT_OP, SAVERS, SUMMARY_OP, GLOBAL_STEP), else built as TF does; pass None to turn
    one off. The graph is finalized at the end of the constructor.
    """

    USE_DEFAULT = 0

    def __init__(self, graph=None, ready_op=USE_DEFAULT, ready_for_local_init_op=USE_DEFAULT,
                 is_chief=True, init_op=USE_DEFAULT, init_feed_dict=None,
                 local_init_op=USE_DEFAULT, logdir=None, summary_op=USE_DEFAULT,
                 saver=USE_DEFAULT, global_step=USE_DEFAULT, save_summaries_secs=120,
                 save_model_secs=600, recovery_wait_secs=30, stop_grace_secs=120,
                 checkpoint_basename="model.ckpt", session_manager=None,
                 summary_writer=USE_DEFAULT, init_fn=None):
        graph = graph if graph is not None else ops.get_default_graph()
        with graph.as_default():
            self._init_ready_op(ready_op, ready_for_local_init_op)
            self._init_init_op(init_op, init_feed_dict)
            self._init_local_init_op(local_init_op)
            self._init_saver(saver)
            self._init_summary_op(summary_op)
            self._init_global_step(global_step)
            self._meta_graph_def = meta_graph.export_meta_graph(
                graph=graph, saver_def=self._saver.saver_def if self._saver else None)
        self._graph = graph
        self._is_chief = is_chief
        self._coord = coordinator.Coordinator()
        self._recovery_wait_secs = recovery_wait_secs
        self._stop_grace_secs = stop_grace_secs
        self._init_fn = init_fn
        self._init_chief_attributes(is_chief, logdir, save_summaries_secs, save_model_secs,
                                    checkpoint_basename, summary_writer)
        self._session_manager = session_manager or session_manager_lib.SessionManager(
            local_init_op=self._local_init_op, ready_op=self._ready_op,
            ready_for_local_init_op=self._ready_for_local_init_op, graph=graph,
            recovery_wait_secs=recovery_wait_secs)
        self._verify_setup()
        graph.finalize()

    def _init_chief_attributes(self, is_chief, logdir, save_summaries_secs, save_model_secs,
                               checkpoint_basename, summary_writer):
        # Only the chief writes checkpoints and events; for others these stay None.
        self._logdir = self._save_summaries_secs = self._save_model_secs = None
        self._save_path = self._summary_writer = None
        self._graph_added_to_summary = False
        if not is_chief:
            return
        self._logdir = logdir
        self._save_summaries_secs = save_summaries_secs
        self._save_model_secs = save_model_secs
        if logdir:
            self._save_path = os.path.join(logdir, checkpoint_basename)
        if summary_writer is Supervisor.USE_DEFAULT:
            if logdir:
                self._summary_writer = FileWriter(logdir)
        else:
            self._summary_writer = summary_writer

    # ---- defaults ----------------------------------------------------------------------------
    @staticmethod
    def _get_first_op_from_collection(key):
        items = ops.get_collection(key)
        if len(items) > 1:
            logging.info("Found %d %s operations. Returning the first one.", len(items), key)
        return items[0] if items else None

    def _from_collection_or(self, value, key, default):
        """`value`, unless USE_DEFAULT: then the collection's first item or `default()`."""
        if value is not Supervisor.USE_DEFAULT:
            return value
        value = self._get_first_op_from_collection(key)
        if value is None:
            value = default()
            if value is not None:
                ops.add_to_collection(key, value)
        return value

    def _init_ready_op(self, ready_op, ready_for_local_init_op):
        self._ready_op = self._from_collection_or(ready_op, ops.GraphKeys.READY_OP,
                                                  variables.report_uninitialized_variables)
        # No default: a None ready_for_local_init_op runs local_init_op at once (TF 0.x).
        if ready_for_local_init_op is Supervisor.USE_DEFAULT:
            ready_for_local_init_op = self._get_first_op_from_collection(
                ops.GraphKeys.READY_FOR_LOCAL_INIT_OP)
        self._ready_for_local_init_op = ready_for_local_init_op

    def _init_init_op(self, init_op, init_feed_dict):
        self._init_op = self._from_collection_or(init_op, ops.GraphKeys.INIT_OP,
                                                 variables.global_variables_initializer)
        self._init_feed_dict = init_feed_dict

    def _init_local_init_op(self, local_init_op):
        self._local_init_op = self._from_collection_or(
            local_init_op, ops.GraphKeys.LOCAL_INIT_OP,
            lambda: control_flow_ops.group(
                variables.local_variables_initializer(),
                *ops.get_collection(ops.GraphKeys.TABLE_INITIALIZERS)))

    def _init_saver(self, saver):
        self._saver = self._from_collection_or(
            saver, ops.GraphKeys.SAVERS,
            lambda: saver_lib.Saver() if variables.global_variables() else None)

    def _init_summary_op(self, summary_op):
        self._summary_op = self._from_collection_or(summary_op, ops.GraphKeys.SUMMARY_OP,
                                                    summary_ops.merge_all)

    def _init_global_step(self, global_step):
        self._global_step = self._from_collection_or(global_step, ops.GraphKeys.GLOBAL_STEP,
                                                     self._default_global_step_tensor)

    @staticmethod
    def _default_global_step_tensor():
        try:
            step = ops.get_default_graph().get_tensor_by_name("global_step:0")
        except KeyError:
            return None
        if step.dtype.base_dtype in (dtypes.int32, dtypes.int64):
            return step
        logging.warning("Found 'global_step' is not an int type: %s", step.dtype)
        return None

    def _verify_setup(self):
        """Replicas share variables only if those live on a parameter server device."""
        if self._is_chief:
            return
        for op in self._graph.get_operations():
            if op.type in ("Variable", "VariableV2") and not op.device:
                raise ValueError(f"When using replicas, all Variables must have their device "
                                 f"set: {op.name} ({op.type}) has none")

    # ---- properties --------------------------------------------------------------------------
    is_chief = property(lambda self: self._is_chief)
    session_manager = property(lambda self: self._session_manager)
    coord = property(lambda self: self._coord)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    summary_writer = property(lambda self: self._summary_writer)
    summary_op = property(lambda self: self._summary_op)
    save_summaries_secs = property(lambda self: self._save_summaries_secs)
    global_step = property(lambda self: self._global_step)
    saver = property(lambda self: self._saver)
    save_model_secs = property(lambda self: self._save_model_secs)
    save_path = property(lambda self: self._save_path)

    # ---- sessions ----------------------------------------------------------------------------
    def prepare_or_wait_for_session(self, master="", config=None, wait_for_checkpoint=False,
                                    max_wait_secs=7200, start_standard_services=True):
        """The chief's initialized or restored session, or (others) one whose model is ready.

        Starts the standard services (chief) and the queue runners unless told not to.
        """
        # A session made again after stop() needs the coordinator's threads to run again.
        self._coord.clear_stop()
        if self._summary_writer:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master, init_op=self.init_op, saver=self.saver, checkpoint_dir=self._logdir,
                wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs,
                config=config, init_feed_dict=self._init_feed_dict, init_fn=self._init_fn)
            self._write_graph()
            if start_standard_services:
                logging.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(master, config=config,
                                                          max_wait_secs=max_wait_secs)
        if start_standard_services:
            logging.info("Starting queue runners.")
            self.start_queue_runners(sess)
        self._managed_sess = sess  # for stop(): cancelling the steps of threads left blocked
        return sess

    @contextlib.contextmanager
    def managed_session(self, master="", config=None, start_standard_services=True,
                        close_summary_writer=True):
        """A context manager yielding a prepared session; stops everything when it ends.

        An exception raised in the block is reported to the coordinator and re-raised by
        stop() once the threads are joined (OutOfRangeError is a clean stop); the session is
        closed last.
        """
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master, config=config, start_standard_services=start_standard_services)
            yield sess
        except Exception as e:  # noqa: BLE001 - stop() re-raises it after joining the threads
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    try:
                        sess.close()
                    except Exception:  # noqa: BLE001 - errors from close do not matter here
                        pass

    def _write_graph(self):
        """graph.pbtxt in logdir, and the graph and meta graph for TensorBoard, once."""
        if self._is_chief and self._logdir:
            graph_io.write_graph(self._graph.as_graph_def(add_shapes=True), self._logdir,
                                 "graph.pbtxt")
        if self._summary_writer and not self._graph_added_to_summary:
            self._summary_writer.add_graph(self._graph)
            self._summary_writer.add_meta_graph(self._meta_graph_def)
            self._graph_added_to_summary = True

    # ---- services ----------------------------------------------------------------------------
    def start_standard_services(self, sess):
        """Starts the checkpoint, summary and step-counter threads (chief only)."""
        if not self._is_chief:
            raise RuntimeError("Only chief supervisor can start standard services. Because "
                               "only chief supervisors can write events.")
        if not self._logdir:
            logging.warning("Standard services need a 'logdir' passed to the SessionManager")
            return []
        if self._global_step is not None and self._summary_writer:
            # TensorBoard uses the START step to drop events of an earlier, crashed run.
            step = training_util.global_step(sess, self._global_step)
            self._summary_writer.add_session_log(
                protos.SessionLog(status=protos.SessionLog.START), step)
        threads = []
        if self._save_summaries_secs and self._summary_writer:
            if self._summary_op is not None:
                threads.append(SVSummaryThread(self, sess))
            if self._global_step is not None:
                threads.append(SVStepCounterThread(self, sess))
        if self.saver and self._save_model_secs:
            threads.append(SVTimerCheckpointThread(self, sess))
        for t in threads:
            t.start()
        return threads

    def start_queue_runners(self, sess, queue_runners=None):
        """Starts the graph's queue runners under this supervisor's coordinator."""
        if queue_runners is None:
            queue_runners = self._graph.get_collection(ops.GraphKeys.QUEUE_RUNNERS)
        threads = []
        for qr in queue_runners:
            threads.extend(qr.create_threads(sess, coord=self._coord, daemon=True,
                                             start=True))
        return threads

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a LooperThread calling `target` every interval until the stop."""
        looper = coordinator.LooperThread(self._coord, timer_interval_secs, target=target,
                                          args=args, kwargs=kwargs)
        looper.start()
        return looper

    def stop(self, threads=None, close_summary_writer=True, ignore_live_threads=False):
        """Requests a stop, joins the threads (re-raising their first error), closes the
        summary writer."""
        self._coord.request_stop()
        try:
            coordinator.cancel_blocked_steps(self._coord, getattr(self, "_managed_sess", None),
                                             threads, why="Supervisor.stop()")
            self._coord.join(threads, stop_grace_period_secs=self._stop_grace_secs,
                             ignore_live_threads=ignore_live_threads)
        finally:
            # The writer closes last: a service thread may have been writing to it.
            if close_summary_writer and self._summary_writer:
                self._summary_writer.add_session_log(
                    protos.SessionLog(status=protos.SessionLog.STOP))
                self._summary_writer.close()
                self._graph_added_to_summary = False

    def request_stop(self, ex=None):
        self._coord.request_stop(ex=ex)

    def should_stop(self):
        return self._coord.should_stop()

    def stop_on_exception(self):
        return self._coord.stop_on_exception()

    def wait_for_stop(self):
        self._coord.wait_for_stop()

    def summary_computed(self, sess, summary, global_step=None):
        """Writes a summary the caller computed (at the current global step by default)."""
        if not self._summary_writer:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self.global_step is not None:
            global_step = training_util.global_step(sess, self.global_step)
        self._summary_writer.add_summary(summary, global_step)


class SVSummaryThread(coordinator.LooperThread):
    """Runs the summary op every save_summaries_secs and writes its result."""

    def __init__(self, sv, sess):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv = sv
        self._sess = sess

    def run_loop(self):
        if self._sv.global_step is not None:
            summary, step = self._sess.run([self._sv.summary_op, self._sv.global_step])
        else:
            summary, step = self._sess.run(self._sv.summary_op), None
        if self._sv.summary_writer:
            logging.info("Recording summary at step %s.", step)
            self._sv.summary_writer.add_summary(summary, step)


class SVStepCounterThread(coordinator.LooperThread):
    """Writes `<global step op name>/sec` every save_summaries_secs."""

    def __init__(self, sv, sess, step_counter=None):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv = sv
        self._sess = sess
        self._step_counter = step_counter if step_counter is not None else sv.global_step
        self._summary_tag = f"{self._step_counter.op.name}/sec"
        self._last_time = 0.0
        self._last_step = 0

    def start_loop(self):
        self._last_time = time.time()
        self._last_step = training_util.global_step(self._sess, self._step_counter)

    def run_loop(self):
        step = training_util.global_step(self._sess, self._step_counter)
        added_steps, self._last_step = step - self._last_step, step
        now = time.time()
        elapsed, self._last_time = now - self._last_time, now
        steps_per_sec = added_steps / elapsed if elapsed > 0 else float("inf")
        summary = protos.Summary(value=[protos.Summary.Value(tag=self._summary_tag,
                                                             simple_value=steps_per_sec)])
        if self._sv.summary_writer:
            self._sv.summary_writer.add_summary(summary, step)
        logging.log_first_n(logging.INFO, "%s: %g", 10, self._summary_tag, steps_per_sec)


class SVTimerCheckpointThread(coordinator.LooperThread):
    """Saves a checkpoint to save_path every save_model_secs (the first at once)."""

    def __init__(self, sv, sess):
        super().__init__(sv.coord, sv.save_model_secs)
        self._sv = sv
        self._sess = sess

    def run_loop(self):
        logging.info("Saving checkpoint to path %s", self._sv.save_path)
        self._sv.saver.save(self._sess, self._sv.save_path, global_step=self._sv.global_step)
        if self._sv.summary_writer and self._sv.global_step is not None:
            step = training_util.global_step(self._sess, self._sv.global_step)
            self._sv.summary_writer.add_session_log(
                protos.SessionLog(status=protos.SessionLog.CHECKPOINT,
                                  checkpoint_path=self._sv.save_path), step)
