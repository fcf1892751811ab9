"""SessionRunHook and its argument types (TF 1.0's `tf.train.SessionRunHook`).

A hook sees each `MonitoredSession.run` call: `before_run` may add fetches, feeds and
RunOptions (as SessionRunArgs), `after_run` gets their values (SessionRunValues) and may ask the
session to stop through `run_context.request_stop()`.
"""
import collections


class SessionRunHook:
    """The base of every hook: each method is optional and does nothing here."""

    def begin(self):
        """Called once before the graph is finalized: the hook may add ops here."""

    def after_create_session(self, session, coord):
        """Called when a new (or recovered) session exists, before the first run."""

    def before_run(self, run_context):
        """Returns None or SessionRunArgs to add to the coming run."""
        return None

    def after_run(self, run_context, run_values):
        """Gets the values of what before_run asked for."""

    def end(self, session):
        """Called once when the monitored session closes without an error."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to a run: fetches, a feed_dict and RunOptions."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """What a hook sees of one run call: its arguments, the session, and a stop request."""

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    original_args = property(lambda self: self._original_args)
    session = property(lambda self: self._session)
    stop_requested = property(lambda self: self._stop_requested)

    def request_stop(self):
        """Asks the monitored session to stop after this run (should_stop() turns True)."""
        self._stop_requested = True


SessionRunValues = collections.namedtuple("SessionRunValues",
                                          ["results", "options", "run_metadata"])
