"""Per-session state that outlives a step: variable buffers, queues and other resources."""
import threading

from tensorflux.framework.variable_ref import VariableRef  # noqa: F401 (re-export)


class ResourceMgr:
    """Named resources of one session (or one server), created on first use, per container."""

    def __init__(self):
        self._lock = threading.Lock()
        self._resources = {}

    def lookup_or_create(self, container, name, create):
        key = (container or "", name)
        with self._lock:
            resource = self._resources.get(key)
            if resource is None:
                resource = self._resources[key] = create()
            return resource

    def lookup(self, container, name):
        with self._lock:
            return self._resources.get((container or "", name))

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
