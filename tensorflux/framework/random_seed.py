"""Graph-level and op-level random seeds, with TensorFlow 1.x's rules.

`set_random_seed(s)` stores the graph-level seed on the default graph. `get_seed(op_seed)` turns
the pair (graph seed, op seed) into the (seed, seed2) attrs random ops carry:

  graph seed set, op seed None -> (graph seed, the graph's last op id): fixed per op position
  graph seed set, op seed set  -> (graph seed, op seed)
  only the op seed set         -> (DEFAULT_GRAPH_SEED, op seed)
  neither                      -> (None, None): attrs 0, 0, a fresh random stream each session
"""
from tensorflux.framework import ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def get_seed(op_seed):
    """The (seed, seed2) pair for a random op created now in the default graph."""
    graph = ops.get_default_graph()
    graph_seed = graph.seed
    if graph_seed is not None:
        seeds = (int(graph_seed), int(graph._last_id if op_seed is None else op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        return None, None
    if seeds == (0, 0):  # (0, 0) means "nondeterministic" to kernels; keep it deterministic
        return 0, _MAXINT32
    return seeds


def set_random_seed(seed):
    """Sets the graph-level random seed of the default graph (None clears it)."""
    ops.get_default_graph().seed = None if seed is None else int(seed)
