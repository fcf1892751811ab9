"""Session: run(fetches, feed_dict) prunes the graph to what the fetches need, compiles a plan
once per (feeds, fetches, targets) signature, and executes it."""
import threading

import numpy as np

from tensorflux.framework import errors
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.runtime import executor
from tensorflux.runtime import fetches as fetch_lib
from tensorflux.runtime.resources import ResourceMgr

_LOCAL_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


class BaseSession:
    """Shared machinery of Session and InteractiveSession."""

    def __init__(self, target="", graph=None, config=None):
        if graph is None:
            graph = ops.get_default_graph()
        if not isinstance(graph, ops.Graph):
            raise TypeError(f"graph must be a tf.Graph, got {type(graph).__name__}")
        if config is not None and not isinstance(config, protos.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, got {type(config).__name__}")
        self._graph = graph
        self._target = target
        self._config = config or protos.ConfigProto()
        self._closed = False
        self._lock = threading.Lock()
        self._plans = {}
        self._contexts = {}
        self.resources = ResourceMgr()

    graph = property(lambda self: self._graph)
    graph_def = property(lambda self: self._graph.as_graph_def())
    sess_str = property(lambda self: self._target)

    def as_default(self):
        """Context manager making this the default session for eval()/run()."""
        return ops.default_session(self)

    def list_devices(self):
        return [_DeviceAttributes(_LOCAL_DEVICE, "CPU")]

    def close(self):
        """Frees the session's resources (variables, queues). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._plans.clear()
            self._contexts.clear()
        self.resources.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    # ---- run -------------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops and computes the tensors in `fetches` (nested lists/tuples/dicts)."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        handler = fetch_lib.FetchHandler(self._graph, fetches)
        feed_tensors, feed_values = self._process_feeds(feed_dict)
        plan = self._plan_for(feed_tensors, handler.tensors, handler.targets)
        results = plan.run(feed_values)
        return handler.build(results)

    def _process_feeds(self, feed_dict):
        if not feed_dict:
            return (), ()
        tensors, values = [], []
        for key, value in feed_dict.items():
            for tensor, sub_value in fetch_lib.feed_pairs(self._graph, key, value):
                tensors.append(tensor)
                values.append(_checked_feed(self._graph, tensor, sub_value))
        return tuple(tensors), values

    def _plan_for(self, feeds, fetch_tensors, targets):
        key = (feeds, fetch_tensors, targets)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    plan = executor.compile_plan(list(feeds), list(fetch_tensors), list(targets),
                                                 self._context_for)
                    self._plans[key] = plan
        return plan

    def _context_for(self, op):
        ctx = self._contexts.get(op)
        if ctx is None:
            ctx = self._contexts[op] = executor.KernelContext(op, _LOCAL_DEVICE, self.resources,
                                                              self)
        return ctx

    def partial_run_setup(self, fetches, feeds=None):
        raise errors.UnimplementedError(None, None, "partial_run is not supported by tensorflux")


class _DeviceAttributes:
    def __init__(self, name, device_type, memory_limit_bytes=0):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes

    def __repr__(self):
        return f"_DeviceAttributes({self.name}, {self.device_type})"


def _checked_feed(graph, tensor, value):
    """`value` as an array of the tensor's dtype; ValueError naming the tensor if it can't be."""
    if not graph.is_feedable(tensor):
        raise ValueError(f"Tensor {tensor.name} may not be fed.")
    dtype = tensor.dtype.base_dtype
    if isinstance(value, ops.Tensor):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object ({value.name} fed to "
                        f"{tensor.name}). Acceptable feed values include Python scalars, "
                        "strings, lists, numpy ndarrays, or TensorHandles.")
    try:
        array = np.asarray(value, dtype=dtype.as_numpy_dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Cannot feed value {value!r:.80} to Tensor {tensor.name!r} of dtype "
                        f"{dtype.name}: {e}") from None
    shape = tensor.get_shape()
    if not shape.is_compatible_with(array.shape):
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor {tensor.name!r}, "
                         f"which has shape {shape}. {tensor.op._created_at_text()}")
    return array


class Session(BaseSession):
    """A session running the graph in this process (`tf.Session`)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default_session_ctx = None
        self._default_graph_ctx = None

    def __enter__(self):
        self._default_graph_ctx = self._graph.as_default()
        self._default_session_ctx = self.as_default()
        self._default_graph_ctx.__enter__()
        return self._default_session_ctx.__enter__()

    def __exit__(self, exc_type, exc_value, tb):
        self._default_session_ctx.__exit__(exc_type, exc_value, tb)
        self._default_graph_ctx.__exit__(exc_type, exc_value, tb)
        self.close()

    @staticmethod
    def reset(target, containers=None, config=None):
        """Resets resource containers on `target` (no-op for in-process sessions)."""


class InteractiveSession(BaseSession):
    """A session that installs itself as the default on construction (for shells)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._ctx = self.as_default()
        self._ctx.__enter__()
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()

    def close(self):
        super().close()
        for ctx in ("_graph_ctx", "_ctx"):
            c = self.__dict__.pop(ctx, None)
            if c is not None:
                try:
                    c.__exit__(None, None, None)
                except Exception:  # noqa: BLE001 - exiting out of order is harmless here
                    pass
