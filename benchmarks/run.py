"""Step-time benchmarks: tensorflux next to TensorFlow (tf.compat.v1 graph mode) and PyTorch.

    python benchmarks/run.py [--min_time 1.0] [--workloads mnist_softmax,run_overhead,chain100]

Each workload is built once per framework; its step is timed call by call after a warm-up and
the median is reported, with the ratios tensorflux/TF and tensorflux/torch (above 1 means
tensorflux is slower). Peers that are not importable are skipped with a note.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BATCH, PIXELS, CLASSES = 100, 784, 10
CHAIN_STEPS, CHAIN_WIDTH = 100, 10


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


def _time_steps(step, min_time):
    for _ in range(10):
        step()
    times = []
    deadline = time.perf_counter() + min_time
    while len(times) < 20 or (time.perf_counter() < deadline and len(times) < 100000):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---- frameworks --------------------------------------------------------------------------
class TensorfluxRunner:
    name = "tensorflux"

    def __init__(self):
        import tensorflux
        self.tf = tensorflux

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


class TensorFlowRunner(TensorfluxRunner):
    name = "tensorflow"

    def __init__(self):
        import tensorflow
        self.tf = tensorflow.compat.v1
        self.version = tensorflow.__version__

    def _session(self, graph):
        config = self.tf.ConfigProto()
        return self.tf.Session(graph=graph, config=config)


class TorchRunner:
    name = "torch"

    def __init__(self):
        import torch
        self.torch = torch
        self.version = torch.__version__

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


WORKLOADS = {
    "mnist_softmax": "MNIST softmax train step (batch 100, 784x10)",
    "run_overhead": "Session.run overhead (one add of two fed scalars)",
    "chain100": f"chain of {CHAIN_STEPS} element-wise steps on [{CHAIN_WIDTH}]",
}


def _load_runners(names):
    runners, notes = [], []
    for cls in (TensorfluxRunner, TensorFlowRunner, TorchRunner):
        if cls.name not in names:
            continue
        try:
            runners.append(cls())
        except ImportError as e:
            notes.append(f"{cls.name}: skipped (not importable: {e})")
    return runners, notes


def _check_chain_agreement(runners):
    """The chain workload computes the same values everywhere (guards against a mis-built peer)."""
    results = {}
    for runner in runners:
        step, _ = runner.chain100()
        results[runner.name] = np.asarray(step())
    reference = results.get("tensorflux")
    for name, value in results.items():
        if reference is not None and not np.allclose(value, reference, rtol=1e-4, atol=1e-5):
            print(f"WARNING: chain100 result of {name} differs from tensorflux's")


def _ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.2f}x"


def _fmt(seconds):
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def run(workloads, frameworks, min_time):
    """Times each workload on each framework; returns {workload: {framework: seconds}}."""
    runners, notes = _load_runners(frameworks)
    for note in notes:
        print(note)
    for runner in runners:
        if hasattr(runner, "version"):
            print(f"{runner.name} {runner.version}")
    if "chain100" in workloads:
        _check_chain_agreement(runners)
    table = {}
    for workload in workloads:
        table[workload] = {}
        for runner in runners:
            step, op_count = getattr(runner, workload)()
            table[workload][runner.name] = _time_steps(step, min_time)
            if op_count is not None:
                print(f"{workload}: {runner.name} graph has {op_count} ops")
    _print_table(table)
    return table


def _print_table(table):
    header = (f"{'workload':<15}{'tensorflux us':>15}{'tensorflow us':>15}{'torch us':>12}"
              f"{'tfx/TF':>10}{'tfx/torch':>11}")
    print()
    print(header)
    print("-" * len(header))
    for workload, times in table.items():
        tfx, tf_, torch = (times.get(n) for n in ("tensorflux", "tensorflow", "torch"))
        print(f"{workload:<15}{_fmt(tfx):>15}{_fmt(tf_):>15}{_fmt(torch):>12}"
              f"{_ratio(tfx, tf_):>10}{_ratio(tfx, torch):>11}")
    print()
    for workload in table:
        print(f"  {workload}: {WORKLOADS[workload]}")
    print("  (median time per step in microseconds; ratios above 1x: tensorflux is slower)")


def main(argv=None):
    parser = argparse.ArgumentParser(description="tensorflux step-time benchmarks")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument("--frameworks", default="tensorflux,tensorflow,torch",
                        help="comma-separated subset of tensorflux, tensorflow, torch")
    parser.add_argument("--min_time", type=float, default=1.0,
                        help="seconds to time each workload on each framework")
    args = parser.parse_args(argv)
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    run(workloads, args.frameworks.split(","), args.min_time)


if __name__ == "__main__":
    main()
