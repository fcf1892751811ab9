"""tensorflow.python.client.session -> tensorflux.runtime.session."""
from tensorflux.runtime.session import (  # noqa: F401
    BaseSession, InteractiveSession, Session, register_session_target)
