"""`tf.logging`: TensorFlow 0.9/1.x's logging calls, on a Python logger named "tensorflux".

Messages go to whatever `sys.stderr` is at the time of the call. As in TensorFlow 1.x the
logger has no level of its own, so the default verbosity is WARN (Python's root default);
tutorials raise it with `tf.logging.set_verbosity(tf.logging.INFO)`.
"""

import logging
import sys
import threading
import traceback

__all__ = [
    "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL",
    "debug", "info", "warn", "warning", "error", "fatal", "log", "vlog",
    "log_every_n", "log_first_n", "log_if", "set_verbosity", "get_verbosity", "flush",
]

DEBUG = logging.DEBUG
INFO = logging.INFO
WARN = logging.WARNING
WARNING = logging.WARNING
ERROR = logging.ERROR
FATAL = logging.CRITICAL


class _StderrHandler(logging.StreamHandler):
    """Writes to the current sys.stderr, so redirecting it (or pytest's capsys) works."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _):
        pass  # StreamHandler.setStream would assign; the target is always sys.stderr.


def _make_logger():
    logger = logging.getLogger("tensorflux")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
        logger.addHandler(handler)
    return logger


_logger = _make_logger()
_counts_lock = threading.Lock()
_counts = {}


def get_logger():
    """Returns the Python logging.Logger behind tf.logging."""
    return _logger


def log(level, msg, *args, **kwargs):
    """Logs `msg % args` at the integer `level`."""
    _logger.log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    """Logs at DEBUG."""
    _logger.debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    """Logs at INFO."""
    _logger.info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    """Logs at WARN."""
    _logger.warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    """Logs at ERROR."""
    _logger.error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Logs at FATAL (Python's CRITICAL); like TensorFlow's Python API it does not exit."""
    _logger.critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    """Logs at the integer `level`, TensorFlow's verbose-logging spelling of log()."""
    _logger.log(level, msg, *args, **kwargs)


def log_if(level, msg, condition, *args):
    """Logs `msg % args` at `level` only when `condition` is true."""
    if condition:
        _logger.log(level, msg, *args)


def _count_call_site():
    """Counts calls from the user's line (two frames up) and returns the new count."""
    frame = traceback.extract_stack(limit=3)[0]
    key = (frame.filename, frame.lineno)
    with _counts_lock:
        _counts[key] = _counts.get(key, 0) + 1
        return _counts[key]


def log_every_n(level, msg, n, *args):
    """Logs on the 1st, (n+1)th, (2n+1)th, ... call from the same source line."""
    count = _count_call_site()
    if (count - 1) % max(int(n), 1) == 0:
        _logger.log(level, msg, *args)


def log_first_n(level, msg, n, *args):
    """Logs only the first `n` calls from the same source line."""
    count = _count_call_site()
    if count <= n:
        _logger.log(level, msg, *args)


def set_verbosity(v):
    """Sets the threshold: messages below level `v` are dropped."""
    _logger.setLevel(v)


def get_verbosity():
    """Returns the effective threshold level (WARN unless set_verbosity was called)."""
    return _logger.getEffectiveLevel()


def flush():
    """Flushes the handlers' streams."""
    for handler in _logger.handlers:
        handler.flush()
