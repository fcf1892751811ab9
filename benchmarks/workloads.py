"""The benchmark workloads: graph builders shared by tensorflux and TensorFlow, and runners.

A runner method builds one workload and returns `(step, op_count)`: `step()` runs one training
(or inference) step; op_count is the graph's size (None where there is no graph). The graph
builders take the framework module `tf`, so tensorflux and `tf.compat.v1` run the same code.
"""
import os

import numpy as np

BATCH, PIXELS, CLASSES = 100, 784, 10
CHAIN_STEPS, CHAIN_WIDTH = 100, 10
MLP_HIDDEN = 256
# benchmarks/run.py --threads 1: every framework computes on one thread (BLAS, TF's pools, torch)
ONE_THREAD = os.environ.get("TENSORFLUX_BENCH_THREADS") == "1"
MATMUL_N = 2048


# ---- shared inputs -------------------------------------------------------------------------
def _mnist_batch():
    """An MNIST-like batch: ~19% of pixels lit (as in MNIST), values in [0, 1).

    Dense uniform noise would make the slide's summed loss at rate 0.01 overflow the softmax
    into log(0) = -inf and NaN within a few steps, timing NaN arithmetic instead.
    """
    rng = np.random.default_rng(0)
    lit = rng.random((BATCH, PIXELS)) < 0.19
    images = (rng.random((BATCH, PIXELS)) * lit).astype(np.float32)
    labels = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, BATCH)]
    return images, labels


def _chain_inputs():
    rng = np.random.default_rng(1)
    return (rng.uniform(-1, 1, CHAIN_WIDTH).astype(np.float32),
            rng.uniform(0.5, 1.0, CHAIN_WIDTH).astype(np.float32),
            rng.uniform(-0.1, 0.1, CHAIN_WIDTH).astype(np.float32))


# ---- graph builders shared by tensorflux and TensorFlow (same API) ------------------------
def _graph_mnist(tf, placeholder, optimizer):
    x = placeholder(tf.float32, [None, PIXELS])
    y_ = placeholder(tf.float32, [None, CLASSES])
    w = tf.Variable(tf.zeros([PIXELS, CLASSES]))
    b = tf.Variable(tf.zeros([CLASSES]))
    y = tf.nn.softmax(tf.matmul(x, w) + b)
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y))
    return x, y_, optimizer(0.01).minimize(cross_entropy)


def _graph_chain(tf, placeholder):
    x = placeholder(tf.float32, [CHAIN_WIDTH])
    x0 = x
    w = placeholder(tf.float32, [CHAIN_WIDTH])
    b = placeholder(tf.float32, [CHAIN_WIDTH])
    for i in range(CHAIN_STEPS):
        x = tf.add(tf.multiply(x, w), b)
        if i % 2:
            x = tf.negative(x)
    return (x0, w, b), x


def _graph_chain_const(tf, placeholder):
    """100 x (x = tanh(x) * 0.9 + 0.01; x = sigmoid(x) - 0.25): each Python number becomes a
    Const op, as in 2016 code, so the graph is half constants."""
    x = x0 = placeholder(tf.float32, [CHAIN_WIDTH])
    for _ in range(CHAIN_STEPS):
        x = tf.tanh(x) * 0.9 + 0.01
        x = tf.sigmoid(x) - 0.25
    return (x0,), x


def _graph_mlp(tf, placeholder):
    """A 2016-style MLP step: 784-256-256-10 relu, softmax cross-entropy, gradient descent."""
    x = placeholder(tf.float32, [None, PIXELS])
    y_ = placeholder(tf.float32, [None, CLASSES])
    h = x
    sizes = (PIXELS, MLP_HIDDEN, MLP_HIDDEN, CLASSES)
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1, seed=10 + k))
        h = tf.matmul(h, w) + tf.Variable(tf.zeros([n_out]))
        if n_out != CLASSES:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=h))
    return (x, y_), tf.train.GradientDescentOptimizer(0.1).minimize(loss)


def _matmul_inputs():
    rng = np.random.default_rng(8)
    return (rng.standard_normal((MATMUL_N, MATMUL_N)).astype(np.float32),
            rng.standard_normal((MATMUL_N, MATMUL_N)).astype(np.float32))


# ---- the tutorials' training steps (issue 5), built with the same code on both frameworks ----
DEEP_BATCH = 50
CIFAR_BATCH, CIFAR_SIZE = 128, 24
PTB_BATCH, PTB_STEPS, PTB_HIDDEN, PTB_LAYERS, PTB_VOCAB = 20, 20, 200, 2, 10000
W2V_BATCH, W2V_EMBED, W2V_VOCAB, W2V_SAMPLED = 128, 128, 50000, 64


def _mnist_deep_batch():
    images, labels = _mnist_batch()
    return images[:DEEP_BATCH], labels[:DEEP_BATCH]


def _cifar_batch():
    rng = np.random.default_rng(2)
    images = rng.standard_normal((CIFAR_BATCH, CIFAR_SIZE, CIFAR_SIZE, 3)).astype(np.float32)
    return images, rng.integers(0, 10, CIFAR_BATCH).astype(np.int32)


def _ptb_batch():
    rng = np.random.default_rng(3)
    words = rng.integers(0, PTB_VOCAB, (PTB_BATCH, PTB_STEPS + 1)).astype(np.int32)
    return words[:, :-1], words[:, 1:]


def _word2vec_batch():
    rng = np.random.default_rng(4)
    # Zipf-like word ids, as a frequency-sorted vocabulary gives.
    ids = np.minimum(rng.zipf(1.3, (2, W2V_BATCH)) - 1, W2V_VOCAB - 1).astype(np.int32)
    return ids[0], ids[1].reshape(W2V_BATCH, 1)


def _weight(tf, shape, stddev, wd=None):
    var = tf.Variable(tf.truncated_normal(shape, stddev=stddev, seed=len(shape)))
    if wd is not None:
        tf.add_to_collection("losses", tf.multiply(tf.nn.l2_loss(var), wd))
    return var


def _conv_relu(tf, x, shape, stddev, bias):
    kernel = _weight(tf, shape, stddev)
    conv = tf.nn.conv2d(x, kernel, [1, 1, 1, 1], padding="SAME")
    return tf.nn.relu(conv + tf.Variable(tf.constant(bias, shape=[shape[-1]])))


def _graph_mnist_deep(tf, placeholder):
    """Deep MNIST for experts: 2 x (conv 5x5 + relu + 2x2 max pool), fc 1024, dropout, Adam."""
    x = placeholder(tf.float32, [None, PIXELS])
    y_ = placeholder(tf.float32, [None, CLASSES])
    keep_prob = placeholder(tf.float32)
    pool = lambda h: tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], padding="SAME")  # noqa: E731
    h = pool(_conv_relu(tf, tf.reshape(x, [-1, 28, 28, 1]), [5, 5, 1, 32], 0.1, 0.1))
    h = pool(_conv_relu(tf, h, [5, 5, 32, 64], 0.1, 0.1))
    h = tf.reshape(h, [-1, 7 * 7 * 64])
    h = tf.nn.relu(tf.matmul(h, _weight(tf, [7 * 7 * 64, 1024], 0.1))
                   + tf.Variable(tf.constant(0.1, shape=[1024])))
    h = tf.nn.dropout(h, keep_prob)
    logits = (tf.matmul(h, _weight(tf, [1024, CLASSES], 0.1))
              + tf.Variable(tf.constant(0.1, shape=[CLASSES])))
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits))
    return (x, y_, keep_prob), tf.train.AdamOptimizer(1e-4).minimize(loss)


def _graph_cifar10(tf, placeholder):
    """The CIFAR-10 tutorial model: conv-pool-lrn, conv-lrn-pool, fc 384, fc 192, softmax
    linear; cross-entropy plus weight decay; gradient descent, then variable moving averages."""
    images = placeholder(tf.float32, [CIFAR_BATCH, CIFAR_SIZE, CIFAR_SIZE, 3])
    labels = placeholder(tf.int32, [CIFAR_BATCH])
    lrn = lambda h: tf.nn.lrn(h, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)  # noqa: E731
    pool = lambda h: tf.nn.max_pool(h, [1, 3, 3, 1], [1, 2, 2, 1], padding="SAME")  # noqa: E731
    h = lrn(pool(_conv_relu(tf, images, [5, 5, 3, 64], 5e-2, 0.0)))
    h = pool(lrn(_conv_relu(tf, h, [5, 5, 64, 64], 5e-2, 0.1)))
    h = tf.reshape(h, [CIFAR_BATCH, -1])
    dim = tf.dimension_value(h.get_shape()[1])
    for size, last in ((384, dim), (192, 384)):
        h = tf.nn.relu(tf.matmul(h, _weight(tf, [last, size], 0.04, wd=0.004))
                       + tf.Variable(tf.constant(0.1, shape=[size])))
    logits = (tf.matmul(h, _weight(tf, [192, 10], 1 / 192.0, wd=0.0))
              + tf.Variable(tf.constant(0.0, shape=[10])))
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    tf.add_to_collection("losses", tf.reduce_mean(xent))
    total_loss = tf.add_n(tf.get_collection("losses"))
    step = tf.Variable(0, trainable=False)
    apply_op = tf.train.GradientDescentOptimizer(0.1).minimize(total_loss, global_step=step)
    averages = _moving_average_class(tf)(0.9999, step)
    with tf.control_dependencies([apply_op]):
        train_op = averages.apply(tf.trainable_variables())
    return (images, labels), train_op


def _moving_average_class(tf):
    if hasattr(tf.train, "ExponentialMovingAverage"):
        return tf.train.ExponentialMovingAverage
    from tensorflux.training.moving_averages import ExponentialMovingAverage
    return ExponentialMovingAverage


def _lstm_layer(tf, inputs, c, h, size, index):
    """One BasicLSTMCell step (forget bias 0) written out with ops, so both frameworks run the
    same graph (TensorFlow 2.21's tf.compat.v1.nn.rnn_cell needs Keras 2)."""
    fan_in = tf.dimension_value(inputs.get_shape()[1]) + size
    w = tf.get_variable("lstm_%d_w" % index, [fan_in, 4 * size])
    b = tf.get_variable("lstm_%d_b" % index, [4 * size], initializer=tf.zeros_initializer())
    gates = tf.matmul(tf.concat([inputs, h], 1), w) + b
    i, j, f, o = tf.split(gates, 4, 1)
    c = c * tf.sigmoid(f) + tf.sigmoid(i) * tf.tanh(j)
    return c, tf.tanh(c) * tf.sigmoid(o)


def _graph_ptb_small(tf, placeholder):
    """PTB small: embedding, 2-layer LSTM 200 unrolled 20 steps, softmax over 10000 words,
    gradients clipped to global norm 5, gradient descent."""
    inputs = placeholder(tf.int32, [PTB_BATCH, PTB_STEPS])
    targets = placeholder(tf.int32, [PTB_BATCH, PTB_STEPS])
    with tf.variable_scope("ptb", initializer=tf.random_uniform_initializer(-0.1, 0.1, seed=5)):
        embedded = tf.nn.embedding_lookup(
            tf.get_variable("embedding", [PTB_VOCAB, PTB_HIDDEN]), inputs)
        state = [(tf.zeros([PTB_BATCH, PTB_HIDDEN]),) * 2 for _ in range(PTB_LAYERS)]
        outputs = []
        for t in range(PTB_STEPS):
            x = tf.squeeze(tf.slice(embedded, [0, t, 0], [-1, 1, -1]), [1])
            for layer in range(PTB_LAYERS):
                with tf.variable_scope("step", reuse=t > 0):
                    state[layer] = _lstm_layer(tf, x, *state[layer], PTB_HIDDEN, layer)
                x = state[layer][1]
            outputs.append(x)
        output = tf.reshape(tf.concat(outputs, 1), [-1, PTB_HIDDEN])
        logits = tf.matmul(output, tf.get_variable("softmax_w", [PTB_HIDDEN, PTB_VOCAB]))
        logits += tf.get_variable("softmax_b", [PTB_VOCAB])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.reshape(targets, [-1]), logits=logits)
    cost = tf.reduce_sum(loss) / PTB_BATCH
    tvars = tf.trainable_variables()
    grads, _ = tf.clip_by_global_norm(tf.gradients(cost, tvars), 5.0)
    train_op = tf.train.GradientDescentOptimizer(1.0).apply_gradients(zip(grads, tvars))
    return (inputs, targets), train_op


def _graph_word2vec(tf, placeholder):
    """word2vec_basic: embedding_lookup, nce_loss with 64 sampled negatives, gradient descent."""
    inputs = placeholder(tf.int32, [W2V_BATCH])
    labels = placeholder(tf.int32, [W2V_BATCH, 1])
    embeddings = tf.Variable(tf.random_uniform([W2V_VOCAB, W2V_EMBED], -1.0, 1.0, seed=6))
    embed = tf.nn.embedding_lookup(embeddings, inputs)
    nce_w = tf.Variable(tf.truncated_normal([W2V_VOCAB, W2V_EMBED], stddev=W2V_EMBED ** -0.5,
                                            seed=7))
    nce_b = tf.Variable(tf.zeros([W2V_VOCAB]))
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_w, biases=nce_b, labels=labels,
                                         inputs=embed, num_sampled=W2V_SAMPLED,
                                         num_classes=W2V_VOCAB))
    return (inputs, labels), tf.train.GradientDescentOptimizer(1.0).minimize(loss)


# ---- frameworks --------------------------------------------------------------------------
class TensorfluxRunner:
    name = "tensorflux"

    def __init__(self):
        import tensorflux
        self.tf = tensorflux
        if ONE_THREAD:  # the big kernels' own threads too (ops/intra_op.py), not just BLAS's
            from tensorflux.ops import intra_op
            intra_op.max_threads = 1

    def _session(self, graph):
        return self.tf.Session(graph=graph)

    def mnist_softmax(self):
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            x, y_, train = _graph_mnist(tf, tf.placeholder, tf.train.GradientDescentOptimizer)
            init = tf.initialize_all_variables()
        sess = self._session(graph)
        sess.run(init)
        images, labels = _mnist_batch()
        feed = {x: images, y_: labels}
        return lambda: sess.run(train, feed), None

    def run_overhead(self):
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            a = tf.placeholder(tf.float32, [])
            b = tf.placeholder(tf.float32, [])
            c = a + b
        sess = self._session(graph)
        feed = {a: 1.0, b: 2.0}
        return lambda: sess.run(c, feed), None

    def chain100(self):
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            holders, out = _graph_chain(tf, tf.placeholder)
        sess = self._session(graph)
        feed = dict(zip(holders, _chain_inputs()))
        return lambda: sess.run(out, feed), len(graph.get_operations())

    def chain_const(self):
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            holders, out = _graph_chain_const(tf, tf.placeholder)
        sess = self._session(graph)
        feed = dict(zip(holders, _chain_inputs()[:1]))
        return lambda: sess.run(out, feed), len(graph.get_operations())

    def matmul2048(self):
        """One 2048x2048 float32 product of two variables, fetched (no feeds to copy)."""
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            a, b = (tf.Variable(v) for v in _matmul_inputs())
            product = tf.matmul(a, b)
            init = tf.global_variables_initializer()
        sess = self._session(graph)
        sess.run(init)
        return lambda: sess.run(product), len(graph.get_operations())

    def mlp(self):
        images, labels = _mnist_batch()
        return self._tutorial_step(_graph_mlp, (images, labels))

    def _tutorial_step(self, build, batch):
        """Builds a tutorial graph in a fresh graph; the step runs its train op on one batch."""
        tf = self.tf
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(0)
            holders, train_op = build(tf, tf.placeholder)
            init = tf.global_variables_initializer()
        sess = self._session(graph)
        sess.run(init)
        feed = dict(zip(holders, batch))
        return lambda: sess.run(train_op, feed), len(graph.get_operations())

    def mnist_deep(self):
        return self._tutorial_step(_graph_mnist_deep, _mnist_deep_batch() + (0.5,))

    def cifar10(self):
        return self._tutorial_step(_graph_cifar10, _cifar_batch())

    def ptb_small(self):
        return self._tutorial_step(_graph_ptb_small, _ptb_batch())

    def word2vec(self):
        return self._tutorial_step(_graph_word2vec, _word2vec_batch())


class TensorFlowRunner(TensorfluxRunner):
    name = "tensorflow"

    def __init__(self):
        import tensorflow
        self.tf = tensorflow.compat.v1
        self.version = tensorflow.__version__

    def _session(self, graph):
        config = self.tf.ConfigProto()
        if ONE_THREAD:
            config.intra_op_parallelism_threads = config.inter_op_parallelism_threads = 1
        return self.tf.Session(graph=graph, config=config)


class TorchRunner:
    name = "torch"

    def __init__(self):
        import torch
        self.torch = torch
        self.version = torch.__version__
        if ONE_THREAD:
            torch.set_num_threads(1)

    def mnist_softmax(self):
        torch = self.torch
        images, labels = (torch.from_numpy(a) for a in _mnist_batch())
        w = torch.zeros(PIXELS, CLASSES, requires_grad=True)
        b = torch.zeros(CLASSES, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=0.01)

        def step():
            opt.zero_grad()
            y = torch.softmax(images @ w + b, dim=1)
            loss = -(labels * torch.log(y)).sum()
            loss.backward()
            opt.step()
        return step, None

    def run_overhead(self):
        torch = self.torch

        def step():
            return (torch.as_tensor(np.float32(1.0)) + torch.as_tensor(np.float32(2.0))).numpy()
        return step, None

    def chain100(self):
        torch = self.torch
        x0, w, b = _chain_inputs()

        def step():
            x = torch.from_numpy(x0)
            tw, tb = torch.from_numpy(w), torch.from_numpy(b)
            for i in range(CHAIN_STEPS):
                x = torch.add(torch.mul(x, tw), tb)
                if i % 2:
                    x = torch.neg(x)
            return x.numpy()
        return step, None

    def chain_const(self):
        torch = self.torch
        x0 = _chain_inputs()[0]

        def step():
            x = torch.from_numpy(x0)
            for _ in range(CHAIN_STEPS):
                x = torch.tanh(x) * 0.9 + 0.01
                x = torch.sigmoid(x) - 0.25
            return x.numpy()
        return step, None

    def matmul2048(self):
        a, b = (self.torch.from_numpy(v) for v in _matmul_inputs())
        return lambda: (a @ b).numpy(), None

    def mlp(self):
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(PIXELS, MLP_HIDDEN), nn.ReLU(),
                              nn.Linear(MLP_HIDDEN, MLP_HIDDEN), nn.ReLU(),
                              nn.Linear(MLP_HIDDEN, CLASSES))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        images, labels = (torch.from_numpy(a) for a in _mnist_batch())

        def step():
            opt.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            opt.step()
        return step, None

    def ptb_small(self):
        """The same step as _graph_ptb_small: the LSTM math written out, clip, SGD 1.0."""
        torch = self.torch
        gen = torch.Generator().manual_seed(5)
        uniform = lambda *shape: ((torch.rand(*shape, generator=gen) * 0.2 - 0.1)  # noqa: E731
                                  .requires_grad_())
        emb = uniform(PTB_VOCAB, PTB_HIDDEN)
        cells = [(uniform(2 * PTB_HIDDEN, 4 * PTB_HIDDEN),
                  torch.zeros(4 * PTB_HIDDEN, requires_grad=True)) for _ in range(PTB_LAYERS)]
        soft_w, soft_b = uniform(PTB_HIDDEN, PTB_VOCAB), uniform(PTB_VOCAB)
        params = [emb, soft_w, soft_b] + [p for cell in cells for p in cell]
        opt = torch.optim.SGD(params, lr=1.0)
        inputs, targets = (torch.from_numpy(a.astype(np.int64)) for a in _ptb_batch())

        def step():
            opt.zero_grad()
            embedded = emb[inputs]
            state = [(torch.zeros(PTB_BATCH, PTB_HIDDEN),) * 2 for _ in range(PTB_LAYERS)]
            outputs = []
            for t in range(PTB_STEPS):
                x = embedded[:, t]
                for layer, (w, b) in enumerate(cells):
                    c, h = state[layer]
                    i, j, f, o = (torch.cat([x, h], 1) @ w + b).chunk(4, 1)
                    c = c * torch.sigmoid(f) + torch.sigmoid(i) * torch.tanh(j)
                    x = torch.tanh(c) * torch.sigmoid(o)
                    state[layer] = (c, x)
                outputs.append(x)
            logits = torch.cat(outputs, 1).reshape(-1, PTB_HIDDEN) @ soft_w + soft_b
            loss = torch.nn.functional.cross_entropy(logits, targets.reshape(-1),
                                                     reduction="sum") / PTB_BATCH
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
        return step, None

    def mnist_deep(self):
        torch = self.torch
        nn = torch.nn
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, CLASSES))
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        images, labels = _mnist_deep_batch()
        x = torch.from_numpy(images).reshape(-1, 1, 28, 28)
        y = torch.from_numpy(labels.argmax(1))

        def step():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return step, None




class NumpyRunner:
    """NumPy's own `a @ b`: the GEMM throughput the matmul2048 workload is measured against."""
    name = "numpy"

    def __init__(self):
        self.version = np.__version__

    def matmul2048(self):
        a, b = _matmul_inputs()
        return lambda: a @ b, None


RUNNERS = {cls.name: cls for cls in (TensorfluxRunner, TensorFlowRunner, TorchRunner,
                                     NumpyRunner)}
