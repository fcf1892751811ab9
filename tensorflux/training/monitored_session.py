"""MonitoredSession: a session with hooks, queue runners and recovery (TF 1.0's `tf.train.*`).

A MonitoredSession is a stack of wrappers around a plain Session, each with one job:

    _RecoverableSession    on AbortedError/UnavailableError, closes the session, builds a new
                           one through the session creator and runs the same call again
     _CoordinatedSession   owns the Coordinator of the queue-runner threads; stops and joins
                           them on close
      _HookedSession       merges the hooks' fetches/feeds/options into each run and hands
                           them their values; a hook's request_stop makes should_stop() True
       Session             created by ChiefSessionCreator (initialize or restore) or
                           WorkerSessionCreator (wait until the chief has)

Recovery re-runs the failed call, as TF does: the step that raised was not applied by the
session that failed (its state is gone or rolled back to the chief's last checkpoint), so the
caller's `run` returns the result of one complete step on the new session. Steps since the last
checkpoint are lost; the global step shows it.
"""
import sys

from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.ops import control_flow_ops
from tensorflux.ops import summary_ops
from tensorflux.ops import variables
from tensorflux.platform import tf_logging as logging
from tensorflux.training import coordinator
from tensorflux.training import queue_runner
from tensorflux.training import saver as saver_lib
from tensorflux.training import session_manager as sm
from tensorflux.training.basic_session_run_hooks import (
    CheckpointSaverHook, StepCounterHook, SummarySaverHook)
from tensorflux.training.session_run_hook import SessionRunArgs, SessionRunContext, \
    SessionRunValues

__all__ = ["Scaffold", "SessionCreator", "ChiefSessionCreator", "WorkerSessionCreator",
           "MonitoredSession", "SingularMonitoredSession", "MonitoredTrainingSession"]

# A parameter server or worker restarted: the session is lost, a new one can go on.
_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)


class Scaffold:
    """The ops a training session needs (init, ready, local init, summary, saver).

    Missing ones are taken from their graph collection (INIT_OP, READY_OP, ...) at finalize(),
    else built as TF does and added to it: global_variables_initializer(),
    report_uninitialized_variables(), report_uninitialized_variables(global_variables()),
    group(local_variables_initializer(), table initializers), merge_all() and a sharded Saver.
    finalize() then finalizes the graph.
    """

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None):
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        # TF calls init_fn(scaffold, session); SessionManager calls it with the session only.
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._summary_op = summary_op
        self._saver = saver
        self._graph = None

    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)
    graph = property(lambda self: self._graph, doc="The graph finalize() finalized.")

    def finalize(self):
        """Fills in the missing ops and finalizes the graph; a second call does nothing."""
        if self._graph is not None:
            return self
        get = Scaffold.get_or_default
        if self._init_op is None:
            self._init_op = get("init_op", ops.GraphKeys.INIT_OP,
                                variables.global_variables_initializer)
        if self._ready_op is None:
            self._ready_op = get("ready_op", ops.GraphKeys.READY_OP,
                                 variables.report_uninitialized_variables)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = get(
                "ready_for_local_init_op", ops.GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: variables.report_uninitialized_variables(variables.global_variables()))
        if self._local_init_op is None:
            self._local_init_op = get("local_init_op", ops.GraphKeys.LOCAL_INIT_OP,
                                      _default_local_init_op)
        if self._summary_op is None:
            self._summary_op = get("summary_op", ops.GraphKeys.SUMMARY_OP,
                                   summary_ops.merge_all)
        if self._saver is None:
            self._saver = _get_saver_or_default()
        self._saver.build()
        self._graph = ops.get_default_graph()
        self._graph.finalize()
        return self

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The single item of a collection, else `default_constructor()` (added to it)."""
        elements = ops.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f"More than one item in the collection \"{collection_key}\"."
                                   f" Please indicate which one to use by passing it to the "
                                   f"tf.Scaffold constructor as: tf.Scaffold({arg_name}=item "
                                   f"to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            ops.add_to_collection(collection_key, op)
        return op


def _default_local_init_op():
    return control_flow_ops.group(variables.local_variables_initializer(),
                                  *ops.get_collection(ops.GraphKeys.TABLE_INITIALIZERS))


def _get_saver_or_default():
    savers = ops.get_collection(ops.GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {ops.GraphKeys.SAVERS}. "
                               f"Please indicate which one to use by passing it to the "
                               f"constructor.")
        return savers[0]
    saver = saver_lib.Saver(sharded=True, allow_empty=True)
    ops.add_to_collection(ops.GraphKeys.SAVERS, saver)
    return saver


# ---- session creators --------------------------------------------------------------------------
class SessionCreator:
    """Makes a tf.Session; MonitoredSession calls it at start and after each preemption."""

    def create_session(self):
        raise NotImplementedError(f"create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """Restores the latest checkpoint of `checkpoint_dir` if there is one, else initializes."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config

    def _get_session_manager(self):
        if self._session_manager is None:
            self._session_manager = _session_manager_for(self._scaffold)
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path,
            config=self._config, init_op=self._scaffold.init_op,
            init_feed_dict=self._scaffold.init_feed_dict, init_fn=self._scaffold.init_fn)


class WorkerSessionCreator(SessionCreator):
    """Waits (up to max_wait_secs) until the chief has initialized or restored the model."""

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs

    def create_session(self):
        self._scaffold.finalize()
        if self._session_manager is None:
            self._session_manager = _session_manager_for(self._scaffold)
        return self._session_manager.wait_for_session(
            self._master, config=self._config, max_wait_secs=self._max_wait_secs)


_READY_POLL_SECS = 1.0


def _session_manager_for(scaffold):
    # Workers poll the model's readiness every second (TensorFlow's SessionManager default is
    # 30 s): after a parameter server restarts, training resumes as soon as the chief has
    # restored, for the price of one small step per second while waiting.
    return sm.SessionManager(local_init_op=scaffold.local_init_op, ready_op=scaffold.ready_op,
                             ready_for_local_init_op=scaffold.ready_for_local_init_op,
                             graph=scaffold.graph, recovery_wait_secs=_READY_POLL_SECS)


# ---- the wrappers ------------------------------------------------------------------------------
class _WrappedSession:
    """Forwards to an inner session; should_stop() asks every layer."""

    def __init__(self, sess):
        self._sess = sess
        self._wrapped_is_stoppable = isinstance(sess, _WrappedSession)

    graph = property(lambda self: self._sess.graph)
    sess_str = property(lambda self: self._sess.sess_str)

    def should_stop(self):
        if self._check_stop():
            return True
        if self._sess:
            return self._wrapped_is_stoppable and self._sess.should_stop()
        return True

    def _check_stop(self):
        return False

    def close(self):
        if self._sess:
            try:
                self._sess.close()
            except _PREEMPTION_ERRORS:
                pass  # the session is lost anyway
            finally:
                self._sess = None

    def run(self, *args, **kwargs):
        return self._sess.run(*args, **kwargs)


class _RecoverableSession(_WrappedSession):
    """Recreates the session after AbortedError/UnavailableError and re-runs the call."""

    def __init__(self, sess_creator):
        self._sess_creator = sess_creator
        super().__init__(self._create_session())

    def _create_session(self):
        while True:
            try:
                return self._sess_creator.create_session()
            except _PREEMPTION_ERRORS as e:
                logging.warning("An error was raised while a session was being created. This may "
                             "be due to a preemption of a connected worker or parameter "
                             "server. A new session will be created. Error: %s", e)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run(fetches, feed_dict=feed_dict, options=options,
                                      run_metadata=run_metadata)
            except _PREEMPTION_ERRORS as e:
                logging.warning("An error was raised. This may be due to a preemption in a "
                             "connected worker or parameter server. The current session will "
                             "be closed and a new session will be created. Error: %s", e)
                self.close()


class _CoordinatedSession(_WrappedSession):
    """Stops when the coordinator says so; close() stops and joins its threads."""

    def __init__(self, sess, coord, stop_grace_period_secs=120):
        super().__init__(sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self):
        return self._coord.should_stop()

    def close(self):
        self._coord.request_stop()
        try:
            sess = self._sess
            while isinstance(sess, _WrappedSession):
                sess = sess._sess
            coordinator.cancel_blocked_steps(self._coord, sess,
                                             why="The monitored session is closing")
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs,
                             ignore_live_threads=True)
        finally:
            try:
                _WrappedSession.close(self)
            except Exception:  # noqa: BLE001 - the threads' error (if any) is the one to raise
                pass

    def run(self, *args, **kwargs):
        try:
            return self._sess.run(*args, **kwargs)
        except _PREEMPTION_ERRORS:
            raise
        except Exception:
            # A queue-runner thread may have hit the preemption first and made this step
            # fail differently (e.g. a closed queue): raise the root cause then.
            original = sys.exc_info()
            try:
                self._coord.raise_requested_exception()
            except _PREEMPTION_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - other thread errors: keep the caller's own
                pass
            raise original[1].with_traceback(original[2])


class _HookedSession(_WrappedSession):
    """Runs the caller's fetches together with what the hooks ask for."""

    def __init__(self, sess, hooks):
        super().__init__(sess)
        self._hooks = hooks
        self._should_stop = False

    def _check_stop(self):
        return self._should_stop

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches = {"caller": fetches}
        run_context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict),
                                        session=self._sess)
        merged_options = protos.RunOptions()
        if options is not None:
            merged_options.CopyFrom(options)
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict,
                                               merged_options)
        # The plain session's fast path needs options=None; pass them only when they say
        # something.
        pass_options = options is not None or merged_options != protos.RunOptions()
        if run_metadata is None and merged_options.trace_level > 0:
            run_metadata = protos.RunMetadata()
        outputs = _WrappedSession.run(self, actual_fetches, feed_dict=feed_dict,
                                      options=merged_options if pass_options else None,
                                      run_metadata=run_metadata)
        values_metadata = run_metadata if run_metadata is not None else protos.RunMetadata()
        for hook in self._hooks:
            hook.after_run(run_context, SessionRunValues(results=outputs.get(hook),
                                                         options=merged_options,
                                                         run_metadata=values_metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _call_hook_before_run(self, run_context, fetch_dict, user_feed_dict, options):
        hook_feeds = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                fetch_dict[hook] = request.fetches
            if request.feed_dict:
                _raise_if_feeds_intersect(hook_feeds, request.feed_dict,
                                          "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
            if request.options:
                _merge_run_options(options, request.options)
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        _raise_if_feeds_intersect(user_feed_dict, hook_feeds,
                                  "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds


def _raise_if_feeds_intersect(feeds1, feeds2, message):
    common = set(feeds1.keys()) & set(feeds2.keys())
    if common:
        raise RuntimeError(f"{message} Conflict(s): {sorted(str(c) for c in common)}")


def _merge_run_options(options, incoming):
    """The most detailed trace, the longest deadline, partition graphs if anyone asks."""
    options.trace_level = max(options.trace_level, incoming.trace_level)
    options.timeout_in_ms = max(options.timeout_in_ms, incoming.timeout_in_ms)
    options.output_partition_graphs |= incoming.output_partition_graphs


# ---- the public sessions -----------------------------------------------------------------------
class _CoordinatedSessionCreator:
    """Makes the session, starts its queue runners, tells the hooks; wraps it all."""

    def __init__(self, session_creator, hooks, stop_grace_period_secs):
        self._session_creator = session_creator
        self._hooks = hooks
        self._stop_grace_period_secs = stop_grace_period_secs
        self.coord = None
        self.tf_sess = None

    def create_session(self):
        self.tf_sess = self._session_creator.create_session()
        # No exception type is a clean stop here: the monitored session raises them all.
        self.coord = coordinator.Coordinator(clean_stop_exception_types=[])
        coordinated = _CoordinatedSession(_HookedSession(self.tf_sess, self._hooks), self.coord,
                                          self._stop_grace_period_secs)
        try:
            queue_runner.start_queue_runners(sess=self.tf_sess, coord=self.coord)
            for hook in self._hooks:
                hook.after_create_session(self.tf_sess, self.coord)
        except BaseException:
            # A hook failed (a preemption, say): stop the threads already started.
            try:
                coordinated.close()
            except Exception:  # noqa: BLE001 - the hook's error is the one to raise
                pass
            raise
        return coordinated


class _MonitoredSession:
    """What MonitoredSession and SingularMonitoredSession share."""

    def __init__(self, session_creator, hooks, should_recover, stop_grace_period_secs=120):
        self._graph = ops.get_default_graph()
        self._graph_was_finalized = self._graph.finalized
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            hook.begin()
        self._coordinated_creator = _CoordinatedSessionCreator(
            session_creator or ChiefSessionCreator(), self._hooks, stop_grace_period_secs)
        if should_recover:
            self._sess = _RecoverableSession(self._coordinated_creator)
        else:
            self._sess = self._coordinated_creator.create_session()

    @property
    def graph(self):
        return self._graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs one step with the hooks (see the module docstring for recovery)."""
        if self._sess is None:
            raise RuntimeError("Attempted to use a closed MonitoredSession.")
        return self._sess.run(fetches, feed_dict=feed_dict, options=options,
                              run_metadata=run_metadata)

    def should_stop(self):
        return self._sess.should_stop() if self._sess else True

    def close(self):
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        # The end of the input is a normal end of training: it is swallowed.
        return exception_type is None

    def _close_internal(self, exception_type=None):
        if self._sess is None:
            return
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._coordinated_creator.tf_sess)
        finally:
            try:
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess = None
                self._coordinated_creator.coord = None
                if not self._graph_was_finalized:
                    self._graph._unsafe_unfinalize()

    def _tf_sess(self):
        return self._coordinated_creator.tf_sess


class MonitoredSession(_MonitoredSession):
    """A session that runs hooks, starts queue runners and recovers from preemptions.

        with tf.train.MonitoredSession(session_creator=ChiefSessionCreator(...),
                                       hooks=[StopAtStepHook(last_step=1000)]) as sess:
            while not sess.should_stop():
                sess.run(train_op)
    """

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True,
                         stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A MonitoredSession for one process: a chief session, no recovery; raw_session()."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                      checkpoint_dir=checkpoint_dir)
        super().__init__(creator, hooks, should_recover=False,
                         stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        """The tf.Session inside (running it skips the hooks)."""
        return self._tf_sess()


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None,  # noqa: N802
                             scaffold=None, hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=600, save_summaries_steps=100,
                             save_summaries_secs=None, config=None, stop_grace_period_secs=120,
                             log_step_count_steps=100):
    """A MonitoredSession for training: the chief restores/initializes and adds the standard
    hooks (step counter, summaries, checkpoints in `checkpoint_dir`); other tasks wait for the
    model to be ready and run only `hooks`.
    """
    scaffold = scaffold or Scaffold()
    if not is_chief:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config)
        return MonitoredSession(session_creator=creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)
    all_hooks = list(chief_only_hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir,
                                  master=master, config=config)
    if checkpoint_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(StepCounterHook(output_dir=checkpoint_dir,
                                             every_n_steps=log_step_count_steps))
        if ((save_summaries_steps and save_summaries_steps > 0)
                or (save_summaries_secs and save_summaries_secs > 0)):
            all_hooks.append(SummarySaverHook(
                scaffold=scaffold, output_dir=checkpoint_dir,
                save_steps=None if save_summaries_secs else save_summaries_steps,
                save_secs=save_summaries_secs))
        if save_checkpoint_secs and save_checkpoint_secs > 0:
            all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_secs=save_checkpoint_secs,
                                                 scaffold=scaffold))
    all_hooks.extend(hooks or [])
    return MonitoredSession(session_creator=creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)
