"""SyncReplicasOptimizer: synchronous data parallelism with backup workers (TF 1.x).

Every replica pushes its gradients into one ConditionalAccumulator per variable instead of
applying them, then waits at a barrier: a token (a global step value) from a shared token
queue. The chief runs one more loop (the chief queue runner): take the average of
`replicas_to_aggregate` gradients from every accumulator, apply it with the wrapped
optimizer, increment the global step, and enqueue one token per replica. Taking advances the
accumulators' global step, so a gradient that a slow (backup) replica computes for an older
step is dropped as stale: with total_num_replicas > replicas_to_aggregate training goes on at
the speed of the fastest replicas_to_aggregate replicas.

    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                         replicas_to_aggregate=2, total_num_replicas=3)
    train_op = opt.minimize(loss, global_step=global_step)
    hook = opt.make_session_run_hook(is_chief=(task_index == 0))

Ending: when a replica stops early the chief's queue runner keeps waiting for gradients that
never come, and the other replicas wait for tokens. The hook's end() requests a stop and
cancels the chief's waiting take (CancelledError in its thread, which then ends); closing
the session cancels every waiting take and dequeue; RunOptions(timeout_in_ms) bounds a
replica's wait for its token (DeadlineExceededError).
"""
from tensorflux.framework import dtypes, errors, ops, protos
from tensorflux.ops import accumulator_ops, array_ops, control_flow_ops, data_flow_ops
from tensorflux.ops import state_ops, variables
from tensorflux.platform import tf_logging as logging
from tensorflux.training import coordinator as coordinator_lib
from tensorflux.training import optimizer as optimizer_lib
from tensorflux.training import queue_runner, session_run_hook

__all__ = ["SyncReplicasOptimizer"]


class SyncReplicasOptimizer(optimizer_lib.Optimizer):
    """Aggregates gradients from replicas before applying them (`tf.train.SyncReplicasOptimizer`).

    Args:
      opt: the optimizer that applies the averaged gradients.
      replicas_to_aggregate: how many replicas' gradients make one update.
      total_num_replicas: how many replicas run (default replicas_to_aggregate); more than
        replicas_to_aggregate makes the extra ones backups whose late gradients are dropped.
      variable_averages: an ExponentialMovingAverage the chief applies after each update.
      variables_to_average: the variables it averages.
      use_locking, name: as for every Optimizer.
    """

    def __init__(self, opt, replicas_to_aggregate, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking=False,
                 name="sync_replicas"):
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        super().__init__(use_locking, name)
        logging.info("SyncReplicasV2: replicas_to_aggregate=%s; total_num_replicas=%s",
                     replicas_to_aggregate, total_num_replicas)
        self._opt = opt
        self._replicas_to_aggregate = replicas_to_aggregate
        self._total_num_replicas = total_num_replicas
        # Every replica takes one token per step, so each update hands out enough for all.
        self._tokens_per_step = max(total_num_replicas, replicas_to_aggregate)
        self._variable_averages = variable_averages
        self._variables_to_average = variables_to_average
        self._gradients_applied = False
        self._global_step = None
        self._sync_token_queue = None
        self._chief_queue_runner = None
        self._accumulator_list = []  # (accumulator, device) per variable with a gradient
        self._local_step = None
        self.local_step_init_op = None
        self.chief_init_op = None
        self.ready_for_local_init_op = None

    def compute_gradients(self, *args, **kwargs):
        """The wrapped optimizer's compute_gradients: the gradients of this replica alone."""
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Builds the replica's train op (push gradients, wait for a token) and the chief's
        update op; returns the train op.

        Raises:
          ValueError: if grads_and_vars is empty or global_step is None.
        """
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        self._global_step = global_step
        with ops.name_scope(name, self._name):
            self._create_local_step(global_step)
            push_ops, aggregated = self._accumulate(grads_and_vars)
            update_op = self._apply_aggregated(aggregated, grads_and_vars, global_step)
            train_op = self._replica_train_op(push_ops, global_step)
            self._chief_queue_runner = self._make_chief_queue_runner(update_op, global_step)
            self.chief_init_op = self._chief_init_op(global_step)
        self._gradients_applied = True
        return train_op

    # ---- the pieces of apply_gradients -------------------------------------------------------
    def _create_local_step(self, global_step):
        """sync_rep_local_step: this replica's idea of the global step (a local variable).

        It lives on this worker: colocated with a no-op made under the worker's device scope,
        so a replica_device_setter does not send it to a parameter server."""
        local_anchor = control_flow_ops.no_op(name="local_anchor")
        with ops.colocate_with(local_anchor):
            self._local_step = variables.Variable(
                array_ops.zeros([], dtype=global_step.dtype.base_dtype), trainable=False,
                collections=[ops.GraphKeys.LOCAL_VARIABLES], name="sync_rep_local_step")
        self.local_step_init_op = state_ops.assign(self._local_step, global_step)
        with ops.name_scope(None):
            self.ready_for_local_init_op = variables.report_uninitialized_variables(
                variables.global_variables())

    def _accumulate(self, grads_and_vars):
        """One accumulator per variable (on its device): the push ops and the takes."""
        push_ops, aggregated = [], []
        for grad, var in grads_and_vars:
            if grad is None:
                aggregated.append(None)
                continue
            with ops.device(var.device):
                push, take, accumulator = self._accumulator_for(grad, var)
            push_ops.append(push)
            aggregated.append(take)
            self._accumulator_list.append((accumulator, var.device))
        return push_ops, aggregated

    def _accumulator_for(self, grad, var):
        shared_name = var.name + "/grad_accum"
        if isinstance(grad, ops.Tensor):
            accumulator = accumulator_ops.ConditionalAccumulator(
                grad.dtype, shape=var.get_shape(), shared_name=shared_name)
            return (accumulator.apply_grad(grad, local_step=self._local_step),
                    accumulator.take_grad(self._replicas_to_aggregate), accumulator)
        if not isinstance(grad, ops.IndexedSlices):
            raise ValueError(f"Unknown grad type! {type(grad).__name__} for variable {var.name}")
        accumulator = accumulator_ops.SparseConditionalAccumulator(
            grad.dtype, shape=var.get_shape(), shared_name=shared_name)
        return (accumulator.apply_indexed_slices_grad(grad, local_step=self._local_step),
                accumulator.take_indexed_slices_grad(self._replicas_to_aggregate), accumulator)

    def _apply_aggregated(self, aggregated, grads_and_vars, global_step):
        pairs = [(g, v) for g, (_, v) in zip(aggregated, grads_and_vars)]
        with ops.device(global_step.device), ops.name_scope(None):
            return self._opt.apply_gradients(pairs, global_step)

    def _replica_train_op(self, push_ops, global_step):
        """Push every gradient, then wait for a token and make it the local step."""
        with ops.device(global_step.device), ops.name_scope(None):
            self._sync_token_queue = data_flow_ops.FIFOQueue(
                -1, global_step.dtype.base_dtype, shapes=[[]], name="sync_token_q",
                shared_name="sync_token_q")
            with ops.control_dependencies(push_ops):
                token = self._sync_token_queue.dequeue()
            return state_ops.assign(self._local_step, token)

    def _make_chief_queue_runner(self, update_op, global_step):
        """The chief's loop: after each update, one token per replica (then the averages)."""
        with ops.device(global_step.device), ops.name_scope(None):
            with ops.control_dependencies([update_op]):
                tokens = array_ops.fill([self._tokens_per_step], global_step)
                sync_op = self._sync_token_queue.enqueue_many((tokens,))
            if self._variable_averages is not None:
                with ops.control_dependencies([sync_op]):
                    sync_op = self._variable_averages.apply(self._variables_to_average)
            # The runner's queue is only its handle on close/cancel ops; nothing is enqueued.
            dummy_queue = data_flow_ops.FIFOQueue(1, dtypes.int32, shapes=[[]],
                                                  name="dummy_queue", shared_name="dummy_queue")
            return queue_runner.QueueRunner(dummy_queue, [sync_op])

    def _chief_init_op(self, global_step):
        """The chief's local init: its local step and every accumulator at the global step."""
        init_ops = [self.local_step_init_op]
        for accumulator, device in self._accumulator_list:
            with ops.device(device):
                init_ops.append(accumulator.set_global_step(global_step, name="SetGlobalStep"))
        return control_flow_ops.group(*init_ops)

    # ---- what the chief and the hook use -----------------------------------------------------
    def get_chief_queue_runner(self):
        """The QueueRunner the chief starts: it takes, applies and hands out tokens.

        Raises:
          ValueError: if called before apply_gradients.
        """
        if not self._gradients_applied:
            raise ValueError("Should be called after apply_gradients().")
        return self._chief_queue_runner

    def get_init_tokens_op(self, num_tokens=-1):
        """An op putting `num_tokens` tokens (the global step) in the token queue.

        The default (-1) is replicas_to_aggregate tokens, so every replica can finish its first
        step before the first update (each replica's second gradient is then stale, as in TF).

        Raises:
          ValueError: before apply_gradients, or when num_tokens is below
            replicas_to_aggregate - total_num_replicas (too few for the first step).
        """
        if not self._gradients_applied:
            raise ValueError("get_init_tokens_op() should be called after apply_gradients().")
        tokens_needed = self._replicas_to_aggregate - self._total_num_replicas
        if num_tokens == -1:
            num_tokens = self._replicas_to_aggregate
        elif num_tokens < tokens_needed:
            raise ValueError(f"Too few tokens to finish the first step: {num_tokens} (given) "
                             f"vs {tokens_needed} (needed)")
        with ops.device(self._global_step.device), ops.name_scope(None):
            if num_tokens <= 0:
                return control_flow_ops.no_op(name="no_init_tokens")
            tokens = array_ops.fill([num_tokens], self._global_step)
            return self._sync_token_queue.enqueue_many((tokens,))

    def get_slot(self, *args, **kwargs):
        """The wrapped optimizer's slot."""
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        """The wrapped optimizer's slot names."""
        return self._opt.get_slot_names(*args, **kwargs)

    def make_session_run_hook(self, is_chief, num_tokens=-1):
        """A SessionRunHook that initializes this replica and, on the chief, starts the chief
        queue runner."""
        return _SyncReplicasOptimizerHook(self, is_chief, num_tokens)


class _SyncReplicasOptimizerHook(session_run_hook.SessionRunHook):
    """Runs the replica's init ops after the session is created; the chief also puts the
    initial tokens and starts the chief queue runner, which end() stops."""

    _STOP_GRACE_SECS = 10.0

    def __init__(self, sync_optimizer, is_chief, num_tokens):
        self._sync_optimizer = sync_optimizer
        self._is_chief = is_chief
        self._num_tokens = num_tokens
        self._local_init_op = self._init_tokens_op = self._q_runner = None
        self._coord = None
        self._threads = []

    def begin(self):
        opt = self._sync_optimizer
        if not opt._gradients_applied:
            raise ValueError("SyncReplicasOptimizer.apply_gradient should be called before "
                             "using the hook.")
        self._ready_for_local_init_op = opt.ready_for_local_init_op
        if self._is_chief:
            self._local_init_op = opt.chief_init_op
            self._q_runner = opt.get_chief_queue_runner()
            self._init_tokens_op = opt.get_init_tokens_op(self._num_tokens)
            # At the end, one token per replica releases the workers still waiting for one:
            # they finish their step and see the final global step (TensorFlow leaves them
            # waiting forever when the chief stops first).
            self._release_tokens_op = opt.get_init_tokens_op(opt._total_num_replicas)
        else:
            self._local_init_op = opt.local_step_init_op

    def after_create_session(self, session, coord=None):
        """Initializes the local step (and, on the chief, the accumulators and tokens), then
        starts the chief queue runner under `coord` (or a Coordinator of the hook's own)."""
        not_ready = session.run(self._ready_for_local_init_op)
        if not_ready.size:
            raise RuntimeError(
                f"Init operations did not make model ready for SyncReplicasOptimizer "
                f"local_init. Init op: {self._local_init_op.name}, error: Variables not "
                f"initialized: {', '.join(n.decode() for n in not_ready.tolist())}")
        session.run(self._local_init_op)
        if self._init_tokens_op is not None:
            session.run(self._init_tokens_op)
        if self._q_runner is not None:
            self._coord = coord if coord is not None else coordinator_lib.Coordinator()
            self._threads = self._q_runner.create_threads(session, coord=self._coord,
                                                          daemon=True, start=True)

    def end(self, session):
        """Stops the chief queue runner: requests a stop, cancels its waiting take, joins it;
        then releases the workers waiting for tokens."""
        self._stop_queue_runner(session)
        if self._is_chief and getattr(self, "_release_tokens_op", None) is not None \
                and not getattr(session, "_closed", False):
            try:
                session.run(self._release_tokens_op,
                            options=protos.RunOptions(
                                timeout_in_ms=int(self._STOP_GRACE_SECS * 1000)))
            except (errors.OpError, RuntimeError) as e:
                logging.warning("SyncReplicasOptimizer hook: could not release waiting "
                                "workers: %s", e)

    def _stop_queue_runner(self, session):
        if not self._threads:
            return
        self._coord.request_stop()
        for thread in self._threads:
            thread.join(0.05)
        deadline_left = self._STOP_GRACE_SECS
        # A take registered after a cancellation would wait again: cancel until it is gone.
        while any(t.is_alive() for t in self._threads) and deadline_left > 0:
            self._cancel_takes(session)
            for thread in self._threads:
                thread.join(0.05)
            deadline_left -= 0.05
        alive = [t.name for t in self._threads if t.is_alive()]
        self._threads = []
        if alive:
            logging.warning("SyncReplicasOptimizer hook: threads still running at end: %s",
                            ", ".join(alive))

    def _cancel_takes(self, session):
        error = errors.CancelledError(None, None, "TakeGrad operation was cancelled: the "
                                                  "SyncReplicasOptimizer hook ended")
        for accumulator, _ in self._sync_optimizer._accumulator_list:
            accumulator_ops.cancel_pending_takes(session, accumulator, error)
