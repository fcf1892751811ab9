"""Optimizers against NumPy re-implementations of TensorFlow's update rules, plus learning-rate
decay and the global-step helpers."""
import numpy as np
import pytest

import tensorflux as tf


def f32(x):
    """A hyperparameter as the graph sees it: a float32 constant cast to the variable dtype."""
    return float(np.float32(x))


W0 = np.array([0.3, -1.2, 2.0])
C = np.array([1.0, 0.5, 2.0])
T = np.array([1.0, 2.0, -1.0])
STEPS = 6


# ---- NumPy reference optimizers --------------------------------------------------------------
class NpOptimizer:
    """Per-variable slot state; `step(grads)` updates a dict of arrays like apply_gradients."""

    def __init__(self, **hyper):
        self.h = {k: f32(v) if isinstance(v, float) else v for k, v in hyper.items()}
        self.slots = {}

    def step(self, params, grads, rows=None):
        for name in params:
            slots = self.slots.setdefault(name, self.init_slots(params[name]))
            r = rows.get(name) if rows else None
            if r is None:
                params[name] = self.update(params[name], grads[name], slots)
            else:  # sparse: the rule applied to the rows only
                sub = {k: s[r] for k, s in slots.items()}
                params[name][r] = self.update(params[name][r], grads[name], sub)
                for k, s in slots.items():
                    s[r] = sub[k]
        self.finish()

    def init_slots(self, v):
        return {}

    def finish(self):
        pass


class NpGD(NpOptimizer):
    def update(self, v, g, s):
        return v - self.h["lr"] * g


class NpMomentum(NpOptimizer):
    def init_slots(self, v):
        return {"a": np.zeros_like(v)}

    def update(self, v, g, s):
        lr, mom = self.h["lr"], self.h["momentum"]
        s["a"] = s["a"] * mom + g
        if self.h.get("nesterov"):
            return v - lr * g - lr * mom * s["a"]
        return v - lr * s["a"]


class NpAdagrad(NpOptimizer):
    def init_slots(self, v):
        return {"acc": np.full_like(v, self.h["init"])}

    def update(self, v, g, s):
        s["acc"] = s["acc"] + g * g
        return v - self.h["lr"] * g / np.sqrt(s["acc"])


class NpAdadelta(NpOptimizer):
    def init_slots(self, v):
        return {"acc": np.zeros_like(v), "upd": np.zeros_like(v)}

    def update(self, v, g, s):
        rho, eps = self.h["rho"], self.h["eps"]
        s["acc"] = rho * s["acc"] + (1 - rho) * g * g
        u = np.sqrt(s["upd"] + eps) / np.sqrt(s["acc"] + eps) * g
        s["upd"] = rho * s["upd"] + (1 - rho) * u * u
        return v - self.h["lr"] * u


class NpAdam(NpOptimizer):
    def __init__(self, **hyper):
        super().__init__(**hyper)
        self.b1p, self.b2p = np.float32(self.h["b1"]), np.float32(self.h["b2"])

    def init_slots(self, v):
        return {"m": np.zeros_like(v), "v": np.zeros_like(v)}

    def lr_t(self):
        return self.h["lr"] * np.sqrt(1 - float(self.b2p)) / (1 - float(self.b1p))

    def update(self, v, g, s):
        b1, b2 = self.h["b1"], self.h["b2"]
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        return v - self.lr_t() * s["m"] / (np.sqrt(s["v"]) + self.h["eps"])

    def finish(self):
        self.b1p = np.float32(self.b1p * np.float32(self.h["b1"]))
        self.b2p = np.float32(self.b2p * np.float32(self.h["b2"]))


class NpRMSProp(NpOptimizer):
    def init_slots(self, v):
        return {"ms": np.ones_like(v), "mom": np.zeros_like(v)}

    def update(self, v, g, s):
        s["ms"] = self.h["decay"] * s["ms"] + (1 - self.h["decay"]) * g * g
        s["mom"] = self.h["momentum"] * s["mom"] + self.h["lr"] * g / np.sqrt(
            s["ms"] + self.h["eps"])
        return v - s["mom"]


class NpCenteredRMSProp(NpOptimizer):
    def init_slots(self, v):
        return {"mg": np.zeros_like(v), "ms": np.ones_like(v), "mom": np.zeros_like(v)}

    def update(self, v, g, s):
        d = self.h["decay"]
        s["mg"] = d * s["mg"] + (1 - d) * g
        s["ms"] = d * s["ms"] + (1 - d) * g * g
        s["mom"] = self.h["momentum"] * s["mom"] + self.h["lr"] * g / np.sqrt(
            s["ms"] - s["mg"] ** 2 + self.h["eps"])
        return v - s["mom"]


class NpFtrl(NpOptimizer):
    def init_slots(self, v):
        return {"acc": np.full_like(v, self.h["init"]), "lin": np.zeros_like(v)}

    def update(self, v, g, s):
        lr, p, l1, l2 = self.h["lr"], self.h["power"], self.h["l1"], self.h["l2"]
        new_acc = s["acc"] + g * g
        s["lin"] = s["lin"] + g - (new_acc ** -p - s["acc"] ** -p) / lr * v
        quad = 1.0 / (new_acc ** p * lr) + 2 * l2
        s["acc"] = new_acc
        return np.where(np.abs(s["lin"]) > l1, (np.sign(s["lin"]) * l1 - s["lin"]) / quad, 0.0)


CASES = {
    "gd": (lambda: tf.train.GradientDescentOptimizer(0.1), lambda: NpGD(lr=0.1)),
    "momentum": (lambda: tf.train.MomentumOptimizer(0.1, 0.9),
                 lambda: NpMomentum(lr=0.1, momentum=0.9)),
    "nesterov": (lambda: tf.train.MomentumOptimizer(0.05, 0.8, use_nesterov=True),
                 lambda: NpMomentum(lr=0.05, momentum=0.8, nesterov=True)),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.3, initial_accumulator_value=0.2),
                lambda: NpAdagrad(lr=0.3, init=0.2)),
    "adadelta": (lambda: tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6),
                 lambda: NpAdadelta(lr=1.0, rho=0.9, eps=1e-6)),
    "adam": (lambda: tf.train.AdamOptimizer(0.1, 0.8, 0.99, 1e-7),
             lambda: NpAdam(lr=0.1, b1=0.8, b2=0.99, eps=1e-7)),
    "rmsprop": (lambda: tf.train.RMSPropOptimizer(0.05, decay=0.8, momentum=0.5, epsilon=1e-6),
                lambda: NpRMSProp(lr=0.05, decay=0.8, momentum=0.5, eps=1e-6)),
    "rmsprop_centered": (lambda: tf.train.RMSPropOptimizer(0.05, decay=0.8, momentum=0.5,
                                                           epsilon=1e-6, centered=True),
                         lambda: NpCenteredRMSProp(lr=0.05, decay=0.8, momentum=0.5, eps=1e-6)),
    "ftrl": (lambda: tf.train.FtrlOptimizer(0.5, -0.5, 0.1, 0.01, 0.02),
             lambda: NpFtrl(lr=0.5, power=-0.5, init=0.1, l1=0.01, l2=0.02)),
}


def _loss(w, b):
    return tf.reduce_sum(C * tf.square(w - T)) + tf.square(b - 1.0)


def _np_grads(p):
    return {"w": 2 * C * (p["w"] - T), "b": 2 * (p["b"] - 1.0)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dense_steps_match_numpy(case):
    make, make_np = CASES[case]
    w = tf.Variable(W0, name="w")
    b = tf.Variable(np.float64(0.5), name="b")
    loss = _loss(w, b)
    step = tf.Variable(0, trainable=False, name="global_step")
    train = make().minimize(loss, global_step=step)
    ref, params = make_np(), {"w": W0.copy(), "b": np.float64(0.5)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first_loss = sess.run(loss)
        for i in range(STEPS):
            sess.run(train)
            ref.step(params, _np_grads(params))
            got_w, got_b = sess.run([w, b])
            np.testing.assert_allclose(got_w, params["w"], rtol=1e-6, atol=1e-12,
                                       err_msg=f"{case} step {i}")
            np.testing.assert_allclose(got_b, params["b"], rtol=1e-6, atol=1e-12)
        assert sess.run(step) == STEPS
        assert sess.run(loss) < first_loss


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_minimizes(case):
    make, _ = CASES[case]
    w = tf.Variable(W0.astype(np.float32))
    b = tf.Variable(np.float32(0.5))
    loss = _loss(w, b)
    train = make().minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(20):
            sess.run(train)
        assert sess.run(loss) < first
        assert sess.run(w).dtype == np.float32


EMB0 = np.array([[0.5, -0.5], [1.0, 2.0], [-1.0, 0.25], [0.0, 1.5]])
ROWS = np.array([2, 0])
TGT = np.array([[1.0, 1.0], [-1.0, 0.5]])


def _np_sparse_adam_step(ref, params, grad):
    """TF 1.x Adam._apply_sparse: decays all of m and v, adds the rows, updates every row."""
    s = ref.slots.setdefault("emb", ref.init_slots(params["emb"]))
    b1, b2 = ref.h["b1"], ref.h["b2"]
    lr = ref.lr_t()
    s["m"] = s["m"] * b1
    s["m"][ROWS] += grad * (1 - b1)
    s["v"] = s["v"] * b2
    s["v"][ROWS] += grad * grad * (1 - b2)
    params["emb"] = params["emb"] - lr * s["m"] / (np.sqrt(s["v"]) + ref.h["eps"])
    ref.finish()


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_steps_match_numpy(case):
    make, make_np = CASES[case]
    emb = tf.Variable(EMB0, name="emb")
    loss = tf.reduce_sum(tf.square(tf.gather(emb, ROWS) - TGT))
    opt = make()
    grads_and_vars = opt.compute_gradients(loss)
    assert isinstance(grads_and_vars[0][0], tf.IndexedSlices)
    train = opt.apply_gradients(grads_and_vars)
    ref, params = make_np(), {"emb": EMB0.copy()}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(STEPS):
            sess.run(train)
            grad = 2 * (params["emb"][ROWS] - TGT)
            if case == "adam":
                _np_sparse_adam_step(ref, params, grad)
            else:
                ref.step(params, {"emb": grad}, rows={"emb": ROWS})
            np.testing.assert_allclose(sess.run(emb), params["emb"], rtol=1e-6, atol=1e-12,
                                       err_msg=f"{case} step {i}")


def test_sparse_duplicate_indices_are_summed():
    emb = tf.Variable(EMB0, name="emb")
    loss = tf.reduce_sum(tf.gather(emb, [1, 1, 3]) * 2.0)
    train = tf.train.AdagradOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        got = sess.run(emb)
    want = EMB0.copy()
    g = np.array([[4.0, 4.0], [2.0, 2.0]])
    want[[1, 3]] -= f32(0.5) * g / np.sqrt(f32(0.1) + g * g)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sgd_sparse_update_skips_deduplication_and_sums_repeats():
    emb = tf.Variable(EMB0, name="emb")
    loss = tf.reduce_sum(tf.gather(emb, [1, 1, 3, 1]) * 2.0)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert "ScatterSub" in types and not types & {"Unique", "UnsortedSegmentSum"}, types
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        got = sess.run(emb)
    want = EMB0.copy()
    want[1] -= 0.5 * 6.0
    want[3] -= 0.5 * 2.0
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_slot_names_and_variables():
    w = tf.Variable(W0, name="w")
    b = tf.Variable(np.float64(0.5), name="b")
    with tf.name_scope("training"):
        expect = {
            tf.train.MomentumOptimizer(0.1, 0.9): {"momentum": "w/Momentum"},
            tf.train.AdagradOptimizer(0.1): {"accumulator": "w/Adagrad"},
            tf.train.AdadeltaOptimizer(): {"accum": "w/Adadelta", "accum_update": "w/Adadelta_1"},
            tf.train.AdamOptimizer(): {"m": "w/Adam", "v": "w/Adam_1"},
            tf.train.RMSPropOptimizer(0.1): {"rms": "w/RMSProp", "momentum": "w/RMSProp_1"},
            tf.train.FtrlOptimizer(0.1): {"accum": "w/Ftrl", "linear": "w/Ftrl_1"},
        }
        for opt, slots in expect.items():
            opt.minimize(_loss(w, b))
            assert opt.get_slot_names() == sorted(slots)
            for slot, op_name in slots.items():
                v = opt.get_slot(w, slot)
                assert v.op.name == op_name, (type(opt).__name__, slot)
                assert not v.trainable and v.get_shape().as_list() == [3]
    trainable = {v.op.name for v in tf.trainable_variables()}
    assert trainable == {"w", "b"}
    names = {v.op.name for v in tf.global_variables()}
    assert {"training/beta1_power", "training/beta2_power"} <= names  # name-scoped, as in TF


def test_adam_beta_powers_update():
    w = tf.Variable([1.0, 2.0])
    opt = tf.train.AdamOptimizer(0.01, beta1=0.5, beta2=0.25)
    train = opt.minimize(tf.reduce_sum(w * w))
    b1, b2 = opt._get_beta_accumulators()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        np.testing.assert_allclose(sess.run([b1, b2]), [0.125, 0.25 ** 3])


def test_minimize_var_list_and_errors():
    w = tf.Variable(W0, name="w")
    b = tf.Variable(np.float64(0.5), name="b")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(_loss(w, b), var_list=[b])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_array_equal(sess.run(w), W0)
        assert sess.run(b) == pytest.approx(0.5 - f32(0.1) * 2 * (0.5 - 1.0))
    other = tf.Variable(1.0, name="unused")
    with pytest.raises(ValueError, match="No gradients provided"):
        tf.train.MomentumOptimizer(0.1, 0.9).minimize(_loss(w, b), var_list=[other])
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)


def test_learning_rate_tensor_and_callable():
    w = tf.Variable(np.float64(1.0))
    lr = tf.placeholder(tf.float32, [])
    train = tf.train.MomentumOptimizer(lr, 0.0).minimize(w * w)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.25})
        assert sess.run(w) == pytest.approx(0.5)


# ---- learning-rate decay and the global step -------------------------------------------------
def test_exponential_decay():
    step = tf.Variable(0, trainable=False)
    lr = tf.train.exponential_decay(0.1, step, 10, 0.5)
    stair = tf.train.exponential_decay(0.1, step, 10, 0.5, staircase=True)
    assert lr.dtype == tf.float32
    with tf.Session() as sess:
        sess.run(step.initializer)
        for s in (0, 5, 15, 30):
            sess.run(step.assign(s))
            got, got_stair = sess.run([lr, stair])
            assert got == pytest.approx(0.1 * 0.5 ** (s / 10), rel=1e-6)
            assert got_stair == pytest.approx(0.1 * 0.5 ** (s // 10), rel=1e-6)


def test_other_decays():
    step = tf.placeholder(tf.int32, [])
    inv = tf.train.inverse_time_decay(1.0, step, 2, 0.5)
    nat = tf.train.natural_exp_decay(1.0, step, 2, 0.5, staircase=True)
    poly = tf.train.polynomial_decay(1.0, step, 10, end_learning_rate=0.0, power=2.0)
    piece = tf.train.piecewise_constant(step, [5, 10], [1.0, 0.5, 0.1])
    with tf.Session() as sess:
        for s in (0, 3, 5, 6, 10, 20):
            got = sess.run([inv, nat, poly, piece], {step: s})
            want = [1 / (1 + 0.5 * s / 2), np.exp(-0.5 * (s // 2)),
                    (1 - min(s, 10) / 10) ** 2, 1.0 if s <= 5 else 0.5 if s <= 10 else 0.1]
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"step {s}")
    with pytest.raises(ValueError, match="one more"):
        tf.train.piecewise_constant(step, [5], [1.0])
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_global_step_helpers():
    assert tf.train.get_global_step() is None
    step = tf.train.create_global_step()
    assert step.op.name == "global_step" and step.dtype.base_dtype == tf.int64
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    assert step in tf.get_collection(tf.GraphKeys.GLOBAL_STEP)
    assert step not in tf.trainable_variables()
    with pytest.raises(ValueError, match="already exists"):
        tf.train.create_global_step()
    w = tf.Variable(1.0)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        assert tf.train.global_step(sess, step) == 2


def test_global_step_found_by_name_and_checked():
    tf.Variable(0, name="global_step", trainable=False)
    assert tf.train.get_global_step().name == "global_step:0"
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match="integer"):
            tf.train.get_global_step()


@pytest.mark.parametrize("nesterov", [False, True])
def test_adam_in_place_update_matches_the_rule(nesterov):
    from tensorflux.training import training_ops
    rng = np.random.default_rng(0)
    var, m, v, grad = (rng.random(50).astype(np.float32) for _ in range(4))
    scalars = [np.float32(x) for x in (0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-8)]
    attrs = {"use_nesterov": nesterov}
    want = training_ops._adam(attrs, var, m, v, *scalars, grad)
    got = var.copy(), m.copy(), v.copy()
    training_ops._adam_in_place(attrs, *got, *scalars, grad)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("size", [0, 7, (1 << 16) + 3])  # empty, one block, a partial block
def test_blocked_in_place_updates_match_the_rules(nesterov, size):
    from tensorflux.training import training_ops
    rng = np.random.default_rng(1)
    attrs = {"use_nesterov": nesterov}
    var, accum, grad, m, v = (rng.random(size).astype(np.float32) for _ in range(5))
    lr, momentum = np.float32(0.1), np.float32(0.9)
    adam = tuple(np.float32(x) for x in (0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-8))
    cases = [(training_ops._adam, training_ops._adam_in_place, (var, m, v), adam + (grad,)),
             (training_ops._momentum, training_ops._momentum_in_place,
              (var, accum), (lr, grad, momentum)),
             (training_ops._gradient_descent, training_ops._gradient_descent_in_place,
              (var,), (lr, grad))]
    for rule, in_place, buffers, rest in cases:
        want = rule(attrs, *buffers, *rest)
        got = tuple(b.copy() for b in buffers)
        in_place(attrs, *got, *rest)
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
