"""Per-session state that outlives a step: variable buffers, queues and other resources."""
import threading

from tensorflux.framework import errors
from tensorflux.framework.variable_ref import VariableRef  # noqa: F401 (re-export)


class ResourceMgr:
    """Named resources of one session (or one server), created on first use, per container."""

    def __init__(self):
        self._lock = threading.Lock()
        self._resources = {}
        self._closed = False

    def lookup_or_create(self, container, name, create):
        """The resource, made by `create()` if absent; CancelledError once the manager is
        closed (a step still running in a closing session must not make a fresh, empty
        variable or queue and go on with it)."""
        key = (container or "", name)
        with self._lock:
            if self._closed:
                raise errors.CancelledError(
                    None, None, f"Session has been closed: resource {name!r} is gone")
            resource = self._resources.get(key)
            if resource is None:
                resource = self._resources[key] = create()
            return resource

    def lookup(self, container, name):
        with self._lock:
            return self._resources.get((container or "", name))

    def key_of(self, resource):
        """(container, name) under which `resource` is kept, or None (FakeQueue names a V2
        queue to a V1 reader this way)."""
        with self._lock:
            return next((k for k, r in self._resources.items() if r is resource), None)

    def close(self):
        """Clears every resource and refuses to make new ones (the owning session closed)."""
        with self._lock:
            self._closed = True
        self.clear()

    def clear(self, container=None):
        with self._lock:
            if container is None:
                resources = list(self._resources.values())
                self._resources.clear()
            else:
                keys = [k for k in self._resources if k[0] == container]
                resources = [self._resources.pop(k) for k in keys]
        for resource in resources:
            close = getattr(resource, "close_resource", None)
            if close is not None:
                close()
