"""Graph optimizations at plan-compile time (what TensorFlow's graph optimizer does).

Session compiles one plan per (feeds, fetches, targets) signature; the optimizer runs then,
once, never per step, and never changes the user's tf.Graph: it works on the pruned step.

  1. constant_folding.py: subgraphs of constants and known static shapes are evaluated once;
     their results become values the plan treats as fed. Runs for every plan.
  For inline plans (one device, synchronous kernels, no control flow: the common case), on a
  rewired copy of the step (graph.py):
  2. cse.py: duplicate nodes are merged;
  3. dependency.py: Identity and NoOp steps go; shape_memo.py (under constant folding): the
     shape arithmetic of run-time shapes is computed once per distinct shape;
  4. arithmetic.py: x*1, x+0, -(-x), transpose pairs read x; reshape.py: so does a Reshape
     to x's own shape; pad_concat.py: an AddN of Pads that tile the result (Slice gradients)
     is one concatenation; batched_sums.py: an AddN of products, reductions or other pads
     becomes one such op;
  5. matmul_bias.py: MatMul + bias adds into the product's buffer (one step); xent_scale.py:
     a cross entropy's backprop times a constant gradient is scaled inside the kernel;
     sparse_apply.py: a scatter update's constant scaling runs inside the scatter;
     fusion.py: element-wise chains become one generated NumPy function each;
  6. memory.py: a fused step may write into a dead input made by another fused step;
  7. views.py: Reshape, ExpandDims, Squeeze and Slice with constant arguments get kernels
     specialized to their shapes (an arithmetic rewrite);
  8. lanes.py: a big product whose result is read only much later runs on a second thread
     beside the steps in between (inter-op parallelism).
Each pass has its switch in ConfigProto.graph_options (options.py). A plan's `optimizer_stats`
counts what each pass did (for tests and curiosity).
"""
from tensorflux.ops import intra_op
from tensorflux.ops import lanes as lanes_lib
from tensorflux.runtime.optimizer import arithmetic
from tensorflux.runtime.optimizer import batched_sums
from tensorflux.runtime.optimizer import constant_folding
from tensorflux.runtime.optimizer import cse
from tensorflux.runtime.optimizer import dependency
from tensorflux.runtime.optimizer import fusion
from tensorflux.runtime.optimizer import lanes
from tensorflux.runtime.optimizer import matmul_bias
from tensorflux.runtime.optimizer import memory
from tensorflux.runtime.optimizer import pad_concat
from tensorflux.runtime.optimizer import reshape
from tensorflux.runtime.optimizer import shape_memo
from tensorflux.runtime.optimizer import sparse_apply
from tensorflux.runtime.optimizer import views
from tensorflux.runtime.optimizer import xent_scale
from tensorflux.runtime.optimizer.graph import PlanGraph
from tensorflux.runtime.optimizer.options import Settings

__all__ = ["Settings", "fold_constants", "lane_width", "rewrite"]


def lane_width():
    """The lanes a laned step gets: two, unless this process may use one CPU only (or the
    intra-op splitting is turned off, intra_op.max_threads = 1)."""
    return min(lanes_lib.STEP_LANES, intra_op.budget())


def fold_constants(order, feeds, fetches, targets, settings, make_context):
    """{tensor: read-only array}: the folded tensors the step reads (empty when folding is off)."""
    if settings is None or not settings.fold:
        return {}
    return constant_folding.fold(order, set(feeds), fetches, targets, settings.max_fold_bytes,
                                 make_context)


def rewrite(order, feeds, constants, fetches, targets, settings, context_for, device):
    """The nodes of an inline plan after the rewriting passes, and what each pass did.

    Args:
      order: the step's ops in topological order (folded ones already pruned away).
      feeds: the client's fed tensors; constants: the folded tensors and their values.
      fetches, targets: the step's fetched tensors and target ops.
      settings: a Settings; context_for(op, device), device: to give fused steps contexts.

    Returns:
      (list of graph.Node in execution order, {pass name: count}).
    """
    graph = PlanGraph(order, feeds, constants, fetches, targets)
    stats = {"nodes_before": len(order), "folded_values": len(constants)}
    if settings.cse:
        stats["cse"] = cse.run(graph)
    if settings.dependency:
        stats["dependency"] = dependency.run(graph)
    if settings.fold:
        stats["shape_memo"] = shape_memo.run(graph, context_for, device)
    if settings.arithmetic:
        stats["arithmetic"] = arithmetic.run(graph)
        stats["reshape"] = reshape.run(graph)
        stats["pad_concat"] = pad_concat.run(graph)
    if settings.batched_sums:
        stats["batched_sums"] = batched_sums.run(graph)
    stats["dead"] = graph.remove_dead()
    if settings.matmul_bias:
        stats["matmul_bias"] = matmul_bias.run(graph, context_for, device)
        stats["xent_scale"] = xent_scale.run(graph, device)
    if settings.fusion:
        stats["sparse_apply"] = sparse_apply.run(graph, device)
        stats["fusion_groups"], stats["fused_ops"] = fusion.run(graph)
        if settings.memory:
            stats["reused_buffers"] = memory.run(graph)
        fusion.finalize(graph, context_for, device)
    if settings.arithmetic:
        stats["views"] = views.run(graph, device)
    if settings.lanes:
        stats["lanes"] = lanes.run(graph, lane_width())
    stats["nodes"] = len(graph.nodes)
    return graph.nodes, stats
