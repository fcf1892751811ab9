"""Session: run(fetches, feed_dict) prunes the graph to what the fetches need, compiles a plan
once per (feeds, fetches, targets) signature, and executes it."""
import contextlib
import threading

import numpy as np

from tensorflux.framework import dtypes
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.framework import tensor_util
from tensorflux.platform import allocator
from tensorflux.runtime import dataflow
from tensorflux.runtime import device_mgr as device_lib
from tensorflux.runtime import executor
from tensorflux.runtime import fetches as fetch_lib
from tensorflux.runtime import function_call  # noqa: F401  (the kernel of function calls)
from tensorflux.runtime import optimizer as optimizer_lib
from tensorflux.runtime import placer as placer_lib
from tensorflux.runtime import step_stats
from tensorflux.runtime.resources import ResourceMgr


class BaseSession:
    """Shared machinery of Session and InteractiveSession."""

    def __init__(self, target="", graph=None, config=None):
        allocator.tune_once()  # big step temporaries stay in the heap (platform/allocator.py)
        if graph is None:
            graph = ops.get_default_graph()
        if not isinstance(graph, ops.Graph):
            raise TypeError(f"graph must be a tf.Graph, got {type(graph).__name__}")
        if config is not None and not isinstance(config, protos.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, got {type(config).__name__}")
        self._graph = graph
        self._target = target
        self._config = config or protos.ConfigProto()
        # kernels read it through KernelContext.intra_op_threads (ops/intra_op.py)
        self.intra_op_threads = max(0, self._config.intra_op_parallelism_threads)
        self._closed = False
        self._lock = threading.Lock()
        self._plans = {}
        self._contexts = {}
        self.resources = ResourceMgr()
        self._device_mgr = device_lib.DeviceMgr.from_config(self._config)
        self._placer = placer_lib.Placer(self._device_mgr, self._config.allow_soft_placement,
                                         self._config.log_device_placement)
        self._pool = None
        self._active_steps = set()
        settings = optimizer_lib.Settings.from_config(self._config)
        self._optimizer = settings if settings.any else None

    graph = property(lambda self: self._graph)
    graph_def = property(lambda self: self._graph.as_graph_def())
    sess_str = property(lambda self: self._target)

    def as_default(self):
        """Context manager making this the default session for eval()/run()."""
        return ops.default_session(self)

    def list_devices(self):
        """The session's devices: objects with name, device_type, memory_limit_bytes."""
        return [d.attributes() for d in self._device_mgr]

    def close(self):
        """Cancels running steps (CancelledError) and frees the session's resources.

        Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._plans.clear()
            self._contexts.clear()
            steps, self._active_steps = list(self._active_steps), set()
            pool, self._pool = self._pool, None
        for step in steps:
            step.fail(errors.CancelledError(None, None, "Session has been closed: the step "
                                                        "was cancelled."))
        if pool is not None:
            pool.shutdown()
        self.resources.close()

    def cancel_running_steps(self, error=None):
        """Ends the steps running in other threads with `error` (CancelledError by default);
        the session stays open. Their blocked kernels (a dequeue, a take) end at once."""
        if error is None:
            error = errors.CancelledError(None, None, "The step was cancelled")
        with self._lock:
            steps = list(self._active_steps)
        for step in steps:
            step.fail(error)

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
        plan = self._plan_for(feed_tensors, handler.tensors, handler.targets, options)
        if (plan.inline and options is None and run_metadata is None
                and limits.get_max_step_bytes() is None):
            return handler.build(plan.run(feed_values))
        return handler.build(self._run_plan(plan, feed_values, options, run_metadata))

    def _run_plan(self, plan, feed_values, options, run_metadata):
        """The general path: tracing, deadlines, partition graphs, the dataflow executor."""
        trace = options is not None and options.trace_level >= step_stats.FULL_TRACE
        stats = step_stats.StepStatsCollector() if trace else None
        cap = limits.get_max_step_bytes()
        budget = limits.StepBudget(cap) if cap is not None else None
        collector = stats if budget is None else step_stats.BudgetCollector(budget, stats)
        try:
            if plan.inline:
                results = (plan.run_traced(feed_values, collector) if collector is not None
                           else plan.run(feed_values))
            else:
                results = plan.run(feed_values, self._thread_pool(), self._timeout(options),
                                   collector, self._track_step)
        finally:
            if budget is not None:
                budget.close()
        if run_metadata is not None:
            if stats is not None:
                stats.finalize(run_metadata)
            if options is not None and options.output_partition_graphs:
                for part in plan.partitions:
                    run_metadata.partition_graphs.add().CopyFrom(part.to_graph_def())
        return results

    def _timeout(self, options):
        """Seconds a step may take (None: unlimited): RunOptions, else the ConfigProto's."""
        ms = options.timeout_in_ms if options is not None else 0
        if ms <= 0:
            ms = self._config.operation_timeout_in_ms
        return ms / 1000.0 if ms > 0 else None

    def _thread_pool(self):
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("Attempted to use a closed Session.")
                if self._pool is None:
                    self._pool = dataflow.ThreadPool(self._config.inter_op_parallelism_threads)
                pool = self._pool
        return pool

    @contextlib.contextmanager
    def _track_step(self, step):
        with self._lock:
            if self._closed:
                raise errors.CancelledError(None, None, "Session has been closed.")
            self._active_steps.add(step)
        try:
            yield
        finally:
            with self._lock:
                self._active_steps.discard(step)

    def _process_feeds(self, feed_dict):
        if not feed_dict:
            return (), ()
        tensors, values = [], []
        for key, value in feed_dict.items():
            for tensor, sub_value in fetch_lib.feed_pairs(self._graph, key, value):
                tensors.append(tensor)
                values.append(_checked_feed(self._graph, tensor, sub_value))
        return tuple(tensors), values

    def _plan_for(self, feeds, fetch_tensors, targets, options=None):
        partitions = options is not None and options.output_partition_graphs
        key = (feeds, fetch_tensors, targets)
        plan = self._plans.get(key if not partitions else key + ("partitions",))
        if plan is None:
            with self._lock:
                if partitions:
                    key = key + ("partitions",)
                plan = self._plans.get(key)
                if plan is None:
                    if self._closed:  # closed since run() looked: cache nothing more
                        raise RuntimeError("Attempted to use a closed Session.")
                    plan = executor.compile_plan(list(feeds), list(fetch_tensors), list(targets),
                                                 self._context_for, self._placer, self._graph,
                                                 output_partitions=partitions,
                                                 optimizer=self._optimizer)
                    self._plans[key] = plan
        return plan

    def _context_for(self, op, device):
        if op.graph is not self._graph:  # _Send/_Recv of one plan: not kept beyond it
            return executor.KernelContext(op, device.name, self.resources, self, device.xp)
        ctx = self._contexts.get(op)
        if ctx is None:
            ctx = self._contexts[op] = executor.KernelContext(op, device.name, self.resources,
                                                              self, device.xp)
        return ctx

    def partial_run_setup(self, fetches, feeds=None):
        raise errors.UnimplementedError(None, None, "partial_run is not supported by tensorflux")


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
        if dtype == dtypes.string:  # a Python str is fed as its UTF-8 bytes, as TF does
            array = tensor_util.to_numpy(value, dtypes.string)
        else:
            array = np.asarray(value, dtype=dtype.as_numpy_dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Cannot feed value {value!r:.80} to Tensor {tensor.name!r} of dtype "
                        f"{dtype.name}: {e}") from None
    shape = tensor.get_shape()
    if not _fits(shape, array.shape):
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor {tensor.name!r}, "
                         f"which has shape {shape}. {tensor.op._created_at_text()}")
    return array


def _fits(shape, array_shape):
    """shape.is_compatible_with(array_shape) for a tuple of ints, without building a
    TensorShape of Dimensions from it (this runs for every feed of every step)."""
    dims = shape.dims
    if dims is None:
        return True
    if len(dims) != len(array_shape):
        return False
    return all(d.value is None or d.value == n for d, n in zip(dims, array_shape))


_TARGET_SESSIONS = {}  # target prefix -> Session subclass (the distributed runtime adds grpc://)


def register_session_target(prefix, session_class):
    """Makes `tf.Session(target)` build a `session_class` for targets starting with `prefix`."""
    _TARGET_SESSIONS[prefix] = session_class


def _session_class_for(target):
    if isinstance(target, bytes):
        target = target.decode()
    for prefix, cls in _TARGET_SESSIONS.items():
        if target.startswith(prefix):
            return cls
    if target.startswith("grpc://"):
        raise errors.UnimplementedError(
            None, None, f"No session factory registered for target {target!r}: import "
                        "tensorflux.distributed")
    return None


class Session(BaseSession):
    """A session running the graph in this process (`tf.Session`), or on a cluster when
    `target` is a server's 'grpc://host:port'."""

    def __new__(cls, target="", graph=None, config=None):
        if cls is Session and target:
            impl = _session_class_for(target)
            if impl is not None:
                return object.__new__(impl)
        return object.__new__(cls)

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
        impl = _session_class_for(target) if target else None
        if impl is not None:
            impl.reset(target, containers, config)


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
