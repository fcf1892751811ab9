"""Helpers of the optimizer tests: sessions at L0 and L1, running a graph both ways."""
import numpy as np

import tensorflux as tf
from tensorflux.framework import protos

L0 = tf.OptimizerOptions.L0
ON, OFF = protos.RewriterConfig.ON, protos.RewriterConfig.OFF
NO_MEM_OPT = protos.RewriterConfig.NO_MEM_OPT


def config(level=tf.OptimizerOptions.L1, **rewrite):
    """A ConfigProto at `level` with RewriterConfig fields set (e.g. remapping=OFF)."""
    cfg = tf.ConfigProto()
    cfg.graph_options.optimizer_options.opt_level = level
    for name, value in rewrite.items():
        setattr(cfg.graph_options.rewrite_options, name, value)
    return cfg


def plan_of(sess):
    """The one plan a session compiled so far (tests run one signature per session)."""
    plans = list(sess._plans.values())
    assert len(plans) == 1, f"expected one compiled plan, got {len(plans)}"
    return plans[0]


def run_both(fetches, feed=None, init=None, graph=None, steps=1, cfg=None):
    """Runs `fetches` `steps` times at L0 and with `cfg` (default L1) in fresh sessions.

    Returns:
      (L0 results, optimized results, the optimized plan's optimizer_stats)."""
    graph = graph or tf.get_default_graph()
    results = []
    stats = None
    for c in (config(L0), cfg or config()):
        with tf.Session(graph=graph, config=c) as sess:
            if init is not None:
                sess.run(init)
                sess._plans.clear()
            values = [sess.run(fetches, feed) for _ in range(steps)]
            stats = plan_of(sess).optimizer_stats
        results.append(values)
    return results[0], results[1], stats


def assert_same(a, b, exact=True):
    """Nested results equal (bit for bit when `exact`, else to float tolerance)."""
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y, exact)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
