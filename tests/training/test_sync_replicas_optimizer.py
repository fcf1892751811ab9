"""SyncReplicasOptimizer in one process: one graph and one session, one thread per replica.

Each replica gets its own SyncReplicasOptimizer (so its own sync_rep_local_step, as a worker
of between-graph replication builds its own); the accumulators and the token queue are shared
through their shared_names, as on a parameter server. Replica 0 is the chief: its hook starts
the chief queue runner.
"""
import itertools
import math
import threading
import time

import numpy as np
import pytest

import tensorflux as tf

pytestmark = pytest.mark.timeout(60)

LR = 0.1
OK = tf.RunOptions(timeout_in_ms=10000)  # a step that should finish (generous: shared CPUs)
CONFIG = tf.ConfigProto(inter_op_parallelism_threads=4)


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        time.sleep(0.02)
    pytest.fail(f"threads left running: {[t.name for t in extra]}")


class Replicas:
    """N replicas of one model in one graph; `build(i)` returns replica i's loss."""

    def __init__(self, n, build, replicas_to_aggregate, total_num_replicas=None, num_tokens=-1,
                 **kwargs):
        self.global_step = tf.train.get_or_create_global_step()
        self.opts, self.train_ops = [], []
        for i in range(n):
            opt = tf.train.SyncReplicasOptimizer(
                tf.train.GradientDescentOptimizer(LR), replicas_to_aggregate,
                total_num_replicas=total_num_replicas, **kwargs)
            self.train_ops.append(opt.minimize(build(i), global_step=self.global_step))
            self.opts.append(opt)
        self.hooks = [opt.make_session_run_hook(i == 0, num_tokens=num_tokens)
                      for i, opt in enumerate(self.opts)]
        for hook in self.hooks:
            hook.begin()

    def start(self):
        self.sess = tf.Session(config=CONFIG)
        self.sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        self.coord = tf.train.Coordinator()
        for hook in self.hooks:
            hook.after_create_session(self.sess, self.coord)
        return self.sess

    def end_hooks(self):
        """Stops the chief queue runner: afterwards nothing changes the variables."""
        for hook in self.hooks:
            hook.end(self.sess)

    def stop(self):
        self.end_hooks()
        self.sess.close()


def _run_threads(targets):
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)


def _wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def _settled(sess, fetches):
    """The values of `fetches` once they stop changing (the chief may finish an update)."""
    last, same = sess.run(fetches), 0
    for _ in range(500):
        time.sleep(0.03)
        now = sess.run(fetches)
        same = same + 1 if all(np.array_equal(a, b) for a, b in zip(last, now)) else 0
        if same == 5:
            return now
        last = now
    raise AssertionError("values kept changing")


def _accumulated(var, sparse=False):
    """num_accumulated of the shared accumulator the optimizer made for `var`."""
    cls = tf.SparseConditionalAccumulator if sparse else tf.ConditionalAccumulator
    return cls(var.dtype.base_dtype, shape=var.get_shape(),
               shared_name=var.name + "/grad_accum").num_accumulated()


# ---- synchronous SGD ---------------------------------------------------------------------------
def test_every_update_averages_one_gradient_per_replica_like_numpy():
    n, steps, rng = 3, 4, np.random.default_rng(0)
    xs = rng.standard_normal((n, steps, 4, 3)).astype(np.float32)
    ys = rng.standard_normal((n, steps, 4)).astype(np.float32)
    ids = rng.integers(0, 5, (n, steps, 2))
    w0, emb0 = rng.standard_normal(3).astype(np.float32), np.ones([5, 2], np.float32)
    w, emb = tf.Variable(w0, name="w"), tf.Variable(emb0, name="emb")
    feeds = [(tf.placeholder(tf.float32, [4, 3]), tf.placeholder(tf.float32, [4]),
              tf.placeholder(tf.int32, [2])) for _ in range(n)]

    def build(i):
        x, y, rows = feeds[i]
        error = tf.reduce_sum(x * w, 1) - y
        return 0.5 * tf.reduce_sum(error * error) + tf.reduce_sum(tf.gather(emb, rows))
    replicas = Replicas(n, build, replicas_to_aggregate=n, num_tokens=0)
    sess = replicas.start()

    def replica(i):
        x, y, rows = feeds[i]
        for k in range(steps):
            sess.run(replicas.train_ops[i], {x: xs[i, k], y: ys[i, k], rows: ids[i, k]},
                     options=OK)
    _run_threads([lambda i=i: replica(i) for i in range(n)])
    replicas.end_hooks()
    step, got_w, got_emb = sess.run([replicas.global_step, w, emb])
    local_steps = sess.run([opt._local_step for opt in replicas.opts])
    replicas.stop()

    ref_w, ref_emb = w0.astype(np.float64), emb0.astype(np.float64)
    for k in range(steps):
        grads = [xs[i, k].T @ (xs[i, k] @ ref_w - ys[i, k]) for i in range(n)]
        ref_w = ref_w - LR * np.mean(grads, 0)
        rows_sum, rows_count = np.zeros([5, 1]), np.zeros([5, 1])
        for i in range(n):
            np.add.at(rows_sum, ids[i, k], 1.0)  # the gather's gradient: ones per id
            rows_count[np.unique(ids[i, k])] += 1
        ref_emb = ref_emb - LR * rows_sum / np.maximum(rows_count, 1)  # mean per row
    assert step == steps  # one update per round of n replica steps
    assert local_steps == [steps] * n
    np.testing.assert_allclose(got_w, ref_w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_emb, ref_emb, rtol=1e-5, atol=1e-5)


def test_initial_tokens_make_each_replicas_second_gradient_stale():
    """The default num_tokens (replicas_to_aggregate tokens of step 0) lets the first round
    through at once; the round after it is computed at local step 0 and dropped."""
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(2, lambda i: w * float(i + 1), replicas_to_aggregate=2)
    sess = replicas.start()
    train, step, count = replicas.train_ops, replicas.global_step, _accumulated(w)
    for op in train:
        sess.run(op, options=OK)
    _wait_until(lambda: sess.run(step) == 1)
    assert sess.run([opt._local_step for opt in replicas.opts]) == [0, 0]
    for op in train:
        sess.run(op, options=OK)  # stale: dropped; the tokens of step 1 come back
    assert sess.run([step, count]) == [1, 0]
    assert sess.run([opt._local_step for opt in replicas.opts]) == [1, 1]
    _run_threads([lambda op=op: sess.run(op, options=OK) for op in train])  # a barrier now
    _wait_until(lambda: sess.run(step) == 2)
    assert sess.run(w) == pytest.approx(-2 * LR * 1.5)  # two updates of the mean of 1 and 2
    replicas.stop()


# ---- backup replicas ---------------------------------------------------------------------------
def test_a_slow_backup_replica_does_not_hold_training_back_and_its_gradient_is_dropped():
    """3 replicas, 2 to aggregate: replica 2 is stuck in its forward pass (a py_func waiting
    for an event) while replicas 0 and 1 train; its gradient then arrives stale and is
    dropped. Fast replicas push gradient 1, the slow one 1000, so w tells whether it went in."""
    steps, release = 6, threading.Event()
    w = tf.Variable(0.0, name="w")

    def build(i):
        x = tf.constant(1000.0 if i == 2 else 1.0)
        if i == 2:
            x = tf.py_func(lambda v: (release.wait(20), v)[1], [x], tf.float32)
        return w * x
    replicas = Replicas(3, build, replicas_to_aggregate=2, total_num_replicas=3, num_tokens=0)
    extra_token = replicas.opts[0].get_init_tokens_op(1)
    sess = replicas.start()
    step, count = replicas.global_step, _accumulated(w)
    tokens = tf.FIFOQueue(-1, tf.int64, shapes=[[]], shared_name="sync_token_q",
                          name="peek").size()
    slow = threading.Thread(target=lambda: sess.run(replicas.train_ops[2], options=OK))
    slow.start()
    try:
        _run_threads([lambda i=i: [sess.run(replicas.train_ops[i], options=OK)
                                   for _ in range(steps)] for i in (0, 1)])
        assert slow.is_alive()  # training went on without it
        done, pending, value, left = _settled(sess, [step, count, w, tokens])
        # Each update hands out 3 tokens (one per replica) and the fast replicas took
        # 2 * steps of them: the slow one's share piles up in the queue.
        assert math.ceil(2 * steps / 3) <= done <= steps
        assert left == 3 * done - 2 * steps
        assert value == pytest.approx(-LR * done)  # every update: the mean of two 1s
        sess.run(extra_token)  # the slow replica's token (the fast ones may have taken all)
    finally:
        release.set()
        slow.join(20)
    assert not slow.is_alive()
    assert sess.run([step, count]) == [done, pending]  # its stale gradient was dropped
    assert sess.run(w) == pytest.approx(-LR * done)
    replicas.stop()


# ---- ending without hangs ----------------------------------------------------------------------
def test_a_replica_finishing_early_leaves_the_other_at_the_barrier_until_its_deadline():
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(2, lambda i: w * 1.0, replicas_to_aggregate=2, num_tokens=0)
    sess = replicas.start()
    _run_threads([lambda: [sess.run(replicas.train_ops[0], options=OK) for _ in range(2)],
                  lambda: [sess.run(replicas.train_ops[1], options=OK) for _ in range(2)]])
    with pytest.raises(tf.errors.DeadlineExceededError, match=r"\(QueueDequeue\)"):
        sess.run(replicas.train_ops[0], options=tf.RunOptions(timeout_in_ms=300))
    assert _settled(sess, [replicas.global_step, _accumulated(w)]) == [2, 1]
    started = time.monotonic()
    replicas.hooks[0].end(sess)  # the chief's take waits for a gradient that never comes
    assert time.monotonic() - started < 3.0
    assert replicas.coord.should_stop()
    replicas.stop()


def test_closing_the_session_cancels_the_chief_and_a_replica_waiting_for_its_token():
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(2, lambda i: w * 1.0, replicas_to_aggregate=2, num_tokens=0)
    sess = replicas.start()
    outcome = {}

    def waiting_replica():
        try:
            sess.run(replicas.train_ops[0])  # no deadline: only the close can end it
        except tf.errors.OpError as e:
            outcome["error"] = e
    thread = threading.Thread(target=waiting_replica)
    thread.start()
    _wait_until(lambda: sess.run(_accumulated(w)) == 1)
    sess.close()
    thread.join(5)
    assert isinstance(outcome["error"], tf.errors.CancelledError)
    with pytest.raises(tf.errors.CancelledError, match="Session has been closed"):
        replicas.coord.join(stop_grace_period_secs=5)  # the chief's thread reported it
    replicas.stop()  # end() after close: nothing left to stop


def test_a_restarted_chief_takes_the_gradients_pushed_while_it_was_down():
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(2, lambda i: w * float(i + 1), replicas_to_aggregate=2, num_tokens=0)
    sess = replicas.start()

    def round_of_steps():
        _run_threads([lambda op=op: sess.run(op, options=OK) for op in replicas.train_ops])
    round_of_steps()
    replicas.hooks[0]._stop_queue_runner(sess)  # the chief crashes (no end(): no release)
    waiting = threading.Thread(target=round_of_steps)
    waiting.start()
    _wait_until(lambda: sess.run(_accumulated(w)) == 2)  # both pushed; no token comes
    assert waiting.is_alive() and sess.run(replicas.global_step) == 1
    restarted = replicas.opts[0].make_session_run_hook(is_chief=True, num_tokens=0)
    restarted.begin()
    restarted.after_create_session(sess, tf.train.Coordinator())
    waiting.join(30)
    assert not waiting.is_alive()
    round_of_steps()
    restarted.end(sess)
    assert sess.run(replicas.global_step) == 3
    assert sess.run(w) == pytest.approx(-3 * LR * 1.5)
    replicas.stop()


def test_the_chief_ending_releases_workers_waiting_for_a_token():
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(2, lambda i: w * float(i + 1), replicas_to_aggregate=2, num_tokens=0)
    sess = replicas.start()
    _run_threads([lambda op=op: sess.run(op, options=OK) for op in replicas.train_ops])
    waiting = threading.Thread(target=lambda: sess.run(replicas.train_ops[1], options=OK))
    waiting.start()
    _wait_until(lambda: sess.run(_accumulated(w)) == 1)  # pushed, now waits for a token
    assert waiting.is_alive()
    replicas.hooks[0].end(sess)  # training is over: the chief hands out a token per replica
    waiting.join(10)
    assert not waiting.is_alive()
    assert sess.run(replicas.global_step) == 1  # released, not updated
    replicas.stop()


# ---- the API -----------------------------------------------------------------------------------
def test_graph_structure_and_tf_names():
    global_step = tf.train.get_or_create_global_step()
    with tf.device("/cpu:0"):
        w = tf.Variable([1.0, 2.0], name="w")
    opt = tf.train.SyncReplicasOptimizer(tf.train.MomentumOptimizer(LR, 0.9),
                                         replicas_to_aggregate=2, total_num_replicas=3)
    with pytest.raises(ValueError, match="after apply_gradients"):
        opt.get_chief_queue_runner()
    with pytest.raises(ValueError, match="after apply_gradients"):
        opt.get_init_tokens_op()
    with pytest.raises(ValueError, match="apply_gradient should be called"):
        opt.make_session_run_hook(True).begin()
    grads = opt.compute_gradients(tf.reduce_sum(w * w))
    with pytest.raises(ValueError, match="Global step is required"):
        opt.apply_gradients(grads)
    train_op = opt.apply_gradients(grads, global_step=global_step)
    graph = tf.get_default_graph()
    types = {op.type for op in graph.get_operations()}
    assert {"ConditionalAccumulator", "AccumulatorApplyGradient", "AccumulatorTakeGradient",
            "AccumulatorSetGlobalStep", "FIFOQueue"} <= types
    accumulator = [op for op in graph.get_operations() if op.type == "ConditionalAccumulator"]
    assert accumulator[0].get_attr("shared_name") in ("w:0/grad_accum", b"w:0/grad_accum")
    assert "cpu:0" in accumulator[0].device.lower()  # placed with its variable
    token_queue = graph.get_operation_by_name("sync_token_q")
    assert token_queue.get_attr("shared_name") in ("sync_token_q", b"sync_token_q")
    local_step = opt._local_step
    assert local_step in tf.local_variables() and local_step not in tf.global_variables()
    assert train_op.op.inputs[0].op is local_step.op  # the train op assigns the local step
    assert opt.get_slot_names() == ["momentum"]
    assert opt.get_slot(w, "momentum") is not None
    runner = opt.get_chief_queue_runner()
    assert isinstance(runner, tf.train.QueueRunner) and len(runner.enqueue_ops) == 1
    assert opt.get_init_tokens_op(0).type == "NoOp"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(opt.get_init_tokens_op())  # 2 tokens by default
        sess.run(opt.get_init_tokens_op(1))
        assert sess.run(opt._sync_token_queue.size()) == 3


def test_too_few_initial_tokens_are_refused():
    global_step = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0, name="w")
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(LR),
                                         replicas_to_aggregate=3, total_num_replicas=1)
    opt.minimize(w * w, global_step=global_step)
    with pytest.raises(ValueError, match=r"Too few tokens to finish the first step: 1 "
                                         r"\(given\) vs 2 \(needed\)"):
        opt.get_init_tokens_op(1)


def test_hook_refuses_a_model_that_is_not_initialized():
    w = tf.Variable(1.0, name="w")
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(LR), 1)
    opt.minimize(w * w, global_step=tf.train.get_or_create_global_step())
    hook = opt.make_session_run_hook(is_chief=False)
    hook.begin()
    with tf.Session() as sess, pytest.raises(RuntimeError, match="not initialized: .*w"):
        hook.after_create_session(sess, None)


def test_the_chief_applies_variable_averages_after_each_update():
    ema = tf.train.ExponentialMovingAverage(0.5)
    w = tf.Variable(0.0, name="w")
    replicas = Replicas(1, lambda i: w * 1.0, replicas_to_aggregate=1, num_tokens=0,
                        variable_averages=ema, variables_to_average=[w])
    sess = replicas.start()
    for _ in range(3):
        sess.run(replicas.train_ops[0], options=OK)
    shadow = ema.average(w)
    _wait_until(lambda: sess.run(replicas.global_step) == 3)
    # The average reads w through its snapshot w/read, which (as in TF) is not ordered
    # after the update in the chief's step: each time it sees w after the update or before.
    outcomes = []
    for seen_after in itertools.product([0, 1], repeat=3):
        average = 0.0
        for k, late in enumerate(seen_after, 1):
            average = 0.5 * average - 0.5 * LR * (k if late else k - 1)
        outcomes.append(average)
    replicas.end_hooks()
    got = sess.run(shadow)
    assert any(got == pytest.approx(v) for v in outcomes), (got, outcomes)
    assert got != 0.0  # the chief did move the average
    replicas.stop()
