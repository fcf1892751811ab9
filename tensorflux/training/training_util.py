"""The global step: a scalar int variable counting training steps (`tf.train.global_step`...)."""
from tensorflux.framework import dtypes
from tensorflux.framework import ops


def global_step(sess, global_step_tensor):
    """The current value of `global_step_tensor` as a Python int."""
    return int(sess.run(global_step_tensor))


def get_global_step(graph=None):
    """The global step variable of `graph` (collection GLOBAL_STEP, else tensor
    'global_step:0'), or None if there is none."""
    graph = graph or ops.get_default_graph()
    candidates = graph.get_collection(ops.GraphKeys.GLOBAL_STEP)
    if len(candidates) > 1:
        raise TypeError(f"Multiple tensors in global_step collection: {candidates}")
    if candidates:
        step = candidates[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    assert_global_step(step)
    return step


def assert_global_step(global_step_tensor):
    """TypeError unless `global_step_tensor` is a scalar integer Variable or Tensor."""
    from tensorflux.ops import variables
    if not isinstance(global_step_tensor, (variables.Variable, ops.Tensor)):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: "
                        f"{global_step_tensor}.")
    dtype = global_step_tensor.dtype.base_dtype
    if not dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: {dtype.name}")
    if global_step_tensor.get_shape().ndims not in (None, 0):
        raise TypeError(f"Existing \"global_step\" is not scalar: "
                        f"{global_step_tensor.get_shape()}")


def create_global_step(graph=None):
    """Creates the int64 global step variable (in GLOBAL_VARIABLES and GLOBAL_STEP)."""
    from tensorflux.ops import init_ops
    from tensorflux.ops import variable_scope
    graph = graph or ops.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("\"global_step\" already exists.")
    with graph.as_default(), ops.name_scope(None):
        return variable_scope.get_variable(
            ops.GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
            initializer=init_ops.zeros_initializer(), trainable=False,
            collections=[ops.GraphKeys.GLOBAL_VARIABLES, ops.GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The global step of `graph`, created if missing."""
    graph = graph or ops.get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)
