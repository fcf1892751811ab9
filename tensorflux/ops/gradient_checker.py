"""Gradient checking: the symbolic Jacobian of y w.r.t. x next to a central-difference one.

`compute_gradient(x, x_shape, y, y_shape)` returns (theoretical, numerical), each a 2-D array
of shape [x_size, y_size] whose entry [i, j] is dy_j/dx_i (x and y flattened in row-major
order), as TensorFlow's `tf.test.compute_gradient` documents. The graph runs in the default
session, as in TensorFlow.

A complex x or y counts as twice as many reals, as in TensorFlow: element k is the pair of
entries (2k, 2k + 1), its real and imaginary part, and the Jacobians are real. A column of the
theoretical Jacobian is the backprop of a one-hot grad_ys of 1 (the real part) or i (the
imaginary part): TF's convention makes the gradient dL/dRe x + i dL/dIm x, which lands on the
rows (2k, 2k + 1) when viewed as reals.
"""
import numpy as np

from tensorflux.framework import ops
from tensorflux.framework.ops import IndexedSlicesValue

__all__ = ["compute_gradient", "compute_gradient_error"]


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


def _check_dtype(tensor, what):
    dtype = tensor.dtype.base_dtype
    if not (dtype.is_floating or dtype.is_complex):
        raise TypeError(f"compute_gradient needs a floating point {what}; {tensor.name} has "
                        f"dtype {dtype.name}")
    return dtype


def _real_size(tensor, shape):
    """How many reals the tensor holds (a complex element is two)."""
    return _size(shape) * (2 if tensor.dtype.base_dtype.is_complex else 1)


def _real_type(tensor):
    return np.dtype(tensor.dtype.base_dtype.as_numpy_dtype(0).real.dtype)


def _as_reals(array):
    """A flat real view: complex entries become (real, imaginary) pairs."""
    flat = np.ascontiguousarray(array).reshape(-1)
    return flat.view(flat.real.dtype) if flat.dtype.kind == "c" else flat


def _dense(value, shape):
    """A fetched gradient as a dense array of `shape` (sums repeated IndexedSlices rows)."""
    if isinstance(value, IndexedSlicesValue):
        dense = np.zeros(shape, dtype=np.asarray(value.values).dtype)
        np.add.at(dense, np.asarray(value.indices), np.asarray(value.values))
        return dense
    return np.asarray(value)


def _theoretical_jacobian(sess, x, x_shape, x_data, y, y_shape, dx, dy, feed):
    """Row-by-row backprop of one-hot dy: jacobian[:, j] = d y_j / d x."""
    y_size = _real_size(y, y_shape)
    x_size = _real_size(x, x_shape)
    jacobian = np.zeros((x_size, y_size), dtype=_real_type(x))
    if dx is None or y_size == 0 or x_size == 0:
        return jacobian  # y does not depend on x (or nothing to check)
    dy_data = np.zeros(y_shape, dtype=y.dtype.base_dtype.as_numpy_dtype)
    flat_dy = _as_reals(dy_data)  # a view: writing it writes dy_data
    run_feed = dict(feed)
    run_feed[x] = x_data
    for j in range(y_size):
        flat_dy[:] = 0
        flat_dy[j] = 1
        run_feed[dy] = dy_data
        grad = _dense(sess.run(dx, run_feed), x_shape)
        jacobian[:, j] = _as_reals(grad)
    return jacobian


def _numerical_jacobian(sess, x, x_shape, x_data, y, y_shape, delta, feed):
    """Central differences: jacobian[i, :] = (y(x + delta e_i) - y(x - delta e_i)) / 2 delta."""
    x_size = _real_size(x, x_shape)
    y_size = _real_size(y, y_shape)
    jacobian = np.zeros((x_size, y_size), dtype=_real_type(x))
    run_feed = dict(feed)
    x_pos = np.array(x_data, dtype=x.dtype.base_dtype.as_numpy_dtype)
    flat = _as_reals(x_pos)  # a view: each real (or real/imaginary part) in turn

    def y_at(value):
        flat[i] = value
        run_feed[x] = x_pos
        return _as_reals(np.asarray(sess.run(y, run_feed))).astype(np.float64)
    for i in range(x_size):
        original = flat[i]
        y_plus, y_minus = y_at(original + delta), y_at(original - delta)
        flat[i] = original
        jacobian[i, :] = (y_plus - y_minus) / (2 * delta)
    return jacobian


def _resolve_shape(tensor, shape, what):
    """The shape to use for x or y: `shape`, or the tensor's own static shape when `shape` is
    another layout of the same number of elements (TF 0.9 accepted it: its Jacobians flatten x
    and y row-major, so only the size matters). A different size is refused with TF's feed
    error for x."""
    static = tensor.get_shape()
    if static.is_compatible_with(shape):
        return list(shape)
    if static.is_fully_defined() and _size(static.as_list()) == _size(shape):
        return static.as_list()
    if what == "x":
        raise ValueError(f"Cannot feed value of shape {tuple(shape)} for Tensor {tensor.name}, "
                         f"which has shape {static} (compute_gradient's x_shape)")
    raise ValueError(f"compute_gradient: {what} {tensor.name} has static shape {static}, "
                     f"incompatible with the given {what}_shape {list(shape)}")


def _init_value(x, x_shape, given_shape, x_init_value):
    """x's starting value in x_shape (the tensor's layout); a given value may be in the layout
    of the x_shape argument instead."""
    np_dtype = x.dtype.base_dtype.as_numpy_dtype
    if x_init_value is None:
        value = np.random.random_sample(x_shape)
        if np.dtype(np_dtype).kind == "c":
            value = value + 1j * np.random.random_sample(x_shape)
        return value.astype(np_dtype)
    value = np.asarray(x_init_value, dtype=np_dtype)
    if tuple(value.shape) not in (tuple(x_shape), tuple(given_shape)):
        raise ValueError(f"x_init_value for {x.name} has shape {value.shape}, required "
                         f"x_shape {tuple(given_shape)}")
    return value.reshape(x_shape).copy()


def _as_tensor(value):
    if isinstance(value, ops.Tensor):
        return value
    return ops.convert_to_tensor(value)


def _feed_tensor(x):
    """The tensor to feed for x: a variable's value (its snapshot), else x itself."""
    if not isinstance(x, ops.Tensor) and hasattr(x, "value") and hasattr(x, "_ref"):
        return x.value()
    return _as_tensor(x)


def _default_session_for(graph):
    """The default session, which must run `graph` (as TensorFlow requires)."""
    sess = ops.get_default_session()
    if sess is None:
        raise ValueError("compute_gradient runs in the default session; call it inside "
                         "`with tf.Session():` (or a TestCase's test_session())")
    if sess.graph is not graph:
        raise ValueError("compute_gradient: the default session runs another graph than the "
                         "one holding y")
    return sess


def _jacobians_for_list(xs, x_shapes, y, y_shape, x_init_values, delta, init_targets,
                        extra_feed_dict):
    if len(xs) != len(x_shapes):
        raise ValueError(f"compute_gradient: {len(xs)} tensors in x but {len(x_shapes)} "
                         "shapes in x_shape")
    if x_init_values is None:
        x_init_values = [None] * len(xs)
    elif len(x_init_values) != len(xs):
        raise ValueError(f"compute_gradient: {len(xs)} tensors in x but {len(x_init_values)} "
                         "values in x_init_value")
    grad_targets = list(xs)
    xs = [_feed_tensor(x) for x in xs]
    y = _as_tensor(y)
    for x in xs:
        _check_dtype(x, "x")
    given_shapes = x_shapes
    x_shapes = [_resolve_shape(x, s, "x") for x, s in zip(xs, x_shapes)]
    _check_dtype(y, "y")
    y_shape = _resolve_shape(y, y_shape, "y")
    graph = y.graph
    feed = dict(extra_feed_dict or {})
    data = [_init_value(x, s, g, v)
            for x, s, g, v in zip(xs, x_shapes, given_shapes, x_init_values)]
    sess = _default_session_for(graph)
    with graph.as_default():
        if init_targets is not None:
            sess.run(init_targets)
        from tensorflux.autodiff.gradients import gradients
        from tensorflux.ops import array_ops
        dy = array_ops.placeholder(y.dtype.base_dtype, shape=list(y_shape), name="grad_check_dy")
        # Through an Identity: gradient functions may add control dependencies on grad.op,
        # and the session would then run the fed placeholder's own op.
        dxs = gradients(y, grad_targets, grad_ys=array_ops.identity(dy))
        results = []
        for i, (x, x_shape, dx) in enumerate(zip(xs, x_shapes, dxs)):
            base = dict(feed)
            for j, (other, value) in enumerate(zip(xs, data)):
                if j != i:
                    base[other] = value
            theoretical = _theoretical_jacobian(sess, x, x_shape, data[i], y, y_shape, dx, dy,
                                                base)
            numerical = _numerical_jacobian(sess, x, x_shape, data[i], y, y_shape, delta, base)
            results.append((theoretical, numerical))
    return results


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None,
                     extra_feed_dict=None):
    """The theoretical and numerical Jacobians of `y` with respect to `x`.

    Args:
      x: a tensor or variable, or a list of them (then x_shape and x_init_value are lists).
      x_shape: the shape of x (each x); as in TF 0.9, another shape with as many elements as
        x's fully known static shape is accepted (the Jacobian's rows are x flattened).
      y: the tensor to differentiate.
      y_shape: the shape of y (the same rule).
      x_init_value: the value(s) at which to differentiate; random in [0, 1) by default.
      delta: the central-difference step.
      init_targets: ops to run first (e.g. variable initializers).
      extra_feed_dict: more feeds (placeholders y depends on).

    Returns:
      (theoretical, numerical), each an array [x_size, y_size]; a list of such pairs if x is
      a list.
    """
    if isinstance(x, (list, tuple)):
        return _jacobians_for_list(list(x), list(x_shape), y, y_shape, x_init_value, delta,
                                   init_targets, extra_feed_dict)
    inits = None if x_init_value is None else [x_init_value]
    return _jacobians_for_list([x], [x_shape], y, y_shape, inits, delta, init_targets,
                               extra_feed_dict)[0]


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                           init_targets=None, extra_feed_dict=None):
    """The largest absolute difference between theoretical and numerical Jacobian entries."""
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                              extra_feed_dict)
    pairs = result if isinstance(x, (list, tuple)) else [result]
    error = 0.0
    for theoretical, numerical in pairs:
        if theoretical.size:
            diff = np.abs(theoretical.astype(np.float64) - numerical.astype(np.float64))
            error = max(error, float(np.max(diff)))
    return error

